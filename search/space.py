"""Search-space helpers that encode the tuning practices (DESIGN: the tuning wisdom).

Every helper keeps the space static: the same names and distributions in every trial, so
TPE can model them, and choices that depend on other choices are fractions, not lists.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import optuna

LEARNING_RATE_LOW = 1e-4


def suggest_learning_rate(
    trial: optuna.Trial, *, low: float = LEARNING_RATE_LOW, high: float = 1e-1
) -> float:
    """Log-uniform from ``low`` (1e-4: start very small and grow) to ``high``."""
    if low < LEARNING_RATE_LOW:
        raise ValueError(f"the learning rate's lower bound is {LEARNING_RATE_LOW}, but got {low}")
    return trial.suggest_float("learning_rate", low, high, log=True)


def suggest_batch_size(trial: optuna.Trial, *, low: int = 16, high: int = 256) -> int:
    """A power of two, searched as its exponent (Optuna refuses ``log=True`` with a step).

    The actual size is recorded as user attr ``batch_size`` so that people see it.
    """
    lo, hi = _log2_exact(low), _log2_exact(high)
    batch_size = 2 ** trial.suggest_int("log2_batch_size", lo, hi)
    trial.set_user_attr("batch_size", batch_size)
    return batch_size


def _log2_exact(n: int) -> int:
    k = round(math.log2(n)) if n > 0 else -1
    if k < 0 or 2**k != n:
        raise ValueError(f"batch size bounds must be powers of two, but got {n}")
    return k


def widest_fitting(count: Callable[[int], int], budget: int, low: int, high: int) -> int | None:
    """The largest width in ``[low, high]`` whose model has ``count(width) <= budget``.

    ``count`` must grow with the width; None when even ``low`` does not fit.
    """
    if count(low) > budget:
        return None
    while low < high:  # invariant: count(low) <= budget
        middle = (low + high + 1) // 2
        if count(middle) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


def width_from_fraction(fraction: float, low: int, widest: int | None) -> int:
    """Map a searched fraction in [0, 1] onto ``[low, widest]``; ``low`` when nothing fits."""
    if widest is None or widest <= low:
        return low
    return low + round(fraction * (widest - low))
