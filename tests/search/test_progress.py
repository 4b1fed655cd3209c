"""The terminal view, driven by a real study on SQLite with a fake clock (no TensorFlow)."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from rich.console import Console

from search.progress import StudyView, quiet_libraries, render_best
from search.storage import open_storage

PRUNE_REASON = "growth: best dev_f1 0.055 after 24,000 examples, needed 0.100 by 20,000"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _suggest(trial: optuna.Trial) -> None:
    trial.suggest_float("learning_rate", 1e-4, 1e-1, log=True)
    trial.suggest_int("log2_batch_size", 4, 8)
    trial.suggest_int("n_layers", 1, 3)
    trial.suggest_float("dropout", 0.0, 0.5)


def make_objective(view: StudyView | None, clock: FakeClock | None) -> Callable[..., float]:
    """Trial 2 grows too slowly (pruned), trial 3 crashes; the others climb to their value."""
    finals = [0.61, 0.8123, 0.055, 0.0, 0.7412]

    def objective(trial: optuna.Trial) -> float:
        _suggest(trial)
        trial.set_user_attr("seed", 42)
        trial.set_user_attr("n_params", 90_000 + trial.number)
        trial.set_user_attr("param_budget", 101_810)
        trial.set_user_attr("batch_size", 2 ** trial.params["log2_batch_size"])
        if view is not None:
            view.trial_started(trial.number, trial.params)
        final = finals[trial.number % len(finals)]
        for k in range(1, 5):
            step, value = 6_000 * k, final * k / 4
            if clock is not None:
                clock.now += 3.0
            trial.report(value, step)
            if view is not None:
                view.trial_reported(trial.number, step, value, k / 4, epoch=(k + 1) // 2)
            if trial.number == 2 and k == 4:
                trial.set_user_attr("prune_reason", PRUNE_REASON)
                raise optuna.TrialPruned(PRUNE_REASON)
            if trial.number == 3 and k == 2:
                raise RuntimeError("worker ran out of memory")
        trial.set_user_attr("train_seconds", 12.0)
        trial.set_user_attr("n_examples", 24_000)
        return final

    return objective


def make_small_study(tmp_path: Path, name: str = "ner_demo", n_trials: int = 5) -> str:
    """A SQLite study with COMPLETE, PRUNED and FAIL trials and tiaocan's attrs; returns the URL."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(
        storage=open_storage(url),
        study_name=name,
        direction="maximize",
        sampler=optuna.samplers.RandomSampler(seed=0),
    )
    attrs: dict[str, object] = {
        "tiaocan_study": "ner_study",
        "metric": "dev_f1",
        "direction": "maximize",
    }
    attrs |= {"n_samples": 203_621, "param_ratio": 0.5, "param_budget": 101_810, "seed": 42}
    attrs["target_trials"] = 20
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(make_objective(None, None), n_trials=n_trials, catch=(RuntimeError,))
    return url


def _run_with_view(tmp_path: Path, console: Console, live: bool | None) -> tuple[str, StudyView]:
    url = make_small_study(tmp_path, n_trials=2)  # two finished before: a resume
    study = optuna.load_study(study_name="ner_demo", storage=open_storage(url))
    clock = FakeClock()
    view = StudyView(
        console, target_trials=6, live=live, clock=clock, key_params=("learning_rate", "n_layers")
    )
    with quiet_libraries(console), view:
        view.start(study)
        study.optimize(
            make_objective(view, clock), n_trials=3, callbacks=[view], catch=(RuntimeError,)
        )
    return url, view


def test_plain_mode_prints_one_line_per_event(tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(file=out, width=80)  # not a terminal: plain mode chosen by itself
    _run_with_view(tmp_path, console, live=None)
    lines = out.getvalue().splitlines()
    assert lines[0] == "study ner_demo: resuming with 2/6 trials finished (best 0.8123, trial 1)"
    assert any(
        re.fullmatch(r"trial 2 started: learning_rate=\S+ log2_batch_size=\d .*", x) for x in lines
    )
    assert "trial 4 epoch 1: dev_f1 0.1853 at step 6,000 (25% of training)" in lines
    assert f"trial 2 PRUNED at step 24,000 (value 0.055): {PRUNE_REASON} in 12.0 s  [3/6]" in lines
    assert "trial 3 FAIL in 6.0 s  [3/6]" in lines
    assert "trial 4 COMPLETE value 0.7412 (best 0.8123, trial 1) in 12.0 s  [4/6]" in lines
    assert lines[-1] == "study ner_demo: 4/6 trials finished in 30.0 s (best 0.8123, trial 1)"
    # soft wrap: a long line stays one line in a log although the console is 80 wide
    assert max(len(x) for x in lines) > 80
    # Optuna's own "Trial 2 pruned." INFO lines are quieted; its failure WARNING still shows.
    assert not any(x.startswith("Trial 2") for x in lines)
    assert any(x.startswith("warning: Trial 3 failed") for x in lines)


def test_live_mode_shows_bar_current_trial_and_table(tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    _, view = _run_with_view(tmp_path, console, live=None)
    assert view.live
    text = ANSI.sub("", out.getvalue())
    assert "study ner_demo" in text
    assert "4/6 trials" in text
    assert "best 0.8123, trial 1" in text
    for cell in (
        "PRUNED",
        "COMPLETE",
        "FAIL",
        "*1",
        "0.7412",
        "(0.0550)",
        "90,004",
        "growth: best",
    ):
        assert cell in text, cell
    assert "trial 2 started" not in text  # no plain lines in live mode


def test_live_frame_shows_running_trial_and_eta(tmp_path: Path) -> None:
    url = make_small_study(tmp_path, n_trials=2)
    study = optuna.load_study(study_name="ner_demo", storage=open_storage(url))
    clock = FakeClock()
    view = StudyView(Console(file=io.StringIO()), target_trials=4, live=False, clock=clock)
    view.start(study)
    view.trial_started(2, {"learning_rate": 0.0031, "n_layers": 2})
    clock.now += 30.0
    view.trial_reported(2, 12_000, 0.4321, 0.5, epoch=1)
    frame = io.StringIO()
    Console(file=frame, width=120, force_terminal=True).print(view.render())
    text = ANSI.sub("", frame.getvalue())
    assert "trial 2" in text and "50%" in text and "dev_f1 0.4321" in text
    assert "learning_rate=0.0031" in text
    # half a trial in 30 s with 1.5 trials left -> 90 s
    assert "elapsed 30.0 s" in text and "ETA 1m 30s" in text


def test_render_best_shows_best_counts_and_reasons(tmp_path: Path) -> None:
    url = make_small_study(tmp_path)
    study = optuna.load_study(study_name="ner_demo", storage=open_storage(url))
    out = io.StringIO()
    render_best(study, Console(file=out, width=120))
    text = out.getvalue()
    assert "study ner_demo: 5 trials (3 COMPLETE, 1 FAIL, 1 PRUNED)" in text
    assert "best trial 1" in text and "0.8123" in text and "90,001" in text
    assert f"trial 2 pruned: {PRUNE_REASON}" in text


def test_quiet_libraries_shows_each_warning_once_and_restores() -> None:
    out = io.StringIO()
    before = optuna.logging.get_verbosity()
    with quiet_libraries(Console(file=out)):
        assert optuna.logging.get_verbosity() == optuna.logging.WARNING
        for _ in range(3):
            warnings.warn("tiny dev set", UserWarning, stacklevel=1)
    assert optuna.logging.get_verbosity() == before
    assert out.getvalue().count("warning: UserWarning: tiny dev set") == 1


def test_target_trials_must_be_positive() -> None:
    with pytest.raises(ValueError, match="target_trials must be >= 1, but got 0"):
        StudyView(Console(file=io.StringIO()), target_trials=0)
