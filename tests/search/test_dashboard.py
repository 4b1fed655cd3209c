"""optuna-dashboard served for real on a free port, read over HTTP and by a headless Chromium."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import optuna
import optuna_dashboard
import pytest

from search.dashboard import annotate_study, main, start_dashboard
from search.errors import StorageError, UsageError
from search.storage import open_storage
from tests.search.test_progress import PRUNE_REASON, make_small_study

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
NOTE = "## ner_demo\n\nBiLSTM tagger, budget **101,810** params (0.5 x 203,621 tokens)."


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def attrs(serialized: list[dict[str, str]]) -> dict[str, str]:
    """The dashboard sends attrs as [{"key", "value"}] with every value turned into a string."""
    return {a["key"]: a["value"] for a in serialized}


@pytest.fixture
def study_url(tmp_path: Path) -> str:
    url = make_small_study(tmp_path)
    study = optuna.load_study(study_name="ner_demo", storage=open_storage(url))
    annotate_study(study, metric_name="dev_f1", note_markdown=NOTE)
    return url


def test_api_shows_attrs_note_metric_and_curves(study_url: str) -> None:
    with start_dashboard(study_url, port=0) as server:
        base = server.url.removesuffix("/dashboard/")
        summaries = get_json(f"{base}/api/studies")["study_summaries"]
        assert [s["study_name"] for s in summaries] == ["ner_demo"]
        assert attrs(summaries[0]["user_attrs"])["tiaocan_study"] == "ner_study"
        detail = get_json(f"{base}/api/studies/{summaries[0]['study_id']}")
    assert detail["name"] == "ner_demo" and detail["directions"] == ["maximize"]
    assert detail["objective_names"] == ["dev_f1"]
    assert detail["note"] == {"version": 1, "body": NOTE}
    assert attrs(detail["user_attrs"])["param_budget"] == "101810"
    states = [t["state"] for t in detail["trials"]]
    assert states == ["Complete", "Complete", "Pruned", "Fail", "Complete"]
    pruned = detail["trials"][2]
    assert attrs(pruned["user_attrs"])["prune_reason"] == PRUNE_REASON
    assert [v["step"] for v in pruned["intermediate_values"]] == [6000, 12000, 18000, 24000]
    assert attrs(detail["trials"][1]["user_attrs"])["n_params"] == "90001"
    assert [t["number"] for t in detail["best_trials"]] == [1]
    assert {"key": "prune_reason", "sortable": False} in detail["union_user_attrs"]


def test_annotate_study_is_idempotent(study_url: str) -> None:
    study = optuna.load_study(study_name="ner_demo", storage=open_storage(study_url))
    annotate_study(study, metric_name="dev_f1", note_markdown=NOTE)
    system_attrs = study._storage.get_study_system_attrs(study._study_id)
    assert system_attrs["dashboard:note_ver"] == 1  # unchanged: not written again
    annotate_study(study, metric_name="dev_f1", note_markdown="short")
    assert optuna_dashboard.get_note(study) == "short"
    assert study.metric_names == ["dev_f1"]


def test_missing_sqlite_file_is_refused_and_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "missing.db"
    assert main(["--storage", f"sqlite:///{path}", "--port", "0"]) == 1
    assert f"no Optuna database at {path}" in capsys.readouterr().err
    assert not path.exists()


def test_storage_without_studies_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_storage(url)  # tables, no study
    assert main(["--storage", url, "--port", "0"]) == 1
    assert "holds no studies yet" in capsys.readouterr().err


def test_busy_port_says_which_flag_to_pass(
    study_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--storage", study_url, "--port", str(port)]) == 2
        assert capsys.readouterr().err == (
            f"error: port {port} on 127.0.0.1 is in use; pass --port N\n"
        )
        with pytest.raises(UsageError, match=f"port {port} .* pass --dashboard-port N"):
            start_dashboard(study_url, port=port)


def test_bad_port_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--port", "70000"])
    assert exit_info.value.code == 2
    assert "must be between 0 and 65535, but got 70000" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "--storage" in capsys.readouterr().out


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        main(["--storage", f"sqlite:///{tmp_path / 'missing.db'}", "--debug"])


def test_module_serves_until_ctrl_c(study_url: str) -> None:
    command = [sys.executable, "-m", "search.dashboard", "--storage", study_url, "--port", "0"]
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "(Ctrl-C to stop)" in line, line + process.stderr.read()  # type: ignore[union-attr]
        url = line.split(" at ")[1].split()[0]
        assert get_json(url.replace("/dashboard/", "/api/studies"))["study_summaries"]
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "Traceback" not in err


WRITER = """
import sys, optuna, search.storage as s
# No busy wait at all: any moment a reader locks the writer out fails it at once. With the
# journal_mode=DELETE default this fails within a few trials; WAL lets readers never block.
s.SQLITE_BUSY_TIMEOUT_SECONDS = 0
study = optuna.load_study(study_name="ner_demo", storage=s.open_storage(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    trial = study.ask()
    x = trial.suggest_float("learning_rate", 1e-4, 1e-1, log=True)
    trial.set_user_attr("n_params", 1234)
    for step in range(1, 9):
        trial.report(step * x, step * 1000)
    study.tell(trial, 0.5)
print("wrote", sys.argv[2])
"""


def test_dashboard_reads_never_lock_out_a_writer(study_url: str) -> None:
    n_written = 20
    with start_dashboard(study_url, port=0) as server:
        detail_url = server.url.replace("/dashboard/", "/api/studies/1")
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, study_url, str(n_written)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        seen: list[int] = []
        errors: list[Exception] = []

        def hammer() -> None:
            try:
                while writer.poll() is None:
                    seen.append(len(get_json(detail_url)["trials"]))
                    get_json(server.url.replace("/dashboard/", "/api/studies"))
            except Exception as error:  # a thread's exception would not fail the test
                errors.append(error)

        readers = [threading.Thread(target=hammer) for _ in range(2)]
        for reader in readers:
            reader.start()
        out, err = writer.communicate(timeout=60)
        for reader in readers:
            reader.join()
    assert writer.returncode == 0, err
    assert "database is locked" not in err
    assert not errors
    assert out.strip() == f"wrote {n_written}"
    assert len(seen) > 10  # the readers really were reading while the writer wrote
    study = optuna.load_study(study_name="ner_demo", storage=open_storage(study_url))
    assert len(study.trials) == 5 + n_written


def _chrome_driver(tmp_path: Path) -> Any:
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not binary.exists():
            pytest.skip(f"needs {binary} (Debian: apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-quic",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def _wait_for_text(driver: Any, text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        body = driver.find_element("tag name", "body").text
        if text in body:
            return str(body)
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; the page shows: {body[:500]!r}")


@pytest.mark.browser
def test_browser_renders_the_study(study_url: str, tmp_path: Path) -> None:
    driver = _chrome_driver(tmp_path)
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    try:
        with start_dashboard(study_url, port=0) as server:
            driver.get(server.url)
            _wait_for_text(driver, "ner_demo")
            driver.get(f"{server.url}studies/1")
            _wait_for_text(driver, "dev_f1")
            time.sleep(1.0)  # let the history plot draw before the picture
            assert driver.save_screenshot(str(artifacts / "dashboard.png"))
    finally:
        driver.quit()
    assert (artifacts / "dashboard.png").stat().st_size > 10_000
