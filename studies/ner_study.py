"""ner_study: a BiLSTM named-entity tagger, tuned for entity-level F1 on dev.

Samples are labelled training tokens. The budget is split by searched fractions, so the
sampler proposes only models that fit and the space stays static: first the narrowest model
of the chosen shape; of the room left, ``vocab_share`` goes to word vectors (the most
frequent lowercased training words with at least ``min_word_freq`` occurrences; the rest
share one trained UNK), and the LSTM width is ``width_fraction`` of the widest that fits
what remains. The vocabulary is where an NER budget is best spent (DESIGN: measured), so how
much of it goes there is the sampler's choice, not a constant.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any

import optuna

from objectives.config import TaggerConfig, TrainConfig
from objectives.conll import Corpus, read_corpus
from objectives.errors import DataError as ObjectiveDataError
from objectives.features import N_CASINGS, Encoded, encode
from search.errors import DataError
from search.space import (
    suggest_batch_size,
    suggest_learning_rate,
    widest_fitting,
    width_from_fraction,
)
from search.spec import Report, StudySpec

SPEC = StudySpec(
    name="ner_study",
    summary="BiLSTM NER tagger (words + casing, optional char-CNN), entity F1 on dev",
    metric="dev_f1",
    direction="maximize",
    n_trials=20,
    n_epochs=6,
    param_ratio=0.5,
    n_startup_trials=5,
    pruner="growth",
)

# Adam on LSTMs: 1e-4 is where the tuning wisdom says to start; above 1e-1 it diverges
# (the DESIGN measurements put the best near 1e-2, well inside).
LEARNING_RATE_HIGH = 1e-1
BATCH_SIZES = (16, 128)
WORD_DIMS = (16, 32, 64)
MIN_WORD_FREQS = (1, 2, 3, 5)
N_LAYERS = (1, 2)
HIDDEN_LOW, HIDDEN_HIGH = 8, 256
VOCAB_SHARES = (0.1, 0.9)  # of the room beyond the narrowest model
REPORTS_PER_EPOCH = 4
KEY_PARAMS = ("learning_rate", "log2_batch_size", "n_layers", "width_fraction", "use_chars")
INFEASIBLE_HINT = ", or a smaller vocabulary"


@dataclass(frozen=True)
class NerConfig:
    tagger: TaggerConfig
    training: TrainConfig


@dataclass(frozen=True)
class NerData:
    """The corpus, encoded once per process."""

    encoded: Encoded

    @property
    def n_samples(self) -> int:
        return int(self.encoded.train.lengths.sum())

    @property
    def corpus(self) -> Corpus:
        return self.encoded.corpus

    def summary(self) -> dict[str, object]:
        return {**self.corpus.summary(), "n_samples (labelled training tokens)": self.n_samples}

    def describe(self) -> str:
        """One line for the terminal."""
        summary = self.corpus.summary()
        splits = "; ".join(
            f"{name} {counts['n_sentences']:,} sentences, {counts['n_tokens']:,} tokens, "
            f"{counts['n_entities']:,} entities"
            for name in ("train", "dev", "test")
            if isinstance(counts := summary.get(name), dict) and counts.get("n_sentences")
        )
        types = " ".join(self.corpus.entity_types)
        return f"{self.corpus.source}: {splits}; types {types}"


@functools.cache
def load_data(path: str | None) -> NerData:
    """``--data`` folder of CoNLL files, or the embedded synthetic corpus when None."""
    try:
        if path is None:
            from objectives.synthetic import make_corpus

            corpus = make_corpus()
        else:
            corpus = read_corpus(path)
    except ObjectiveDataError as error:
        raise DataError(str(error)) from error
    return NerData(encode(corpus))


def _tagger(trial: optuna.Trial, data: NerData, n_params_max: int) -> TaggerConfig:
    chosen = TaggerConfig(
        n_words=0,
        word_dim=trial.suggest_categorical("word_dim", WORD_DIMS),
        n_layers=trial.suggest_int("n_layers", *N_LAYERS),
        hidden=HIDDEN_LOW,
        dropout=trial.suggest_float("dropout", 0.0, 0.5),
        use_chars=trial.suggest_categorical("use_chars", (False, True)),
    )
    min_freq = trial.suggest_categorical("min_word_freq", MIN_WORD_FREQS)
    vocab_share = trial.suggest_float("vocab_share", *VOCAB_SHARES)
    fraction = trial.suggest_float("width_fraction", 0.0, 1.0)
    narrowest = _fitting_shape(chosen, data, n_params_max)
    if narrowest != chosen:
        trial.set_user_attr("shape_reduced_to", _shape(narrowest))
    n_words = _vocabulary(data, narrowest, min_freq, vocab_share, n_params_max)
    base = _with(narrowest, n_words=n_words)
    widest = widest_fitting(
        lambda hidden: count_params(NerConfig(_with(base, hidden=hidden), _NO_TRAINING), data),
        n_params_max,
        HIDDEN_LOW,
        HIDDEN_HIGH,
    )
    hidden = width_from_fraction(fraction, HIDDEN_LOW, widest)
    trial.set_user_attr("hidden", hidden)
    trial.set_user_attr("n_words", base.n_words)
    return _with(base, hidden=hidden)


def _fitting_shape(chosen: TaggerConfig, data: NerData, n_params_max: int) -> TaggerConfig:
    """The chosen shape, or the nearest smaller one whose narrowest model fits the budget.

    With a small budget the fixed costs of a shape (the char-CNN, a wide first LSTM input,
    a second layer) can exceed it before any width is chosen. Dropping the char-CNN first,
    then halving the word embedding, then dropping layers keeps every proposal feasible
    while the searched parameters stay the same in every trial.
    """
    candidates = [chosen, _with(chosen, use_chars=False)]
    for word_dim in sorted((d for d in WORD_DIMS if d < chosen.word_dim), reverse=True):
        candidates.append(_with(chosen, use_chars=False, word_dim=word_dim))
    for n_layers in range(chosen.n_layers - 1, 0, -1):
        candidates.append(_with(chosen, use_chars=False, word_dim=WORD_DIMS[0], n_layers=n_layers))
    for shape in candidates:
        if count_params(NerConfig(shape, _NO_TRAINING), data) <= n_params_max:
            return shape
    return candidates[-1]  # nothing fits: the budget backstop prunes it


def _shape(config: TaggerConfig) -> str:
    return f"word_dim={config.word_dim} use_chars={config.use_chars} n_layers={config.n_layers}"


def _vocabulary(
    data: NerData, narrowest: TaggerConfig, min_freq: int, share: float, n_params_max: int
) -> int:
    """Words kept: frequent enough, and within ``share`` of the room the narrowest model of
    this shape leaves (so the vocabulary never breaks the budget, nor starves the width)."""
    room = n_params_max - count_params(NerConfig(narrowest, _NO_TRAINING), data)
    cap = math.floor(share * room / narrowest.word_dim)
    return data.encoded.n_words(min_freq, max(0, cap))


def _with(config: TaggerConfig, **changes: Any) -> TaggerConfig:
    return dataclasses.replace(config, **changes)


_NO_TRAINING = TrainConfig(learning_rate=1e-3, batch_size=32, n_epochs=1)


def suggest(trial: optuna.Trial, data: NerData, spec: StudySpec, n_params_max: int) -> NerConfig:
    training = TrainConfig(
        learning_rate=suggest_learning_rate(trial, high=LEARNING_RATE_HIGH),
        batch_size=suggest_batch_size(trial, low=BATCH_SIZES[0], high=BATCH_SIZES[1]),
        n_epochs=spec.n_epochs or 1,
        schedule=trial.suggest_categorical("schedule", ("constant", "warmup_linear")),
        reports_per_epoch=REPORTS_PER_EPOCH,
    )
    return NerConfig(_tagger(trial, data, n_params_max), training)


def baseline_params(data: NerData) -> dict[str, Any]:
    """The simplest model first: one narrow layer, small embedding, no extras, lr 1e-3."""
    return {
        "learning_rate": 1e-3,
        "log2_batch_size": 5,
        "schedule": "constant",
        "word_dim": WORD_DIMS[0],
        "min_word_freq": 2,
        "vocab_share": 0.5,
        "use_chars": False,
        "n_layers": 1,
        "width_fraction": 0.25,
        "dropout": 0.0,
    }


def smallest_config(data: NerData, spec: StudySpec, n_params_max: int) -> NerConfig:
    """No vocabulary words (all UNK), casing only, one narrowest layer."""
    tagger = TaggerConfig(n_words=0, word_dim=WORD_DIMS[0], n_layers=1, hidden=HIDDEN_LOW)
    return NerConfig(tagger, _NO_TRAINING)


def count_params(config: NerConfig, data: NerData) -> int:
    """Trainable parameters of ``objectives.tagger.build_tagger``, counted without TF."""
    t = config.tagger
    n = (t.n_words + 2) * t.word_dim + N_CASINGS * t.casing_dim
    width = t.word_dim + t.casing_dim
    if t.use_chars:
        n += data.encoded.n_chars * t.char_dim
        n += t.char_kernel * t.char_dim * t.char_filters + t.char_filters
        width += t.char_filters
    for _ in range(t.n_layers):
        n += 2 * 4 * (t.hidden * (width + t.hidden) + t.hidden)  # two directions, four gates
        width = 2 * t.hidden
    return n + width * data.encoded.n_tags + data.encoded.n_tags


def pruner_steps(data: NerData, spec: StudySpec) -> dict[str, int]:
    """The pruner's scale in steps (= training sentences seen)."""
    n_train = len(data.encoded.train)
    n_epochs = spec.n_epochs or 1
    points = TrainConfig(1e-3, 32, 1, reports_per_epoch=REPORTS_PER_EPOCH).checkpoints(n_train)
    # Rounded checkpoints are not evenly spaced: the window is the smallest gap, so that
    # looking one window back always finds the previous report.
    interval = min(b - a for a, b in zip([0, *points], points, strict=False))
    return {
        "steps_per_epoch": n_train,
        "interval_steps": interval,
        # No pruning in the first half epoch. Growth is measured over one report interval
        # and the rule needs two windows of history, so its first verdict comes at 3/4 of
        # epoch 1: a crawling trial is stopped inside its first epoch. Half-epoch windows
        # were steadier but gave no verdict before 1.25 epochs.
        "n_warmup_steps": math.ceil(n_train / 2),
        "window_steps": interval,
        "max_steps": n_epochs * n_train,
    }


def evaluate(
    config: NerConfig, data: NerData, report: Report, seed: int
) -> tuple[float, dict[str, object]]:
    """Dev F1 is the value; test F1 is recorded for the final report, never optimised."""
    from objectives.training import train_and_evaluate  # TF loads here, not at import

    result = train_and_evaluate(config.tagger, config.training, data.encoded, report, seed)
    extras: dict[str, object] = {"report_seconds": result.report_seconds}
    if result.test_f1 is not None:
        extras["test_f1"] = result.test_f1
    return result.dev_f1, extras


def warm_up(data: NerData) -> None:
    """Import TensorFlow before the first trial, so its import is not that trial's time."""
    import objectives.training  # noqa: F401
