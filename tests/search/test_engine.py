"""The engine on fake studies that never train: resume, targets, seeds, refusals."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from tests.conftest import QUADRATIC, database_digest, finished


def test_resume_adds_up_to_the_target(cli, sqlite_url):
    code, out, _ = cli(QUADRATIC, "--trials", "3", "--storage", sqlite_url)
    assert code == 0, out
    assert len(finished(sqlite_url, "quadratic")) == 3
    code, out, _ = cli(QUADRATIC, "--trials", "5", "--storage", sqlite_url)
    assert code == 0
    trials = finished(sqlite_url, "quadratic")
    assert [t.number for t in trials] == [0, 1, 2, 3, 4]
    code, out, _ = cli(QUADRATIC, "--trials", "5", "--storage", sqlite_url)
    assert code == 0 and "already has 5 finished trials" in out
    assert len(finished(sqlite_url, "quadratic")) == 5


def test_first_trial_is_the_baseline_and_trials_carry_attrs(cli, sqlite_url):
    assert cli(QUADRATIC, "--trials", "2", "--storage", sqlite_url, "--seed", "7")[0] == 0
    first, second = finished(sqlite_url, "quadratic")
    assert first.params == {"x": 0.0} and first.user_attrs["baseline"] is True
    for trial in (first, second):
        assert trial.user_attrs["seed"] == 7
        assert trial.user_attrs["n_params"] == 10
        assert trial.user_attrs["param_budget"] == 500
        assert trial.user_attrs["train_seconds"] >= 0
        assert trial.user_attrs["n_examples"] == 200
        assert sorted(trial.intermediate_values) == [50, 100, 150, 200]
    study = optuna.load_study(study_name="quadratic", storage=sqlite_url)
    assert study.user_attrs["n_samples"] == 1000
    assert study.user_attrs["param_budget"] == 500
    assert study.user_attrs["tiaocan_study"] == "quadratic"


def test_two_fresh_runs_are_identical(cli, tmp_path):
    urls = [f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db")]
    for url in urls:
        assert cli(QUADRATIC, "--trials", "5", "--storage", url)[0] == 0
    a, b = (finished(url, "quadratic") for url in urls)
    assert [t.params for t in a] == [t.params for t in b]
    assert [t.value for t in a] == [t.value for t in b]


def test_resumed_sampler_does_not_replay(cli, sqlite_url, monkeypatch):
    # All random start-up: trial 0 is the enqueued baseline, trial 1 the sampler's first
    # draw. A resumed sampler with the same seed would draw that again for trial 2.
    study = "tests.fake_studies.random_start"
    assert cli(study, "--trials", "2", "--storage", sqlite_url)[0] == 0
    assert cli(study, "--trials", "4", "--storage", sqlite_url)[0] == 0
    xs = [t.params["x"] for t in finished(sqlite_url, "random_start")]
    assert len(set(xs)) == 4, xs


def test_the_replay_check_can_fail(cli, tmp_path, monkeypatch):
    # The same run with the seed derivation switched off replays trial 1 at trial 2.
    monkeypatch.setattr("search.engine.sampler_seed", lambda base, n, worker=0: base)
    url = f"sqlite:///{tmp_path / 'replay.db'}"
    study = "tests.fake_studies.random_start"
    assert cli(study, "--trials", "2", "--storage", url)[0] == 0
    assert cli(study, "--trials", "3", "--storage", url)[0] == 0
    xs = [t.params["x"] for t in finished(url, "random_start")]
    assert xs[2] == xs[1]


def test_a_resume_with_other_experiment_flags_is_refused(cli, sqlite_url):
    assert cli(QUADRATIC, "--trials", "1", "--storage", sqlite_url)[0] == 0
    for flags, message in (
        (["--seed", "7"], "was run with seed 42, not 7 (--seed)"),
        (["--epochs", "3"], "was run with n_epochs 2, not 3 (--epochs)"),
        (["--param-ratio", "0.1"], "was run with param_ratio 0.5, not 0.1 (--param-ratio)"),
    ):
        code, _, err = cli(QUADRATIC, "--trials", "2", "--storage", sqlite_url, *flags)
        assert code == 1 and message in err, err
    assert len(finished(sqlite_url, "quadratic")) == 1
    # What does not change a trial's meaning may change: the target, the pruner.
    assert cli(QUADRATIC, "--trials", "2", "--pruner", "median", "--storage", sqlite_url)[0] == 0


def test_a_study_made_by_another_spec_is_refused(cli, sqlite_url):
    assert cli(QUADRATIC, "--trials", "1", "--storage", sqlite_url, "--study-name", "s")[0] == 0
    code, _, err = cli(
        "tests.fake_studies.always_failing", "--storage", sqlite_url, "--study-name", "s"
    )
    assert code == 1
    assert "was made by study 'quadratic', not 'always_failing'" in err
    assert len(finished(sqlite_url, "s")) == 1


def test_a_stored_direction_that_differs_is_refused(cli, sqlite_url):
    optuna.create_study(study_name="quadratic", storage=sqlite_url, direction="minimize")
    code, _, err = cli(QUADRATIC, "--storage", sqlite_url)
    assert code == 1
    assert "is stored as minimize" in err and "to maximize" in err


def test_always_failing_study_stops_with_the_reason(cli, sqlite_url):
    code, _, err = cli("tests.fake_studies.always_failing", "--storage", sqlite_url)
    assert code == 1
    assert "3 trials in a row failed" in err and "this objective always fails" in err
    study = optuna.load_study(study_name="always_failing", storage=sqlite_url)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.FAIL] * 3


def test_always_pruned_study_counts_pruned_trials_with_reasons(cli, sqlite_url):
    code, out, _ = cli("tests.fake_studies.always_pruned", "--trials", "3", "--storage", sqlite_url)
    assert code == 0, out
    trials = finished(sqlite_url, "always_pruned")
    assert len(trials) == 3
    for trial in trials:
        assert trial.state == optuna.trial.TrialState.PRUNED
        assert "diverged" in trial.user_attrs["prune_reason"]


def test_timeout_stops_starting_trials(cli, sqlite_url):
    code, out, _ = cli(QUADRATIC, "--trials", "1000", "--timeout", "0.5", "--storage", sqlite_url)
    assert code == 0
    assert "stopped by --timeout" in out
    assert 0 < len(finished(sqlite_url, "quadratic")) < 1000


def test_storage_default_comes_from_the_environment(cli, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("TIAOCAN_STORAGE", url)
    code, out, _ = cli(QUADRATIC, "--trials", "1")
    assert code == 0 and url in out
    assert len(finished(url, "quadratic")) == 1


def test_default_storage_is_a_file_in_the_current_folder(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("TIAOCAN_STORAGE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert cli(QUADRATIC, "--trials", "1")[0] == 0
    assert (tmp_path / "tiaocan.db").is_file()


@pytest.mark.parametrize(
    ("flags", "code", "message"),
    [
        (["--trials", "0"], 2, "--trials must be >= 1, but got 0"),
        (["--trials", "-3"], 2, "--trials must be >= 1, but got -3"),
        (["--param-ratio", "0"], 2, "--param-ratio must be a finite number > 0, but got 0"),
        (["--param-ratio", "-1"], 2, "--param-ratio must be a finite number > 0, but got -1"),
        (["--param-ratio", "nan"], 2, "--param-ratio must be a finite number > 0, but got nan"),
        (["--param-ratio", "inf"], 2, "--param-ratio must be a finite number > 0, but got inf"),
        (["--seed", "-1"], 2, "--seed must be in [0, 2**32), but got -1"),
        (["--worker", "-1"], 2, "--worker must be >= 0, but got -1"),
        (["--dashboard", "--dashboard-port", "70000"], 2, "70000"),
        (["--timeout", "-5"], 2, "--timeout must be > 0 seconds"),
        (["--pruner", "medain"], 2, "did you mean 'median'"),
    ],
)
def test_bad_flags_fail_clearly_and_leave_the_database(cli, sqlite_url, flags, code, message):
    assert cli(QUADRATIC, "--trials", "2", "--storage", sqlite_url)[0] == 0
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    before = database_digest(path)
    got, out, err = cli(QUADRATIC, "--storage", sqlite_url, *flags)
    assert got == code
    assert message in err
    assert "Traceback" not in err + out
    assert database_digest(path) == before


def test_optuna_cli_lists_the_stored_trials(cli, sqlite_url):
    import json
    import subprocess
    import sys

    assert cli(QUADRATIC, "--trials", "3", "--storage", sqlite_url)[0] == 0
    assert cli(QUADRATIC, "--trials", "5", "--storage", sqlite_url)[0] == 0
    listed = subprocess.run(
        [
            str(Path(sys.executable).with_name("optuna")),
            "trials",
            "--storage",
            sqlite_url,
            "--study-name",
            "quadratic",
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    trials = json.loads(listed.stdout)
    assert [t["number"] for t in trials] == [0, 1, 2, 3, 4]
    assert {t["state"] for t in trials} == {"COMPLETE"}
