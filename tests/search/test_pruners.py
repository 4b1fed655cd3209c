"""The pruners on real Optuna studies, driven by fake learning curves (no training, no TF).

Steps are examples seen: an epoch is 1,000 examples, reports come every 250, trials run 10
epochs. Five completed "sane" trials saturate at 0.78..0.86 (median final 0.82).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import optuna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optuna.pruners import BasePruner, HyperbandPruner
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from search.errors import UsageError
from search.pruners import (
    DEFAULT_PRUNER,
    PRUNE_REASON_ATTR,
    PRUNERS,
    AnyPruner,
    GrowthPruner,
    PrunerSettings,
    describe_pruners,
    make_pruner,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)

EPOCH = 1_000
N_EPOCHS = 10
STEPS = [EPOCH // 4 * i for i in range(1, 4 * N_EPOCHS + 1)]
SETTINGS = PrunerSettings.for_epochs(examples_per_epoch=EPOCH, n_epochs=N_EPOCHS)
SANE_PEAKS = (0.78, 0.80, 0.82, 0.84, 0.86)
PRUNING = ["growth", "growth-only", "median", "hyperband"]

Curve = Callable[[float], float]  # epochs -> metric


def saturating(peak: float, tau: float = 1.2) -> Curve:
    return lambda e: peak * (1 - math.exp(-e / tau))


def sigmoid(center: float, height: float = 0.9) -> Curve:
    return lambda e: height / (1 + math.exp(-1.5 * (e - center)))


def crawl(e: float) -> float:
    return 0.01 * e


def lr_1e4_story(e: float) -> float:  # DESIGN: 0.0, 0.0, 1.9, 5.5 after epochs 1-4, 45.4 at 9
    epochs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    f1 = [0, 0, 0.019, 0.055, 0.11, 0.19, 0.28, 0.37, 0.42, 0.454, 0.47]
    return float(np.interp(e, epochs, f1))


def noisy_good(e: float) -> float:
    """Peak 0.86 with jitter and, at about every fourth report, a dip of 0.03-0.11."""
    rng = np.random.default_rng(int(e * 4))
    dip = rng.uniform(0.03, 0.11) if rng.random() < 0.25 else 0.0
    return saturating(0.86)(e) + rng.normal(0, 0.01) - dip


def make_study(
    pruner: str | BasePruner,
    *,
    direction: Literal["maximize", "minimize"] = "maximize",
    n_completed: int = 5,
    storage: str | None = None,
    flip: bool = False,
) -> Study:
    pruner = make_pruner(pruner, SETTINGS) if isinstance(pruner, str) else pruner
    study = optuna.create_study(
        direction=direction, pruner=pruner, storage=storage, study_name="pruners"
    )
    # Reference trials always complete. Hyperband ranks a trial only against trials that were
    # judged at the same rung, so there they are asked (and the answer ignored).
    judged = isinstance(pruner, HyperbandPruner)
    for peak in (SANE_PEAKS * 3)[:n_completed]:
        add_completed(study, saturating(peak), flip=flip, judged=judged)
    return study


def add_completed(study: Study, curve: Curve, *, flip: bool = False, judged: bool = False) -> None:
    trial = study.ask()
    for step in STEPS:
        trial.report(_value(curve, step, flip), step)
        if judged:
            trial.should_prune()
    study.tell(trial.number, _value(curve, STEPS[-1], flip))


def _value(curve: Curve, step: int, flip: bool) -> float:
    value = curve(step / EPOCH)
    return 1.0 - value if flip else value


def run_trial(study: Study, curve: Curve, *, flip: bool = False) -> FrozenTrial:
    """Report ``curve`` at every step, asking to prune after each; return the stored trial."""
    trial = study.ask()
    for step in STEPS:
        trial.report(_value(curve, step, flip), step)
        if trial.should_prune():
            study.tell(trial.number, state=TrialState.PRUNED)
            break
    else:
        final = _value(curve, STEPS[-1], flip)
        state = TrialState.COMPLETE if math.isfinite(final) else TrialState.FAIL
        study.tell(trial.number, final if state == TrialState.COMPLETE else None, state=state)
    # The live Trial caches its user attrs; the pruner wrote the reason to storage.
    return study.trials[trial.number]


def pruned_at(trial: FrozenTrial) -> int | None:
    return trial.last_step if trial.state == TrialState.PRUNED else None


def reason(trial: FrozenTrial) -> str:
    return str(trial.user_attrs.get(PRUNE_REASON_ATTR, ""))


# --- the growth rule -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["growth", "growth-only"])
@pytest.mark.parametrize("curve", [crawl, lr_1e4_story], ids=["crawl", "lr_1e-4"])
def test_slow_crawl_is_pruned_soon_after_warmup(name: str, curve: Curve) -> None:
    trial = run_trial(make_study(name), curve)
    step = pruned_at(trial)
    assert step is not None and step <= SETTINGS.n_warmup_steps + 2 * EPOCH
    assert reason(trial).startswith(f"growth: at step {step:,} best ")
    assert "by step 10,000 < 0.82 (median of 5 completed)" in reason(trial)


def test_crawl_reason_reads_as_documented() -> None:
    trial = run_trial(make_study("growth-only"), crawl)
    assert reason(trial) == (
        "growth: at step 2,250 best 0.0225 rising 0.01/1,000 steps projects 0.1 "
        "by step 10,000 < 0.82 (median of 5 completed)"
    )


@pytest.mark.parametrize("name", ["growth", "growth-only"])
@pytest.mark.parametrize("center", [3.0, 3.5, 4.0])
def test_slow_start_that_accelerates_past_the_median_is_not_pruned(
    name: str, center: float
) -> None:
    curve = sigmoid(center)
    median = saturating(0.82)
    assert curve(2) < 0.2 < median(2) and curve(N_EPOCHS) > median(N_EPOCHS)  # the story
    assert run_trial(make_study(name), curve).state == TrialState.COMPLETE


@pytest.mark.parametrize("name", ["growth", "growth-only"])
def test_noisy_good_curve_with_dips_is_not_pruned(name: str) -> None:
    values = [noisy_good(s / EPOCH) for s in STEPS]
    assert max(a - b for a, b in zip(values, values[1:], strict=False)) > 0.05  # real dips
    assert run_trial(make_study(name), noisy_good).state == TrialState.COMPLETE


@pytest.mark.parametrize("name", PRUNING)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_diverged_value_prunes_at_once_even_in_warmup(name: str, bad: float) -> None:
    study = make_study(name, n_completed=0)  # nor does it wait for completed trials
    trial = run_trial(study, lambda e: bad)
    assert pruned_at(trial) == STEPS[0] < SETTINGS.n_warmup_steps
    assert reason(trial) == f"diverged: value {bad} at step 250"


@pytest.mark.parametrize("name", PRUNING)
def test_divergence_after_sane_values_is_named(name: str) -> None:
    trial = run_trial(make_study(name), lambda e: math.nan if e >= 2.5 else saturating(0.9)(e))
    assert pruned_at(trial) == 2_500 and reason(trial) == "diverged: value nan at step 2,500"


@pytest.mark.parametrize("name", ["growth", "growth-only", "median"])
def test_nothing_is_pruned_during_warmup(name: str) -> None:
    late = dataclasses.replace(SETTINGS, n_warmup_steps=3 * EPOCH)
    trial = run_trial(make_study(make_pruner(name, late)), lambda e: 0.0)
    assert pruned_at(trial) == 3 * EPOCH


@pytest.mark.parametrize("name", ["growth", "growth-only", "median"])
def test_nothing_is_pruned_before_enough_completed_trials(name: str) -> None:
    study = make_study(name, n_completed=SETTINGS.n_startup_trials - 1)
    assert run_trial(study, lambda e: 0.0).state == TrialState.COMPLETE
    add_completed(study, saturating(0.9))  # now 5 sane completed, plus the zero one
    assert run_trial(study, lambda e: 0.0).state == TrialState.PRUNED


@pytest.mark.parametrize("name", PRUNING)
def test_every_pruned_trial_says_why_with_numbers(name: str) -> None:
    study = make_study(name, n_completed=12)
    curves = [crawl, lr_1e4_story, lambda e: 0.0, lambda e: 0.5, sigmoid(3.5), noisy_good]
    trials = [run_trial(study, c) for c in curves]
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert pruned, "nothing obvious was pruned"
    for trial in pruned:
        assert re.search(r"^\w[\w-]*: .*\d", reason(trial)), reason(trial)
    assert all(PRUNE_REASON_ATTR not in t.user_attrs for t in trials if t not in pruned)


# --- the registry ----------------------------------------------------------------------


def test_every_registered_name_builds_and_is_described() -> None:
    assert DEFAULT_PRUNER in PRUNERS
    assert set(describe_pruners()) == set(PRUNERS) >= {*PRUNING, "none"}
    for name, line in describe_pruners().items():
        assert isinstance(make_pruner(name, SETTINGS), BasePruner)
        assert line and "\n" not in line


def test_unknown_name_lists_the_valid_ones_and_a_guess() -> None:
    with pytest.raises(UsageError) as error:
        make_pruner("medain", SETTINGS)
    assert str(error.value) == (
        "unknown pruner 'medain'; valid: growth, growth-only, hyperband, median, none "
        "(did you mean 'median'?)"
    )
    assert error.value.exit_code == 2
    with pytest.raises(UsageError, match=r"valid: growth, .*none$"):
        make_pruner("zzz", SETTINGS)


def test_none_never_prunes_not_even_nan() -> None:
    study = make_study("none")
    assert run_trial(study, lambda e: 0.0).state == TrialState.COMPLETE
    assert run_trial(study, lambda e: math.nan).state == TrialState.FAIL  # ran to the end


def test_median_entry_prunes_the_obvious_and_says_so() -> None:
    trial = run_trial(make_study("median"), lambda e: 0.0)
    assert pruned_at(trial) == SETTINGS.n_warmup_steps
    assert reason(trial) == (
        "median: best 0 by step 1,000 < median 0.464 of 5 completed trials at that step"
    )


def test_hyperband_entry_prunes_the_obvious_and_keeps_sampler_brackets() -> None:
    study = make_study("hyperband", n_completed=12)
    # Samplers read only a trial's own bracket when the study's pruner *is* a HyperbandPruner.
    assert isinstance(study.pruner, HyperbandPruner)
    trials = [run_trial(study, lambda e: 0.01) for _ in range(4)]
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert pruned
    for trial in pruned:
        assert re.fullmatch(
            r"hyperband: 0\.01 at step [\d,]+ is not in the top 1/3 at rung \d "
            r"\(step [\d,]+\) of bracket \d \(of 3\)",
            reason(trial),
        )


def test_default_median_catches_a_late_laggard_sooner_than_growth_alone() -> None:
    def laggard(e: float) -> float:  # still rising at the end, ends at 0.81 < 0.82
        return 0.81 - 0.004 * (10 - e) ** 2

    by_default = run_trial(make_study("growth"), laggard)
    by_growth = run_trial(make_study("growth-only"), laggard)
    assert pruned_at(by_default) == 7_500 and reason(by_default).startswith("median: ")
    assert (pruned_at(by_growth) or math.inf) >= 7_500 + EPOCH


def test_default_growth_catches_a_high_flat_start_the_median_rule_lets_run() -> None:
    def flat(e: float) -> float:  # above the median at first, never reaches 0.82
        return 0.80

    by_default = run_trial(make_study("growth"), flat)
    by_median = run_trial(make_study("median"), flat)
    assert pruned_at(by_default) == 2_250 and reason(by_default).startswith("growth: ")
    assert (pruned_at(by_median) or math.inf) >= 2_250 + 2 * EPOCH


@pytest.mark.parametrize("name", ["growth", "growth-only"])
def test_minimize_direction(name: str) -> None:
    study = make_study(name, direction="minimize", flip=True)  # loss = 1 - F1
    slow = run_trial(study, crawl, flip=True)
    assert slow.state == TrialState.PRUNED
    assert "falling 0.01/1,000 steps projects 0.9 by step 10,000 > 0.18" in reason(slow)
    assert run_trial(study, sigmoid(3.5), flip=True).state == TrialState.COMPLETE
    assert run_trial(study, noisy_good, flip=True).state == TrialState.COMPLETE
    median = run_trial(make_study("median", direction="minimize", flip=True), crawl, flip=True)
    assert "median: best 0.99 by step 1,000 > median 0.536" in reason(median)


def test_resumed_study_prunes_alike_from_storage_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/study.db"
    study = make_study("growth", storage=url)
    trial = study.ask()
    for step in STEPS[:9]:  # up to 2,250, where the crawl is judged
        trial.report(crawl(step / EPOCH), step)
    decision = trial.should_prune()
    fresh = optuna.load_study(study_name="pruners", storage=url)
    again = make_pruner("growth", SETTINGS).prune(fresh, fresh.trials[trial.number])
    assert decision and again
    assert fresh.trials[trial.number].user_attrs[PRUNE_REASON_ATTR].startswith("growth: ")


# --- validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"n_warmup_steps": -1}, "n_warmup_steps must be >= 0, but got -1"),
        ({"window_steps": 100}, "window_steps must be >= interval_steps (250), but got 100"),
        ({"max_steps": 500}, "max_steps must be >= window_steps (1,000), but got 500"),
        ({"interval_steps": 0}, "interval_steps must be >= 1, but got 0"),
        ({"n_startup_trials": True}, "n_startup_trials must be an int, but got True"),
    ],
)
def test_settings_are_validated(changes: dict[str, object], message: str) -> None:
    fields = {**SETTINGS.__dict__, **changes}
    with pytest.raises(ValueError, match=re.escape(message)):
        PrunerSettings(**fields)  # type: ignore[arg-type]


def test_pruner_arguments_are_validated() -> None:
    with pytest.raises(ValueError, match="quantile must be in"):
        GrowthPruner(window_steps=10, quantile=1.5)
    with pytest.raises(ValueError, match="n_min_trials must be >= 1"):
        GrowthPruner(window_steps=10, n_min_trials=0)
    with pytest.raises(ValueError, match="at least one member"):
        AnyPruner()


# --- property ----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    peaks=st.lists(st.floats(0.3, 0.95), min_size=5, max_size=5),
    tau=st.floats(0.3, 3.0),
    rises=st.lists(st.floats(0.0, 0.02), min_size=len(STEPS), max_size=len(STEPS)),
)
def test_a_curve_ahead_of_every_completed_one_and_gaining_is_never_pruned(
    peaks: list[float], tau: float, rises: list[float]
) -> None:
    study = optuna.create_study(direction="maximize", pruner=make_pruner("growth", SETTINGS))
    for peak in peaks:
        add_completed(study, saturating(peak, tau))
    top = saturating(max(peaks), tau)
    lead = dict(zip(STEPS, 1e-6 + np.cumsum(rises), strict=True))
    trial = study.ask()
    for step in STEPS:
        trial.report(top(step / EPOCH) + lead[step], step)
        assert not trial.should_prune(), study.trials[trial.number].user_attrs


def test_one_flat_report_after_steady_growth_is_not_a_stall() -> None:
    # Measured on CoNLL-2003: a trial reading 44, 57, 64, 62 at quarter epochs was cut at
    # epoch 1 by a one-window rate of 0, and finished at 74 when left alone.
    window, final = 3_510, 42_123
    study = optuna.create_study(
        direction="maximize", pruner=GrowthPruner(window_steps=window, n_warmup_steps=7_021)
    )
    points = [3_511 * (i + 1) for i in range(12)]
    for _ in range(5):
        done = study.ask()
        for step in points:
            done.report(0.70 * step / final, step)
        study.tell(done.number, 0.70)
    dip = study.ask()
    for step, value in zip(points, (0.44, 0.57, 0.64, 0.62), strict=False):
        dip.report(value, step)
        assert not dip.should_prune(), f"pruned at step {step}"
    crawl_trial = study.ask()
    for step, value in zip(points, (0.44, 0.44, 0.44, 0.44), strict=False):
        crawl_trial.report(value, step)
    assert crawl_trial.should_prune()  # the same level with no growth at all is still cut
