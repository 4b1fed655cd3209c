"""The CLI's messages and exit codes, and the engine's freedom from TensorFlow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import QUADRATIC, REPO


def test_unknown_study_lists_known_ones_and_suggests(cli):
    code, out, err = cli("ner_stdy")
    assert code == 2
    assert "unknown study 'ner_stdy'" in err and "ner_study" in err
    assert "did you mean 'ner_study'" in err


def test_list_shows_each_study_with_a_line(cli):
    code, out, _ = cli("--list")
    assert code == 0
    assert out.startswith("ner_study") and "BiLSTM" in out


def test_no_study_is_a_usage_error(cli):
    code, _, err = cli()
    assert code == 2 and "name a study" in err


def test_help_names_the_flags(capsys):
    from search.run import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    flags = (
        "--trials --timeout --storage --study-name --seed --data --epochs --param-ratio "
        "--pruner --worker --dashboard --dashboard-port --keep-dashboard --no-progress "
        "--list --dry-run --debug"
    ).split()
    for flag in flags:
        assert flag in out


def test_non_numeric_flag_is_a_usage_error(capsys):
    from search.run import main

    with pytest.raises(SystemExit) as exit_info:
        main([QUADRATIC, "--param-ratio", "abc"])
    assert exit_info.value.code == 2
    assert "invalid float value: 'abc'" in capsys.readouterr().err


def test_unopenable_storage_names_the_url_with_password_masked(cli):
    url = "postgresql+psycopg://tiaocan:s3cret@127.0.0.1:1/nowhere"
    code, out, err = cli(QUADRATIC, "--storage", url)
    assert code == 1
    assert "cannot open storage postgresql+psycopg://tiaocan:***@127.0.0.1:1/nowhere" in err
    assert "s3cret" not in err + out


def test_sqlite_in_a_missing_folder_is_refused(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'x.db'}"
    code, _, err = cli(QUADRATIC, "--storage", url)
    assert code == 1 and "does not exist" in err
    assert not (tmp_path / "no").exists()


def test_not_a_url_is_refused(cli):
    code, _, err = cli(QUADRATIC, "--storage", "not a url")
    assert code == 1 and "is not a database URL" in err


def test_dry_run_shows_space_and_trains_nothing(cli, sqlite_url):
    code, out, _ = cli(QUADRATIC, "--dry-run", "--storage", sqlite_url)
    assert code == 0
    assert "search space" in out and "uniform [-10, 10]" in out
    assert "budget: 500 trainable parameters (0.5 x 1,000 training samples)" in out
    assert "file does not exist yet" in out
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()


def test_search_and_studies_import_no_tensorflow():
    code = (
        "import sys, search.run, search.engine, search.progress, search.dashboard, search.report, "
        "search.pruners, studies.ner_study\n"
        "from search.spec import load_study\n"
        "load_study('ner_study')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)


def test_search_source_has_no_tensorflow_import():
    import re

    banned = re.compile(r"^\s*(from|import)\s+(tensorflow|keras)\b", re.MULTILINE)
    for path in [*(REPO / "search").rglob("*.py"), *(REPO / "studies").rglob("*.py")]:
        match = banned.search(path.read_text())
        assert match is None, f"{path}: {match.group(0) if match else ''}"


def test_busy_dashboard_port_fails_before_the_study_is_written(cli, sqlite_url):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = cli(
            QUADRATIC, "--storage", sqlite_url, "--dashboard", "--dashboard-port", str(port)
        )
    assert code == 2
    assert f"port {port} on 127.0.0.1 is in use; pass --dashboard-port N" in err
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()
