"""Benchmark of the parameter budget (n_trainable_params <= ratio x n_samples).

``python bench/budget.py [--quick]`` prints three tables:

1. Sampler feasibility, no training: the engine's own TPE sampler on the real search space
   (``suggest`` + ``count_params`` + ``search.budget.enforce`` on real Optuna trials), with a
   STAND-IN objective that rewards bigger models, pushing TPE to the budget's edge (the hard
   case). Does the sampler propose models that fit? Goal: at most 5% over budget after the
   sampler's start-up (0 is the aim).
2. What an over-budget trial costs: ask -> PRUNED through the real engine objective on SQLite,
   against a trivially completing trial on the same storage (a ratio: machines are noisy).
3. What the rule costs or saves: CoNLL-2003 trained for real at --param-ratio 0.5 vs 1000
   (budget effectively off), same seed, trials and epochs, pruner "none".
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import time
from collections.abc import Callable, Sequence

import optuna
from benchlib import (
    CONLL,
    WNUT,
    best,
    f1,
    fresh_sqlite,
    machine,
    median_attr,
    print_table,
    quiet,
    run_study,
    total,
)

from search import engine
from search.budget import Budget, enforce
from search.errors import InfeasibleStudyError
from search.spec import Study, load_study
from search.storage import open_storage

DATASETS = {"synthetic": None, "conll2003": CONLL, "wnut17": WNUT}
HIDDEN_LOW = 8  # ner_study's narrowest LSTM width


def stand_in(n_params: int, n_params_max: int, learning_rate: float) -> float:
    """Bigger is better up to the budget, plus a mild preference for lr near 1e-2."""
    return n_params / n_params_max - 0.1 * (math.log10(learning_rate) + 2) ** 2


def feasibility_row(study: Study, name: str, ratio: float, n_trials: int) -> list[object]:
    spec = study.spec.replace(param_ratio=ratio)
    try:
        prepared = engine.prepare(study, spec, DATASETS[name])
    except InfeasibleStudyError as error:
        return [name, ratio, "-", 0, f"infeasible: {error}", "-", "-", "-", "-", "-"]
    data, budget = prepared.data, prepared.budget
    n_max = budget.n_params_max
    sampled = optuna.create_study(direction=spec.direction, sampler=engine.make_sampler(spec, 0, 0))
    sampled.enqueue_trial(study.baseline_params(data))  # as engine.run does

    def objective(trial: optuna.Trial) -> float:
        config = study.suggest(trial, data, spec, n_max)
        n_params = study.count_params(config, data)
        enforce(trial, n_params, budget)
        return stand_in(n_params, n_max, config.training.learning_rate)

    sampled.optimize(objective, n_trials=n_trials)
    trials = sampled.get_trials(deepcopy=False)
    after = [t for t in trials if t.number >= spec.n_startup_trials]  # TPE counts the baseline
    over = [t for t in after if str(t.user_attrs.get("prune_reason", "")).startswith("budget:")]
    sizes = [t.user_attrs["n_params"] / n_max for t in trials]
    n_reduced = sum("shape_reduced_to" in t.user_attrs for t in trials)
    n_narrowest = sum(t.user_attrs.get("hidden") == HIDDEN_LOW for t in trials)
    share = len(over) / max(1, len(after))
    return [
        name,
        ratio,
        f"{n_max:,}",
        len(trials),
        f"{len(over)} ({100 * share:.1f}%)",
        f"{max(sizes):.3f}",
        f"{statistics.median(sizes):.3f}",
        n_reduced,
        n_narrowest,
        "yes" if share <= 0.05 else "NO",
    ]


def _per_trial_ms(study: optuna.Study, objective: Callable[[optuna.Trial], float], n: int) -> float:
    """Median wall time from one trial's end to the next's (ask, objective, tell), in ms."""
    stamps = [time.perf_counter()]
    study.optimize(
        objective, n_trials=n, callbacks=[lambda s, t: stamps.append(time.perf_counter())]
    )
    return 1000 * statistics.median(b - a for a, b in zip(stamps, stamps[1:], strict=False))


def over_budget_cost(study: Study, n_trials: int) -> None:
    prepared = engine.prepare(study, study.spec, None)
    data, spec = prepared.data, prepared.spec
    smallest = study.count_params(study.smallest_config(data, spec, 0), data)
    # prepare() refuses a budget that nothing fits; set one afterwards, so no shape fits.
    tiny = Budget(prepared.budget.n_samples, (smallest // 2) / prepared.budget.n_samples)
    over = dataclasses.replace(prepared, budget=tiny)
    storage = open_storage(fresh_sqlite("over_budget"))

    def new(name: str) -> optuna.Study:
        return optuna.create_study(
            study_name=name, storage=storage, sampler=engine.make_sampler(spec, 0, 0)
        )

    def trivial(trial: optuna.Trial) -> float:
        return trial.suggest_float("x", 0.0, 1.0)

    def suggest_only(trial: optuna.Trial) -> float:
        return float(study.count_params(study.suggest(trial, data, spec, tiny.n_params_max), data))

    cases = [
        ("trivial: one suggest_float, completes (baseline)", new("trivial"), trivial),
        ("the study's suggest + count, completes, no budget check", new("suggest"), suggest_only),
        (
            f"over budget via engine.make_objective (budget {tiny.n_params_max:,}, "
            f"smallest model {smallest:,})",
            new("over"),
            engine.make_objective(over, engine.SilentObserver()),
        ),
    ]
    timings = [(label, s, _per_trial_ms(s, objective, n_trials)) for label, s, objective in cases]
    baseline_ms = timings[0][2]
    rows = []
    for label, s, ms in timings:
        states = [t.state.name for t in s.get_trials(deepcopy=False)]
        budget_pruned = sum(
            str(t.user_attrs.get("prune_reason", "")).startswith("budget:") for t in s.trials
        )
        shown = f"{states.count('COMPLETE')} complete, {states.count('PRUNED')} pruned"
        rows.append([label, shown, budget_pruned, f"{ms:.1f}", f"{ms / baseline_ms:.2f}"])
    print_table(
        f"2. Cost of an over-budget trial, SQLite, {n_trials} trials each (synthetic data)",
        ["trial", "states", "pruned by budget", "median ms/trial", "ratio vs trivial"],
        rows,
    )


def rule_cost(study: Study, n_trials: int, n_epochs: int, ratios: Sequence[float]) -> None:
    runs = []
    for ratio in ratios:
        spec = study.spec.replace(
            n_trials=n_trials, n_epochs=n_epochs, pruner="none", param_ratio=ratio, seed=42
        )
        prepared = engine.prepare(study, spec, CONLL)
        runs.append((ratio, prepared.budget.n_params_max, run_study(prepared, f"ratio{ratio:g}")))
    rows = []
    summary = []
    for ratio, n_max, run in runs:
        trials = run.study.get_trials(deepcopy=False)
        top = best(run.study)
        dev = None if top is None else top.value
        test = None if top is None else top.user_attrs.get("test_f1")
        seconds = total(trials, "train_seconds")
        summary.append((dev, test, seconds))
        rows.append(
            [
                f"{ratio:g}",
                f"{n_max:,}",
                f1(dev),
                f1(test),
                "-" if top is None else f"{top.user_attrs['n_params']:,}",
                f"{median_attr(trials, 'n_params'):,.0f}",
                f"{max(t.user_attrs['n_params'] for t in trials):,}",
                f"{seconds:.0f}",
                f"{run.wall_seconds:.0f}",
            ]
        )
    (dev_a, test_a, sec_a), (dev_b, test_b, sec_b) = summary[0], summary[1]

    def points(a: float | None, b: float | None) -> str:
        return "-" if a is None or b is None else f"{100 * (a - b):+.2f}"

    rows.append(
        [
            f"difference {ratios[0]:g} - {ratios[1]:g}",
            "",
            points(dev_a, dev_b),
            points(test_a, test_b),
            "",
            "",
            "",
            f"x{sec_a / sec_b:.2f}",
            "",
        ]
    )
    print_table(
        f"3. The rule's cost on CoNLL-2003: {n_trials} trials x {n_epochs} epochs, "
        "pruner none, seed 42 (F1 in points)",
        [
            "param ratio",
            "budget",
            "best dev F1",
            "its test F1",
            "its n_params",
            "median n_params",
            "largest n_params",
            "train s (sum)",
            "wall s",
        ],
        rows,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--sampler-trials", type=int, help="trials per feasibility study")
    parser.add_argument("--trials", type=int, help="trained trials per ratio in table 3")
    parser.add_argument("--epochs", type=int, help="epochs per trained trial in table 3")
    args = parser.parse_args(argv)
    n_sampled = args.sampler_trials or (50 if args.quick else 200)
    n_trials = args.trials or (2 if args.quick else 6)
    n_epochs = args.epochs or (1 if args.quick else 3)
    quiet()
    study = load_study("ner_study")
    print(f"machine: {machine()}")
    started = time.perf_counter()
    rows = [
        feasibility_row(study, name, ratio, n_sampled) for name in DATASETS for ratio in (0.5, 0.1)
    ]
    print_table(
        "1. Sampler feasibility: TPE (engine.make_sampler) on the real search space, "
        "STAND-IN objective (no training; rewards n_params/budget, pushing to the edge)",
        [
            "data",
            "ratio",
            "budget",
            "trials",
            "over budget after start-up",
            "max n/budget",
            "median n/budget",
            "shape reduced",
            f"at narrowest width ({HIDDEN_LOW})",
            "goal <= 5%",
        ],
        rows,
    )
    over_budget_cost(study, 20 if args.quick else 60)
    print(f"tables 1-2 took {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    rule_cost(study, n_trials, n_epochs, (0.5, 1000.0))
    print(f"table 3 took {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
