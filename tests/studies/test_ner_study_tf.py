"""The TF tier: tiny models on tiny data, trained for real."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import optuna
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from objectives.config import TaggerConfig, TrainConfig
from search import engine
from search.spec import load_study
from studies import ner_study
from tests.conftest import finished
from tests.tf_data import N_TRAIN, tiny_corpus_folder

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_corpus_folder(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def tiny_data(tiny_folder: Path) -> ner_study.NerData:
    return ner_study.load_data(str(tiny_folder))


def keras_trainable(config: TaggerConfig, data: ner_study.NerData) -> int:
    from objectives.tagger import build_tagger

    model = build_tagger(config, n_chars=data.encoded.n_chars, n_tags=data.encoded.n_tags)
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n_words=st.integers(0, 3000),
    word_dim=st.sampled_from(ner_study.WORD_DIMS),
    n_layers=st.integers(1, 3),
    hidden=st.integers(1, 64),
    use_chars=st.booleans(),
    char_filters=st.integers(1, 40),
    char_kernel=st.integers(1, 5),
)
def test_analytic_count_equals_keras(
    tiny_data, n_words, word_dim, n_layers, hidden, use_chars, char_filters, char_kernel
):
    config = TaggerConfig(
        n_words=n_words,
        word_dim=word_dim,
        n_layers=n_layers,
        hidden=hidden,
        use_chars=use_chars,
        char_filters=char_filters,
        char_kernel=char_kernel,
    )
    training = TrainConfig(learning_rate=1e-3, batch_size=32, n_epochs=1)
    analytic = ner_study.count_params(ner_study.NerConfig(config, training), tiny_data)
    assert analytic == keras_trainable(config, tiny_data)


def test_sampled_configs_count_like_keras(tiny_data):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=5))
    for _ in range(10):
        trial = study.ask()
        config = ner_study.suggest(trial, tiny_data, ner_study.SPEC, tiny_data.n_samples)
        analytic = ner_study.count_params(config, tiny_data)
        assert analytic == keras_trainable(config.tagger, tiny_data)
        study.tell(trial.number, 0.0)


def train_once(data: ner_study.NerData, seed: int, lr: float = 2e-2) -> tuple[float, list]:
    from objectives.training import train_and_evaluate

    tagger = TaggerConfig(n_words=200, word_dim=16, n_layers=1, hidden=32, dropout=0.1)
    reports: list[tuple[int, float]] = []
    training = TrainConfig(learning_rate=lr, batch_size=16, n_epochs=2, schedule="warmup_linear")
    result = train_and_evaluate(
        tagger, training, data.encoded, lambda s, v: reports.append((s, v)), seed
    )
    assert result.test_f1 is not None and 0.0 <= result.test_f1 <= 1.0
    return result.dev_f1, reports


def test_same_seed_gives_the_same_value(tiny_data):
    first, first_reports = train_once(tiny_data, seed=11)
    second, second_reports = train_once(tiny_data, seed=11)
    assert first == second and first_reports == second_reports
    assert first > 0.0  # it learnt something, so equality is not two zeros


def test_reports_four_times_per_epoch_at_fixed_steps(tiny_data):
    _, reports = train_once(tiny_data, seed=1)
    assert [step for step, _ in reports] == [100, 200, 300, 400, 500, 600, 700, 800]
    assert all(0.0 <= value <= 1.0 for _, value in reports)


def test_two_trial_study_end_to_end(cli, sqlite_url, tiny_folder):
    code, out, err = cli(
        "ner_study",
        "--data",
        str(tiny_folder),
        "--trials",
        "2",
        "--epochs",
        "1",
        "--storage",
        sqlite_url,
    )
    assert code == 0, out + err
    trials = finished(sqlite_url, "ner_study")
    assert len(trials) == 2
    assert trials[0].user_attrs["baseline"] is True
    assert trials[0].params["learning_rate"] == 1e-3
    for trial in trials:
        for attr in ("seed", "n_params", "param_budget", "train_seconds", "batch_size", "test_f1"):
            assert attr in trial.user_attrs
        assert 0 < trial.user_attrs["report_seconds"] < trial.user_attrs["train_seconds"]
        assert trial.user_attrs["n_params"] <= trial.user_attrs["param_budget"]
    assert "best trial" in out and "optuna-dashboard" in out


def test_rerun_of_a_fresh_study_gives_identical_values(cli, tmp_path, tiny_folder):
    values = []
    for name in ("a.db", "b.db"):
        url = f"sqlite:///{tmp_path / name}"
        flags = ("--data", str(tiny_folder), "--trials", "2", "--epochs", "1", "--storage", url)
        assert cli("ner_study", *flags)[0] == 0
        values.append([(t.params, t.value) for t in finished(url, "ner_study")])
    assert values[0] == values[1]


def test_far_from_sane_learning_rate_is_pruned_in_its_first_epoch(tmp_path, tiny_folder):
    study_def = load_study("ner_study")
    # A roomier budget than 0.5 x 6k tokens, so the sane trial learns within 3 tiny epochs.
    spec = study_def.spec.replace(n_trials=2, n_epochs=3, n_startup_trials=1, param_ratio=2.0)
    prepared = engine.prepare(study_def, spec, str(tiny_folder))
    url = f"sqlite:///{tmp_path / 'prune.db'}"
    # Made here, so the engine loads it and enqueues no baseline before our two trials.
    stored = optuna.create_study(study_name="prune", storage=url, direction="maximize")
    sane = {
        **ner_study.baseline_params(prepared.data),
        "learning_rate": 2e-2,
        "width_fraction": 0.6,
        "log2_batch_size": 4,
    }
    stored.enqueue_trial(sane)
    stored.enqueue_trial({**sane, "learning_rate": 1e-4})
    stored = engine.open_study(prepared, url, "prune")
    engine.run(prepared, stored)
    first, second = stored.trials
    assert first.state == optuna.trial.TrialState.COMPLETE and first.value > 0.1
    assert second.state == optuna.trial.TrialState.PRUNED
    assert max(second.intermediate_values) <= N_TRAIN  # within its first epoch
    assert second.user_attrs["prune_reason"].startswith("growth:")
    assert second.user_attrs["n_examples"] <= N_TRAIN
    assert math.isfinite(second.user_attrs["train_seconds"])
