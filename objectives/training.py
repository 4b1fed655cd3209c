"""Training one tagger with a fixed seed, reporting dev F1 several times per epoch.

The objective knows nothing of Optuna: it calls ``report(step, value)``, which may raise to
stop it (the engine raises ``optuna.TrialPruned`` there). Steps count training sentences
seen at fixed checkpoints, so step 12,000 means the same whatever the batch size.
"""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from objectives.config import TaggerConfig, TrainConfig
from objectives.features import Encoded, Split
from objectives.metrics import entity_scores
from objectives.quiet_tf import keras, tf
from objectives.tagger import build_tagger

Report = Callable[[int, float], None]
EVAL_BATCH_SIZE = 256
_determinism_enabled = False


def enable_determinism() -> None:
    """Deterministic kernels, once per process (it cannot be switched back)."""
    global _determinism_enabled
    if not _determinism_enabled:
        tf.config.experimental.enable_op_determinism()
        _determinism_enabled = True


def dev_subset_indices(n_dev: int, size: int) -> np.ndarray:
    """A fixed subset of dev for interim reports: the same for every trial and run."""
    if n_dev <= size:
        return np.arange(n_dev)
    return np.sort(np.random.default_rng(0).choice(n_dev, size=size, replace=False))


def _pad(arrays: tuple[np.ndarray, ...], indices: np.ndarray) -> np.ndarray:
    longest = max(len(arrays[i]) for i in indices)
    shape = (len(indices), longest, *arrays[indices[0]].shape[1:])
    out = np.zeros(shape, dtype=np.int32)
    for row, i in enumerate(indices):
        out[row, : len(arrays[i])] = arrays[i]
    return out


def _inputs(
    split: Split, indices: np.ndarray, n_words: int, use_chars: bool
) -> dict[str, np.ndarray]:
    words = _pad(split.word_ranks, indices)
    # Ranks beyond this trial's vocabulary become UNK (1); padding stays 0.
    words = np.where(words > n_words + 1, 1, words).astype(np.int32)
    inputs = {"words": words, "casings": _pad(split.casings, indices)}
    if use_chars:
        inputs["chars"] = _pad(split.chars, indices)
    return inputs


def _batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Length-bucketed batches in random order: similar lengths together keep padding small."""
    order = np.lexsort((rng.random(len(lengths)), lengths))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)  # type: ignore[arg-type]
    return batches


def _learning_rate(config: TrainConfig, step: int, n_steps: int) -> float:
    if config.schedule == "constant":
        return config.learning_rate
    n_warmup = max(1, round(config.warmup_fraction * n_steps))
    if step < n_warmup:  # linear warm-up, then linear decay to 10% of the peak
        return config.learning_rate * (step + 1) / n_warmup
    remaining = (n_steps - step) / max(1, n_steps - n_warmup)
    return config.learning_rate * (0.1 + 0.9 * remaining)


class _Trainer:
    def __init__(self, model: keras.Model, config: TrainConfig, use_chars: bool) -> None:
        self.model = model
        self.optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate)
        self.loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
        # Fixed signatures with unknown batch and length: one trace per trial, not per shape.
        matrix = tf.TensorSpec((None, None), tf.int32)
        inputs = {
            "words": matrix,
            "casings": matrix,
            **({"chars": tf.TensorSpec((None, None, None), tf.int32)} if use_chars else {}),
        }
        self.train_step = tf.function(self._train_step, input_signature=[inputs, matrix])
        self.predict = tf.function(self._predict, input_signature=[inputs])

    def _train_step(self, inputs: dict[str, tf.Tensor], tags: tf.Tensor) -> tf.Tensor:
        # Masked by the gold padding only (word id 0), never by predictions.
        mask = tf.cast(inputs["words"] > 0, tf.float32)
        with tf.GradientTape() as tape:
            logits = self.model(inputs, training=True)
            per_token = self.loss(tags, logits)
            loss = tf.reduce_sum(per_token * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)
        grads = tape.gradient(loss, self.model.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables, strict=True))
        return loss

    def _predict(self, inputs: dict[str, tf.Tensor]) -> tf.Tensor:
        return tf.argmax(self.model(inputs, training=False), axis=-1, output_type=tf.int32)


def score(trainer: _Trainer, data: Encoded, split: Split, config: TaggerConfig) -> float:
    """Entity-level F1 of the model on ``split``."""
    order = np.argsort(split.lengths, kind="stable")
    predicted: list[tuple[str, ...]] = [()] * len(split)
    for start in range(0, len(order), EVAL_BATCH_SIZE):
        indices = order[start : start + EVAL_BATCH_SIZE]
        ids = trainer.predict(_inputs(split, indices, config.n_words, config.use_chars)).numpy()
        for row, i in enumerate(indices):
            predicted[i] = tuple(data.tag_names[t] for t in ids[row, : len(split.tags[i])])
    return entity_scores(split.gold, predicted).f1


@dataclass(frozen=True)
class Result:
    dev_f1: float
    test_f1: float | None  # None without a test split; never used to choose anything
    report_seconds: float  # spent scoring dev for the reports: their cost, to keep small


def train_and_evaluate(
    tagger: TaggerConfig, training: TrainConfig, data: Encoded, report: Report, seed: int
) -> Result:
    """Train from ``seed``; dev F1 is the value, ``report`` may raise to stop early."""
    enable_determinism()
    keras.backend.clear_session()  # keeps memory flat across trials
    keras.utils.set_random_seed(seed)
    model = build_tagger(tagger, n_chars=data.n_chars, n_tags=data.n_tags)
    trainer = _Trainer(model, training, tagger.use_chars)
    train, n_train = data.train, len(data.train)
    lengths = train.lengths
    subset = data.dev.subset(dev_subset_indices(len(data.dev), training.dev_subset))
    points = training.checkpoints(n_train)
    n_steps = training.n_epochs * math.ceil(n_train / training.batch_size)
    rng = np.random.default_rng(seed)
    seen, step, value, report_seconds = 0, 0, 0.0, 0.0
    pending = collections.deque(points)
    for _ in range(training.n_epochs):
        for batch in _batches(lengths, training.batch_size, rng):
            trainer.optimizer.learning_rate.assign(_learning_rate(training, step, n_steps))
            inputs = _inputs(train, batch, tagger.n_words, tagger.use_chars)
            loss = trainer.train_step(inputs, _pad(train.tags, batch))
            seen, step = seen + len(batch), step + 1
            while pending and pending[0] <= seen:
                point = pending.popleft()
                if not math.isfinite(float(loss)):  # diverged: say so, F1 of NaN weights is 0
                    value = math.nan
                else:
                    started = time.perf_counter()
                    value = score(trainer, data, subset if pending else data.dev, tagger)
                    report_seconds += time.perf_counter() - started
                report(point, value)
    has_test = len(data.test) > 0 and math.isfinite(value)
    test_f1 = score(trainer, data, data.test, tagger) if has_test else None
    return Result(value, test_f1, round(report_seconds, 3))
