"""Typed configurations of the NER tagger and its training (no TF: studies import these)."""

from __future__ import annotations

import math
from dataclasses import dataclass

SCHEDULES = ("constant", "warmup_linear")


@dataclass(frozen=True)
class TaggerConfig:
    """Embedding -> BiLSTM layers -> per-token logits; see ``objectives.tagger``."""

    n_words: int  # vocabulary words, PAD and UNK not included
    word_dim: int
    n_layers: int
    hidden: int  # units per LSTM direction
    dropout: float = 0.0
    casing_dim: int = 4
    use_chars: bool = False
    char_dim: int = 16
    char_filters: int = 32
    char_kernel: int = 3

    def __post_init__(self) -> None:
        for name in ("word_dim", "n_layers", "hidden", "casing_dim", "char_dim", "char_filters"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, but got {getattr(self, name)}")
        if self.n_words < 0:
            raise ValueError(f"n_words must be >= 0, but got {self.n_words}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), but got {self.dropout}")


@dataclass(frozen=True)
class TrainConfig:
    learning_rate: float
    batch_size: int
    n_epochs: int
    schedule: str = "constant"
    warmup_fraction: float = 0.1  # of all optimiser steps, for "warmup_linear"
    reports_per_epoch: int = 4
    dev_subset: int = 500  # sentences scored at interim reports; the last report uses all of dev

    def __post_init__(self) -> None:
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, but got {self.learning_rate}")
        if self.batch_size < 1 or self.batch_size & (self.batch_size - 1):
            raise ValueError(f"batch_size must be a power of two, but got {self.batch_size}")
        if self.n_epochs < 1:
            raise ValueError(f"n_epochs must be >= 1, but got {self.n_epochs}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, but got {self.schedule!r}")
        if self.reports_per_epoch < 1:
            raise ValueError(f"reports_per_epoch must be >= 1, but got {self.reports_per_epoch}")
        if self.dev_subset < 1:
            raise ValueError(f"dev_subset must be >= 1, but got {self.dev_subset}")

    def checkpoints(self, n_train: int) -> list[int]:
        """Global steps (sentences seen) at which to report; the last of each epoch is its end.

        The same for every batch size, so step 12,000 means the same in every trial.
        """
        n = self.reports_per_epoch
        per_epoch = sorted({math.ceil(n_train * j / n) for j in range(1, n + 1)})
        return [epoch * n_train + c for epoch in range(self.n_epochs) for c in per_epoch]
