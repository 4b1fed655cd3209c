"""Helpers shared by the benchmarks: run a study on a fresh SQLite file, summarise, print.

Tables are printed as Markdown so that docs/BENCHMARKS.md can quote them as they came out.
"""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from search import engine

CONLL = "/work/shared/data/conll2003"
WNUT = "/work/shared/data/wnut17"


def quiet() -> None:
    """Only warnings from Optuna, no experimental-feature or TF chatter in the tables."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def machine() -> str:
    return f"{platform.node()}: {os.cpu_count()} CPU cores, {platform.machine()}, no GPU used"


def fresh_sqlite(tag: str) -> str:
    """A URL to a new SQLite file, so no run sees another's trials."""
    folder = Path(tempfile.mkdtemp(prefix=f"tiaocan_bench_{tag}_"))
    return f"sqlite:///{folder / 'study.db'}"


@dataclass(frozen=True)
class StudyRun:
    study: optuna.Study
    wall_seconds: float


def run_study(prepared: engine.Prepared, tag: str) -> StudyRun:
    """The real engine end to end (baseline trial, sampler, pruner, training) on fresh SQLite."""
    stored = engine.open_study(prepared, fresh_sqlite(tag), f"bench_{tag}")
    started = time.perf_counter()
    engine.run(prepared, stored)
    return StudyRun(stored, time.perf_counter() - started)


def finished(study: optuna.Study) -> list[FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))


def best(study: optuna.Study) -> FrozenTrial | None:
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return study.best_trial if complete else None


def total(trials: Sequence[FrozenTrial], attr: str) -> float:
    return float(sum(t.user_attrs.get(attr, 0) or 0 for t in trials))


def median_attr(trials: Sequence[FrozenTrial], attr: str) -> float:
    values = [t.user_attrs[attr] for t in trials if attr in t.user_attrs]
    return float(statistics.median(values)) if values else float("nan")


def f1(value: float | None) -> str:
    """Entity F1 in points (0-100), as DESIGN.md reports it."""
    return "-" if value is None else f"{100 * value:.2f}"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join(" --- " for _ in headers) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    print(flush=True)
