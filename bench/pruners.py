"""Benchmark of the pruners: does the default (growth) stop slow trials early and cheaply?

``python bench/pruners.py [--trials N] [--epochs E] [--data PATH]`` runs the same study (same
training seed, same sampler seed, a fresh SQLite file each) with the pruners growth (the
default), none, median and hyperband, all trained for real, and prints:

1. per pruner: best dev F1, test F1 of that trial, compute (training sentences processed,
   the sum of ``n_examples``) and its share of ``none``'s, trials pruned, training seconds,
   the share of those spent scoring dev for the reports (user attr ``report_seconds``), wall;
2. best dev F1 at equal compute: each run's best complete trial among those finished before
   the smallest of the four runs' total compute was spent (trials run one after another);
3. the issue's goals, met or not, with the best share the default could reach at these sizes;
4. the cost of the intermediate reports: time inside ``objectives.training.score`` on the dev
   subset, as a share of a real trial's train_seconds (a separate 1-epoch baseline trial).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from benchlib import CONLL, best, f1, machine, print_table, quiet, run_study, total
from optuna.trial import FrozenTrial, TrialState

from search import engine
from search.spec import Study, load_study

PRUNERS = ("growth", "none", "median", "hyperband")
WITHIN_POINTS = 1.0  # goal: best dev F1 within 1 point of none's
COMPUTE_SHARE = 1 / 3  # goal: at most a third of none's compute


@dataclass(frozen=True)
class Outcome:
    pruner: str
    trials: list[FrozenTrial]
    best: FrozenTrial | None
    compute: float
    wall_seconds: float

    @property
    def best_value(self) -> float | None:
        return None if self.best is None else self.best.value

    def best_within(self, compute: float) -> float | None:
        """Best dev F1 of complete trials that finished before ``compute`` examples were spent."""
        spent, found = 0.0, None
        for trial in sorted(self.trials, key=lambda t: t.number):
            spent += trial.user_attrs.get("n_examples", 0)
            if spent > compute:
                break
            if trial.state == TrialState.COMPLETE and trial.value is not None:
                found = trial.value if found is None else max(found, trial.value)
        return found


def run_pruner(
    study: Study, pruner: str, n_trials: int, n_epochs: int, data: str | None
) -> Outcome:
    spec = study.spec.replace(n_trials=n_trials, n_epochs=n_epochs, pruner=pruner, seed=42)
    run = run_study(engine.prepare(study, spec, data), pruner)
    trials = run.study.get_trials(deepcopy=False)
    return Outcome(pruner, trials, best(run.study), total(trials, "n_examples"), run.wall_seconds)


def reasons(trials: Sequence[FrozenTrial]) -> str:
    kinds = [
        str(t.user_attrs.get("prune_reason", "?:")).split(":")[0]
        for t in trials
        if t.state == TrialState.PRUNED
    ]
    return ", ".join(f"{kinds.count(k)} {k}" for k in sorted(set(kinds))) or "-"


def results_table(outcomes: Sequence[Outcome]) -> None:
    none = next(o for o in outcomes if o.pruner == "none")
    rows = [
        [
            o.pruner,
            f1(o.best_value),
            f1(None if o.best is None else o.best.user_attrs.get("test_f1")),
            f"{o.compute:,.0f}",
            f"{100 * o.compute / none.compute:.0f}%",
            f"{sum(t.state == TrialState.PRUNED for t in o.trials)} ({reasons(o.trials)})",
            f"{total(o.trials, 'train_seconds'):.0f}",
            f"{100 * total(o.trials, 'report_seconds') / total(o.trials, 'train_seconds'):.1f}%",
            f"{o.wall_seconds:.0f}",
        ]
        for o in outcomes
    ]
    print_table(
        "1. Pruners on the same study (F1 in points; compute = training sentences processed)",
        [
            "pruner",
            "best dev F1",
            "its test F1",
            "compute",
            "share of none",
            "pruned",
            "train s",
            "of it scoring reports",
            "wall s",
        ],
        rows,
    )


def equal_compute_table(outcomes: Sequence[Outcome]) -> float:
    budget = min(o.compute for o in outcomes)
    rows = [[o.pruner, f1(o.best_within(budget))] for o in outcomes]
    print_table(
        f"2. Best dev F1 within the same compute: {budget:,.0f} sentences",
        ["pruner", "best dev F1"],
        rows,
    )
    return budget


def _points(value: float | None) -> float:
    return -math.inf if value is None else 100 * value


def goals(outcomes: Sequence[Outcome], prepared: engine.Prepared, n_trials: int) -> None:
    by = {o.pruner: o for o in outcomes}
    growth, none = by["growth"], by["none"]
    gap = _points(none.best_value) - _points(growth.best_value)
    share = growth.compute / none.compute
    budget = min(o.compute for o in outcomes)
    # The lowest share growth could reach: n_startup_trials run to the end (it never prunes
    # before), all others pruned at the end of the warm-up.
    steps, n_epochs = prepared.steps, prepared.spec.n_epochs
    n_full = min(n_trials, prepared.spec.n_startup_trials)
    floor = (n_full * steps["max_steps"] + (n_trials - n_full) * steps["n_warmup_steps"]) / (
        n_trials * steps["max_steps"]
    )
    lines = [
        f"growth's best dev F1 within {WITHIN_POINTS:g} point of none's: gap {gap:+.2f} points"
        f" -> {'MET' if gap <= WITHIN_POINTS else 'NOT MET'}",
        f"growth's compute at most {COMPUTE_SHARE:.0%} of none's: {share:.0%}"
        f" -> {'MET' if share <= COMPUTE_SHARE else 'NOT MET'} (the lowest share possible at"
        f" {n_trials} trials x {n_epochs} epochs, {n_full} of them complete: {floor:.0%})",
    ]
    ours = _points(growth.best_within(budget))
    for rival in ("median", "hyperband"):
        theirs = _points(by[rival].best_within(budget))
        verdict = "MET" if ours > theirs else ("NOT MET (tie)" if ours == theirs else "NOT MET")
        lines.append(
            f"growth beats {rival} on best dev F1 at equal compute: "
            f"{ours:.2f} vs {theirs:.2f} -> {verdict}"
        )
    print("\n### 3. Goals of the issue\n")
    for line in lines:
        print(f"- {line}")
    print(flush=True)


def report_cost(study: Study, data: str | None, n_epochs: int) -> None:
    """Time inside ``score`` during one real 1-epoch baseline trial, by wrapping it."""
    import objectives.training as training

    spec = study.spec.replace(n_trials=1, n_epochs=1, pruner="none", seed=42)
    prepared = engine.prepare(study, spec, data)
    n_dev = len(prepared.data.encoded.dev)
    encoded = prepared.data.encoded
    subset: list[float] = []  # interim reports score a subset of dev, a new Split object
    at_end: list[float] = []  # the last report scores all of dev, then test
    original = training.score

    def timed(trainer, data, split, config):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return original(trainer, data, split, config)
        finally:
            is_final = split is encoded.dev or split is encoded.test
            (at_end if is_final else subset).append(time.perf_counter() - started)

    training.score = timed
    try:
        run = run_study(prepared, "report_cost")
    finally:
        training.score = original
    trial = run.study.trials[0]
    seconds = float(trial.user_attrs["train_seconds"])
    epoch = seconds - sum(subset) - sum(at_end)  # the training steps of one epoch
    # The first score traces the predict function; later ones cost the median of the rest.
    per_score = statistics.median(subset[1:] or subset)
    reports_per_epoch = len(trial.intermediate_values)
    # An E-epoch trial scores the subset at every report but the last (that one is full dev).
    n_scores = reports_per_epoch * n_epochs - 1
    scoring = subset[0] + (n_scores - 1) * per_score
    projected = scoring / (n_epochs * epoch + scoring + sum(at_end))
    rows = [
        ["train_seconds of the trial (1 epoch, baseline model)", f"{seconds:.2f}"],
        ["  of which training steps", f"{epoch:.2f}"],
        [f"  of which dev-subset scoring ({len(subset)} reports)", f"{sum(subset):.2f}"],
        [f"  of which full dev ({n_dev:,} sentences) + test at the end", f"{sum(at_end):.2f}"],
        ["first dev-subset score, with tracing (s)", f"{subset[0]:.3f}"],
        ["later dev-subset scores, median (s)", f"{per_score:.3f}"],
        [
            "dev-subset share of train_seconds, this trial (measured)",
            f"{100 * sum(subset) / seconds:.1f}%",
        ],
        [
            f"dev-subset share of a {n_epochs}-epoch trial ({n_scores} scores; projected)",
            f"{100 * projected:.1f}%",
        ],
    ]
    print_table(
        "4. Cost of the intermediate reports (time inside objectives.training.score)",
        ["what", "value"],
        rows,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12, help="trials per pruner (default 12)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per trial (default 4)")
    parser.add_argument(
        "--data", default=CONLL, help=f"CoNLL folder or 'synthetic' (default {CONLL})"
    )
    args = parser.parse_args(argv)
    data = None if args.data == "synthetic" else args.data
    quiet()
    study = load_study("ner_study")
    print(f"machine: {machine()}")
    print(
        f"study ner_study, {args.trials} trials x {args.epochs} epochs, data {args.data}, seed 42"
    )
    started = time.perf_counter()
    outcomes = [run_pruner(study, p, args.trials, args.epochs, data) for p in PRUNERS]
    results_table(outcomes)
    equal_compute_table(outcomes)
    spec = study.spec.replace(n_trials=args.trials, n_epochs=args.epochs)
    goals(outcomes, engine.prepare(study, spec, data), args.trials)
    report_cost(study, data, args.epochs)
    print(f"total wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
