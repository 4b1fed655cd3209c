"""A killed or interrupted worker loses nothing that had finished (real processes, SQLite)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import optuna
from optuna.trial import TrialState

from tests.conftest import REPO, finished

SLOW = "tests.fake_studies.slow"


def start_worker(url: str, *flags: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "search.run", SLOW, "--storage", url, "--no-progress", *flags],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_finished(url: str, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if len(finished(url, "slow")) >= n:
                return
        except KeyError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"fewer than {n} finished trials after {timeout} s")


def wait_inside_a_trial(url: str, timeout: float = 60) -> None:
    """Until a trial is RUNNING and has reported once: a signal now lands mid-trial."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        study = optuna.load_study(study_name="slow", storage=url)
        if any(t.state == TrialState.RUNNING and t.intermediate_values for t in study.trials):
            return
        time.sleep(0.05)
    raise AssertionError(f"no trial was running after {timeout} s")


def test_ctrl_c_fails_the_running_trial_and_rerun_continues(sqlite_url):
    worker = start_worker(sqlite_url, "--trials", "6")
    wait_for_finished(sqlite_url, 2)
    wait_inside_a_trial(sqlite_url)
    worker.send_signal(signal.SIGINT)
    out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 130, out
    assert "Rerun the same command to continue" in out
    study = optuna.load_study(study_name="slow", storage=sqlite_url)
    states = [t.state for t in study.trials]
    assert TrialState.RUNNING not in states
    assert states.count(TrialState.FAIL) == 1
    n_done = len(finished(sqlite_url, "slow"))
    assert n_done >= 2
    rerun = start_worker(sqlite_url, "--trials", "6")
    out, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, out
    assert len(finished(sqlite_url, "slow")) == 6


def test_killed_worker_keeps_finished_trials_and_its_trial_is_retried(sqlite_url):
    fast_heartbeat = {"TIAOCAN_HEARTBEAT_SECONDS": "1", "TIAOCAN_GRACE_SECONDS": "2"}
    worker = start_worker(sqlite_url, "--trials", "6", env=fast_heartbeat)
    wait_for_finished(sqlite_url, 2)
    wait_inside_a_trial(sqlite_url)
    worker.kill()
    worker.wait(timeout=30)
    kept = {t.number: t.value for t in finished(sqlite_url, "slow")}
    assert len(kept) >= 2
    time.sleep(2.5)  # past the grace period: the killed trial is stale
    rerun = start_worker(sqlite_url, "--trials", "6", env=fast_heartbeat)
    out, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, out
    study = optuna.load_study(study_name="slow", storage=sqlite_url)
    assert {t.number: t.value for t in finished(sqlite_url, "slow") if t.number in kept} == kept
    assert len(finished(sqlite_url, "slow")) == 6
    # The stale trial was failed (not left RUNNING) and retried as a copy.
    assert TrialState.RUNNING not in [t.state for t in study.trials]
    failed = [t for t in study.trials if t.state == TrialState.FAIL]
    assert len(failed) == 1
    retried = [t for t in study.trials if t.system_attrs.get("failed_trial") == failed[0].number]
    assert retried, "the killed trial was not retried"


def test_two_local_workers_share_a_sqlite_study(cli, sqlite_url):
    # The study is created once first, as the README says (creation races on a fresh file).
    assert cli("tests.fake_studies.quadratic", "--trials", "1", "--storage", sqlite_url)[0] == 0
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "search.run",
                "tests.fake_studies.quadratic",
                "--trials",
                "12",
                "--storage",
                sqlite_url,
                "--no-progress",
                "--worker",
                str(i),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0, out
        assert "database is locked" not in out
    trials = finished(sqlite_url, "quadratic")
    assert 12 <= len(trials) <= 13
    assert len({t.params["x"] for t in trials}) == len(trials)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_dashboard_flag_serves_the_study_while_it_runs_and_stops_after(sqlite_url):
    import json
    import urllib.error
    import urllib.request

    port = free_port()
    worker = start_worker(sqlite_url, "--trials", "3", "--dashboard", "--dashboard-port", str(port))
    base = f"http://127.0.0.1:{port}/api/studies"
    deadline, studies = time.monotonic() + 60, []
    while time.monotonic() < deadline and not studies:
        try:
            with urllib.request.urlopen(base, timeout=5) as response:
                studies = json.load(response)["study_summaries"]
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    assert [s["study_name"] for s in studies] == ["slow"]
    assert worker.poll() is None, "the run should still be going"
    with urllib.request.urlopen(f"{base}/{studies[0]['study_id']}", timeout=5) as response:
        detail = json.load(response)
    assert "param_budget" in {a["key"] for a in detail["user_attrs"]}
    out, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, out
    assert f"dashboard: http://127.0.0.1:{port}/dashboard/" in out
    try:
        urllib.request.urlopen(base, timeout=2)
        raise AssertionError("the dashboard is still up after the run")
    except (urllib.error.URLError, ConnectionError):
        pass
