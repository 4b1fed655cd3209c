"""Pruners: the growth rule, a recorded reason for every prune, and the registry by name.

Steps are training examples seen (the same nominal checkpoints for every trial), values are
the study's metric. Every registry entry except ``none`` prunes a trial at once when it
reports NaN or +/-inf, and writes the user attr ``prune_reason`` (a sentence with numbers)
whenever it prunes. Pruners keep no state of their own: all they read is in storage, so a
resumed or distributed study prunes exactly as a single run would (DESIGN, convention 2).
"""

from __future__ import annotations

import abc
import bisect
import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
from optuna.pruners import BasePruner, HyperbandPruner, MedianPruner, NopPruner
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from search.errors import UsageError

PRUNE_REASON_ATTR = "prune_reason"

# The default's median rule judges only the last quarter of training. Earlier, a trial behind
# the median may be a slow starter that ends best (on synthetic curves a sigmoid at 0.74 vs a
# median of 0.81 halfway through ended at 0.90); until then the growth rule alone decides.
LATE_MEDIAN_FRACTION = 0.75
HYPERBAND_REDUCTION_FACTOR = 3

Describe = Callable[[Study, FrozenTrial], str]


def record_reason(study: Study, trial: FrozenTrial, reason: str) -> None:
    """Persist why ``trial`` was pruned.

    Gotcha: a pruner gets a FrozenTrial copy; ``FrozenTrial.set_user_attr`` changes only that
    copy, so the attr goes through the storage. The objective's live ``Trial.user_attrs`` is a
    cache and will not show it; read it back from ``study.trials``/the storage.
    """
    study._storage.set_trial_user_attr(trial._trial_id, PRUNE_REASON_ATTR, reason)


def diverged_reason(trial: FrozenTrial) -> str | None:
    """A reason if any reported value is NaN or infinite (even -inf when minimizing)."""
    for step in sorted(trial.intermediate_values):
        value = trial.intermediate_values[step]
        if not math.isfinite(value):
            return f"diverged: value {value} at step {step:,}"
    return None


def _sign(study: Study) -> float:
    """Multiply by this to make bigger mean better whatever the direction."""
    return 1.0 if study.direction == StudyDirection.MAXIMIZE else -1.0


def _best_signed(trial: FrozenTrial, sign: float) -> float | None:
    """The trial's best finite intermediate value (signed), else its final value, else None."""
    values = [sign * v for v in trial.intermediate_values.values() if math.isfinite(v)]
    if values:
        return max(values)
    if trial.value is not None and math.isfinite(trial.value):
        return sign * trial.value
    return None


class ExplainingPruner(BasePruner):
    """Base of the registry's pruners: divergence first, then ``reason``; records why."""

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        reason = diverged_reason(trial) or self.reason(study, trial)
        if reason is None:
            return False
        record_reason(study, trial, reason)
        return True

    @abc.abstractmethod
    def reason(self, study: Study, trial: FrozenTrial) -> str | None:
        """Why the trial should stop now, or None to let it run. Writes nothing itself."""


@dataclass(frozen=True)
class _Projection:
    best: float  # signed best-so-far at the trial's last step
    rate: float  # signed improvement per step over the last window
    accel: float  # signed change of rate per step (>= 0: only speeding up is extrapolated)
    value: float  # signed projected best at the final step


class GrowthPruner(ExplainingPruner):
    """Prune a trial whose metric grows too slowly to ever reach what completed trials reached.

    The rule, in "bigger is better" units (values are negated when minimizing):

    1. Read the trial's best-so-far curve, never the latest value: it is monotone, so a noisy
       dip changes nothing, and 0.0 is an ordinary value (a tagger that finds no entities yet).
    2. Its rate is the rise of that curve over the last window (``window_steps``), or over
       the last two windows when that is steeper (one flat report is not a stall); its
       acceleration is the last window's rate minus the previous one's, kept only if >= 0.
    3. Project to the final step of completed trials (``max_steps`` if none recorded one):
       ``best + rate*T + accel*T**2/2``. Learning curves are concave once they take off, so
       this over-estimates them: only a trial that even the optimistic projection puts short
       is pruned. The acceleration term is what spares a slow start that is speeding up (a
       sigmoid's foot), which a straight line would condemn; a steady crawl has none.
    4. Prune if the projection is below the ``quantile`` (0.5: the median) of completed
       trials' best values, less ``margin`` (metric units). Like is compared with like: the
       completed trials' best intermediate value, which is where their curve ended.

    Never prunes before ``n_warmup_steps``, before ``n_min_trials`` trials completed, before
    the trial's own reports span two windows (one with ``accelerate=False``), or at/after the
    final step (nothing left to save). Deterministic and stateless.
    """

    def __init__(
        self,
        *,
        window_steps: int,
        n_warmup_steps: int = 0,
        n_min_trials: int = 5,
        quantile: float = 0.5,
        margin: float = 0.0,
        max_steps: int | None = None,
        accelerate: bool = True,
    ) -> None:
        if window_steps < 1:
            raise ValueError(f"window_steps must be >= 1, but got {window_steps}")
        if n_warmup_steps < 0:
            raise ValueError(f"n_warmup_steps must be >= 0, but got {n_warmup_steps}")
        if n_min_trials < 1:
            raise ValueError(f"n_min_trials must be >= 1, but got {n_min_trials}")
        if not 0.0 <= quantile <= 1.0:
            raise ValueError(f"quantile must be in [0, 1], but got {quantile}")
        if not (math.isfinite(margin) and margin >= 0.0):
            raise ValueError(f"margin must be a finite number >= 0, but got {margin}")
        if max_steps is not None and max_steps < 1:
            raise ValueError(f"max_steps must be >= 1 or None, but got {max_steps}")
        self._window = window_steps
        self._n_warmup_steps = n_warmup_steps
        self._n_min_trials = n_min_trials
        self._quantile = quantile
        self._margin = margin
        self._max_steps = max_steps
        self._accelerate = accelerate

    def reason(self, study: Study, trial: FrozenTrial) -> str | None:
        step = trial.last_step
        if step is None or step < self._n_warmup_steps:
            return None
        sign = _sign(study)
        completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        finals = [v for t in completed if (v := _best_signed(t, sign)) is not None]
        if len(finals) < self._n_min_trials:
            return None
        last_steps = [t.last_step for t in completed if t.last_step is not None]
        final_step = max(last_steps, default=self._max_steps)
        if final_step is None or step >= final_step:
            return None
        projection = self._project(trial, sign, final_step)
        threshold = float(np.quantile(finals, self._quantile)) - self._margin
        if projection is None or projection.value >= threshold:
            return None
        return self._message(sign, step, final_step, projection, threshold, len(finals))

    def _project(self, trial: FrozenTrial, sign: float, final_step: int) -> _Projection | None:
        steps = sorted(trial.intermediate_values)
        best = np.maximum.accumulate([sign * trial.intermediate_values[s] for s in steps])
        now = len(steps) - 1
        ref = _index_at_or_before(steps, steps[now] - self._window)
        if ref is None:
            return None
        rate = (best[now] - best[ref]) / (steps[now] - steps[ref])
        accel = 0.0
        if self._accelerate:
            # Without a previous window we cannot tell a sigmoid's foot from a crawl: wait.
            before = _index_at_or_before(steps, steps[ref] - self._window)
            if before is None:
                return None
            previous_rate = (best[ref] - best[before]) / (steps[ref] - steps[before])
            accel = max(0.0, (rate - previous_rate) / ((steps[now] - steps[before]) / 2))
            # One flat report (a noisy dip under the best so far) must not read as a stall:
            # take the two-window rate when it is the more optimistic. Measured on CoNLL: a
            # trial reading 44, 57, 64, 62 was cut at epoch 1 and would have finished at 74.
            rate = max(rate, (best[now] - best[before]) / (steps[now] - steps[before]))
        horizon = final_step - steps[now]
        value = best[now] + rate * horizon + accel * horizon**2 / 2
        return _Projection(float(best[now]), float(rate), float(accel), float(value))

    def _message(
        self, sign: float, step: int, final_step: int, p: _Projection, threshold: float, n: int
    ) -> str:
        verb, op = ("rising", "<") if sign > 0 else ("falling", ">")
        label = "median" if self._quantile == 0.5 else f"quantile {self._quantile:g}"
        margin = f" less margin {self._margin:g}" if self._margin else ""
        speeding = f" (speeding up {p.accel * self._window**2:.3g} a window)" if p.accel else ""
        return (
            f"growth: at step {step:,} best {sign * p.best:.3g} {verb} "
            f"{p.rate * self._window:.3g}/{self._window:,} steps{speeding} projects "
            f"{sign * p.value:.3g} by step {final_step:,} {op} {sign * threshold:.3g} "
            f"({label} of {n} completed{margin})"
        )


def _index_at_or_before(steps: list[int], step: float) -> int | None:
    """Index of the last of the sorted ``steps`` that is <= ``step``, or None."""
    index = bisect.bisect_right(steps, step) - 1
    return index if index >= 0 else None


def describe_median(study: Study, trial: FrozenTrial) -> str:
    """Restate MedianPruner's comparison (best so far vs completed trials at this step)."""
    step = trial.last_step
    sign = _sign(study)
    best = _best_signed(trial, sign)
    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    at_step = [t.intermediate_values[step] for t in completed if step in t.intermediate_values]
    finite = [v for v in at_step if math.isfinite(v)]
    if step is None or best is None or not finite:
        return f"median: pruned at step {step}"
    op = "<" if sign > 0 else ">"
    return (
        f"median: best {sign * best:.3g} by step {step:,} {op} median "
        f"{float(np.median(finite)):.3g} of {len(finite)} completed trials at that step"
    )


def describe_generic(study: Study, trial: FrozenTrial) -> str:
    """Step and value, for a wrapped pruner we cannot say more about."""
    return f"pruned: {_last_report(trial)}"


def _last_report(trial: FrozenTrial) -> str:
    step = trial.last_step
    if step is None:
        return "no value reported"
    return f"value {trial.intermediate_values[step]:.3g} at step {step:,}"


class ExplainedPruner(ExplainingPruner):
    """Wrap any Optuna pruner: delegate, and on True describe it with ``describe``."""

    def __init__(self, wrapped: BasePruner, describe: Describe = describe_generic) -> None:
        self._wrapped = wrapped
        self._describe = describe

    def reason(self, study: Study, trial: FrozenTrial) -> str | None:
        if not self._wrapped.prune(study, trial):
            return None
        return self._describe(study, trial)


class ExplainedHyperbandPruner(ExplainingPruner, HyperbandPruner):
    """HyperbandPruner that says why it pruned.

    A subclass, not a wrapper: samplers look for ``isinstance(study.pruner, HyperbandPruner)``
    to learn only from the trial's own bracket (``optuna.pruners._filter_study``); a wrapper
    would hide it. Its cached brackets derive from the constructor's integer max_resource
    alone (never "auto"), and bracket ids from study name and trial number, so it is
    stateless in effect. Composed inside AnyPruner it loses the bracket filtering.
    """

    def reason(self, study: Study, trial: FrozenTrial) -> str | None:
        if not HyperbandPruner.prune(self, study, trial):
            return None
        step = trial.last_step
        bracket = self._get_bracket_id(study, trial)
        # SuccessiveHalving wrote ``completed_rung_<k>`` to storage, not to our copy.
        attrs = study._storage.get_trial_system_attrs(trial._trial_id)
        rungs = [int(k.rsplit("_", 1)[1]) for k in attrs if k.startswith("completed_rung_")]
        if step is None or not rungs:
            return f"hyperband: {_last_report(trial)}"
        rung = max(rungs)
        rung_step = self._min_resource * self._reduction_factor ** (bracket + rung)
        return (
            f"hyperband: {attrs[f'completed_rung_{rung}']:.3g} at step {step:,} is not in the "
            f"top 1/{self._reduction_factor} at rung {rung} (step {rung_step:,}) of bracket "
            f"{bracket} (of {self._n_brackets})"
        )


class AnyPruner(ExplainingPruner):
    """Prune when any member does, keeping the first such member's reason.

    Later members are not asked once one says prune: the trial ends there, so no member's
    bookkeeping (e.g. hyperband rungs) is needed any more.
    """

    def __init__(self, *members: ExplainingPruner) -> None:
        if not members:
            raise ValueError("AnyPruner needs at least one member pruner, but got none")
        self._members = members

    def reason(self, study: Study, trial: FrozenTrial) -> str | None:
        for member in self._members:
            reason = member.reason(study, trial)
            if reason is not None:
                return reason
        return None


@dataclass(frozen=True)
class PrunerSettings:
    """What every registry entry is built from; all steps are training examples seen."""

    n_warmup_steps: int  # steps before which growth/median rules never prune
    n_startup_trials: int  # completed trials before the median (and growth) rules start
    window_steps: int  # growth-rate window, about one epoch of examples
    max_steps: int  # final step of a full-length trial (hyperband max, fallback final step)
    interval_steps: int  # steps between two reports

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{field.name} must be an int, but got {value!r}")
        _at_least("n_warmup_steps", self.n_warmup_steps, 0)
        _at_least("n_startup_trials", self.n_startup_trials, 0)
        _at_least("interval_steps", self.interval_steps, 1)
        _at_least("window_steps", self.window_steps, self.interval_steps, "interval_steps")
        _at_least("max_steps", self.max_steps, self.window_steps, "window_steps")
        _at_least("max_steps", self.max_steps, self.n_warmup_steps, "n_warmup_steps")

    @classmethod
    def for_epochs(
        cls,
        *,
        examples_per_epoch: int,
        n_epochs: int,
        reports_per_epoch: int = 4,
        warmup_epochs: int = 1,
        n_startup_trials: int = 5,
    ) -> PrunerSettings:
        """Settings for reports ``reports_per_epoch`` times an epoch; window = one epoch."""
        return cls(
            n_warmup_steps=warmup_epochs * examples_per_epoch,
            n_startup_trials=n_startup_trials,
            window_steps=examples_per_epoch,
            max_steps=n_epochs * examples_per_epoch,
            interval_steps=max(1, examples_per_epoch // max(1, reports_per_epoch)),
        )


def _at_least(name: str, value: int, minimum: int, what: str = "") -> None:
    if value < minimum:
        shown = f"{what} ({minimum:,})" if what else f"{minimum:,}"
        raise ValueError(f"{name} must be >= {shown}, but got {value:,}")


def _growth_only(s: PrunerSettings) -> GrowthPruner:
    return GrowthPruner(
        window_steps=s.window_steps,
        n_warmup_steps=s.n_warmup_steps,
        n_min_trials=max(1, s.n_startup_trials),
        max_steps=s.max_steps,
    )


def _median(s: PrunerSettings, n_warmup_steps: int | None = None) -> ExplainedPruner:
    # interval_steps=1: judge at every report. Optuna's interval is offset by the warm-up, so
    # checkpoints that are not exact multiples (n_train/4 rounded) could skip checks.
    warmup = s.n_warmup_steps if n_warmup_steps is None else n_warmup_steps
    median = MedianPruner(n_startup_trials=s.n_startup_trials, n_warmup_steps=warmup)
    return ExplainedPruner(median, describe_median)


def _growth(s: PrunerSettings) -> AnyPruner:
    late = max(s.n_warmup_steps, int(s.max_steps * LATE_MEDIAN_FRACTION))
    return AnyPruner(_growth_only(s), _median(s, n_warmup_steps=late))


def _hyperband(s: PrunerSettings) -> ExplainedHyperbandPruner:
    # Resources are steps (examples); the smallest rung is a window (an epoch) or the warm-up.
    return ExplainedHyperbandPruner(
        min_resource=max(s.window_steps, s.n_warmup_steps),
        max_resource=s.max_steps,
        reduction_factor=HYPERBAND_REDUCTION_FACTOR,
    )


def _none(s: PrunerSettings) -> BasePruner:
    return NopPruner()


PRUNERS: dict[str, Callable[[PrunerSettings], BasePruner]] = {
    "growth": _growth,
    "growth-only": _growth_only,
    "median": _median,
    "hyperband": _hyperband,
    "none": _none,
}
DEFAULT_PRUNER = "growth"

_DESCRIPTIONS = {
    "growth": "growth rule, plus the median rule over the last quarter of training (default)",
    "growth-only": "prune when even an optimistic projection of the best-so-far curve "
    "falls short of the completed trials' median",
    "median": "Optuna's median rule: best so far below the completed trials' median at that step",
    "hyperband": "Optuna's Hyperband (successive halving, reduction factor 3, rungs in steps)",
    "none": "never prune (not even diverged trials)",
}


def make_pruner(name: str, settings: PrunerSettings) -> BasePruner:
    """The registry's pruner ``name`` built from ``settings``; UsageError if unknown."""
    factory = PRUNERS.get(name)
    if factory is None:
        valid = ", ".join(sorted(PRUNERS))
        close = difflib.get_close_matches(name, PRUNERS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(f"unknown pruner {name!r}; valid: {valid}{hint}")
    return factory(settings)


def describe_pruners() -> dict[str, str]:
    """Name -> one-line description, in registry order, for ``--help`` and ``--list``."""
    return {name: _DESCRIPTIONS[name] for name in PRUNERS}
