"""The static report: the page, its PNGs, and the command's answers to bad input."""

from __future__ import annotations

import re
from pathlib import Path

import optuna
import pytest

from search.report import main, write_report
from search.storage import open_storage
from tests.search.test_progress import PRUNE_REASON, make_small_study

TITLES = (
    "Optimisation history",
    "Learning curves",
    "Parameter importances",
    "Learning rate vs value",
)
SLUGS = ("history", "learning_curves", "importances", "learning_rate")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def load(url: str, name: str = "ner_demo") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=open_storage(url))


def test_report_has_every_figure_table_and_png(tmp_path: Path) -> None:
    index = write_report(load(make_small_study(tmp_path)), tmp_path / "out")
    assert index == tmp_path / "out" / "index.html"
    page = index.read_text(encoding="utf-8")
    for title in TITLES:
        assert f"<h2>{title}</h2>" in page
    for slug in SLUGS:
        png = tmp_path / "out" / f"{slug}.png"
        assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 5_000, slug
        assert f"href='{slug}.png'" in page
    assert "<h2>Best trial: 1</h2>" in page and "0.8123" in page and "90,001" in page
    assert "<td>PRUNED</td><td>1</td>" in page and "<td>FAIL</td><td>1</td>" in page
    assert f"trial 2 at step 24,000 (value 0.055): {PRUNE_REASON}" in page
    # Opens offline: plotly.js is inlined once and nothing is fetched from the network.
    assert page.count("* plotly.js v") == 1
    assert page.count("Plotly.newPlot(") == len(TITLES)
    assert not re.search(r"<script[^>]+src=[\"']https?:", page)


def test_one_completed_trial_skips_importances_with_a_sentence(tmp_path: Path) -> None:
    index = write_report(load(make_small_study(tmp_path, n_trials=1)), tmp_path / "out")
    page = index.read_text(encoding="utf-8")
    assert "Importances need at least 2 completed trials; this study has 1." in page
    assert not (tmp_path / "out" / "importances.png").exists()
    assert (tmp_path / "out" / "history.png").stat().st_size > 0


def test_study_without_trials_still_gets_a_page(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bare.db'}"
    study = optuna.create_study(storage=open_storage(url), study_name="bare", direction="maximize")
    page = write_report(study, tmp_path / "out").read_text(encoding="utf-8")
    assert "No trial has completed yet" in page
    assert "* plotly.js v" not in page  # no figure, so no 4 MB of JavaScript either
    assert list((tmp_path / "out").glob("*.png")) == []


def test_main_writes_to_reports_folder_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_small_study(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["ner_demo", "--storage", url]) == 0
    assert (tmp_path / "reports" / "ner_demo" / "index.html").is_file()
    assert "wrote reports/ner_demo/index.html (4 PNG figures beside it)" in capsys.readouterr().out


def test_unknown_study_lists_the_studies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_small_study(tmp_path)
    optuna.create_study(storage=open_storage(url), study_name="wnut_demo")
    assert main(["conll", "--storage", url, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "no study named 'conll' in sqlite:///" in err
    assert err.rstrip().endswith("studies there: ner_demo, wnut_demo")
    assert not (tmp_path / "out").exists()


def test_missing_database_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nope.db"
    assert main(["ner_demo", "--storage", f"sqlite:///{path}"]) == 1
    assert f"no Optuna database at {path}" in capsys.readouterr().err
    assert not path.exists()
