"""ner_study without training: data errors, the budget, the space's static shape."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from search.budget import Budget
from search.engine import prepare
from search.errors import InfeasibleStudyError
from search.spec import load_study
from studies import ner_study
from tests.conftest import SHARED_DATA, database_digest


def write_corpus(folder: Path, n_sentences: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    sentence = "Peter B-PER\nBlackburn I-PER\nvisited O\nLondon B-LOC\n.  O\n\n"
    for name in ("train.txt", "dev.txt"):
        (folder / name).write_text(sentence * n_sentences)
    return folder


def test_data_pointing_at_nothing_fails_clearly(cli, sqlite_url, tmp_path):
    code, _, err = cli("ner_study", "--data", str(tmp_path / "missing"), "--storage", sqlite_url)
    assert code == 1
    assert str(tmp_path / "missing") in err
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()


def test_empty_file_fails_naming_it(cli, sqlite_url, tmp_path):
    folder = write_corpus(tmp_path / "data", 3)
    (folder / "train.txt").write_text("")
    code, _, err = cli("ner_study", "--data", str(folder), "--storage", sqlite_url)
    assert code == 1 and "train.txt" in err


def test_malformed_line_fails_naming_file_and_line(cli, sqlite_url, tmp_path):
    folder = write_corpus(tmp_path / "data", 3)
    (folder / "dev.txt").write_text("Peter B-PER\nBlackburn\n")
    code, _, err = cli("ner_study", "--data", str(folder), "--storage", sqlite_url)
    assert code == 1 and "dev.txt:2" in err


def test_unknown_tag_scheme_fails(cli, sqlite_url, tmp_path):
    folder = write_corpus(tmp_path / "data", 3)
    (folder / "train.txt").write_text("Peter PER_B\n")
    code, _, err = cli("ner_study", "--data", str(folder), "--storage", sqlite_url)
    assert code == 1 and "train.txt:1" in err and "PER_B" in err


def test_bad_data_leaves_an_existing_database_untouched(cli, sqlite_url, tmp_path):
    assert cli("tests.fake_studies.quadratic", "--trials", "1", "--storage", sqlite_url)[0] == 0
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    before = database_digest(path)
    code, _, _ = cli("ner_study", "--data", str(tmp_path / "missing"), "--storage", sqlite_url)
    assert code == 1
    assert database_digest(path) == before


def test_tiny_corpus_is_infeasible_with_a_clear_message(cli, sqlite_url, tmp_path):
    folder = write_corpus(tmp_path / "tiny", 2)
    code, _, err = cli("ner_study", "--data", str(folder), "--storage", sqlite_url)
    assert code == 1
    assert "no model fits the parameter budget: 10 training samples x 0.5 = 5 parameters" in err
    assert "--param-ratio" in err and "smaller vocabulary" in err
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()


def test_infeasible_is_raised_by_prepare():
    study = load_study("ner_study")
    data = ner_study.load_data(None)
    smallest = ner_study.count_params(ner_study.smallest_config(data, study.spec, 10), data)
    assert smallest > 10
    with pytest.raises(InfeasibleStudyError):
        prepare(study, study.spec.replace(param_ratio=1e-6), None)


@pytest.mark.parametrize("data_path", [None, "conll2003", "wnut17"])
@pytest.mark.parametrize("ratio", [0.5, 0.1])
def test_proposals_fit_the_budget_by_construction(data_path, ratio):
    if data_path is not None and not (SHARED_DATA / data_path).is_dir():
        pytest.skip(f"{SHARED_DATA / data_path} is not here")
    data = ner_study.load_data(None if data_path is None else str(SHARED_DATA / data_path))
    budget = Budget(data.n_samples, ratio)
    spec = ner_study.SPEC.replace(param_ratio=ratio)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    sizes = []
    for _ in range(300):
        trial = study.ask()
        config = ner_study.suggest(trial, data, spec, budget.n_params_max)
        sizes.append(ner_study.count_params(config, data))
        study.tell(trial.number, 0.0)
    assert max(sizes) <= budget.n_params_max
    # The width fraction spreads models over the budget, not all at the floor.
    assert sorted(sizes)[len(sizes) // 2] > 0.3 * budget.n_params_max


def test_the_space_is_static():
    data = ner_study.load_data(None)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    seen = None
    for _ in range(50):
        trial = study.ask()
        ner_study.suggest(trial, data, ner_study.SPEC, data.n_samples // 2)
        if seen is None:
            seen = trial.distributions
        assert trial.distributions == seen
        assert 2 ** trial.params["log2_batch_size"] == trial.user_attrs["batch_size"]
        study.tell(trial.number, 0.0)
    assert seen["learning_rate"].low == 1e-4 and seen["learning_rate"].log


@pytest.mark.parametrize("n_train", [400, 1500, 1501, 3394, 14041])
def test_a_crawling_trial_gets_its_verdict_in_the_first_epoch(n_train):
    from types import SimpleNamespace

    from objectives.config import TrainConfig
    from search.pruners import PrunerSettings, make_pruner

    spec = ner_study.SPEC.replace(n_epochs=4)
    steps = ner_study.pruner_steps(
        SimpleNamespace(encoded=SimpleNamespace(train=range(n_train))), spec
    )
    settings = PrunerSettings(
        n_warmup_steps=steps["n_warmup_steps"],
        n_startup_trials=spec.n_startup_trials,
        window_steps=steps["window_steps"],
        max_steps=steps["max_steps"],
        interval_steps=steps["interval_steps"],
    )
    points = TrainConfig(1e-3, 32, 4).checkpoints(n_train)
    study = optuna.create_study(direction="maximize", pruner=make_pruner("growth", settings))
    for _ in range(spec.n_startup_trials):
        sane = study.ask()
        for i, step in enumerate(points, start=1):
            sane.report(0.8 * i / len(points), step)
        study.tell(sane.number, 0.8)
    crawl = study.ask()
    pruned_at = None
    for step in points:
        crawl.report(0.0, step)
        if crawl.should_prune():
            pruned_at = step
            break
    assert pruned_at is not None and pruned_at <= n_train, (pruned_at, n_train)
