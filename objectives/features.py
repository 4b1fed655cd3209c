"""Turning a corpus into integer arrays once per process (no TF, no Optuna).

Words are ranked by training frequency once; a trial's vocabulary is then just "the first
``n_words`` ranks", so choosing a vocabulary size per trial costs an ``np.minimum``, not a
pass over the corpus (DESIGN: data is loaded once per process, never inside a trial).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from objectives.conll import Corpus, Sentence

PAD, UNK = 0, 1  # reserved ids in the word and character tables
MAX_WORD_LENGTH = 20  # characters kept per token for the char-CNN
MAX_CHARS = 100  # most frequent training characters kept; the rest share UNK
# Casing classes: 0 is padding. Cheap and strong for NER (DESIGN: +7.7 F1 at equal budget).
CASINGS = ("pad", "other", "numeric", "lower", "upper", "title", "mixed", "has_digit")
N_CASINGS = len(CASINGS)


def casing(token: str) -> int:
    if token.isdigit():
        return 2
    if not any(ch.isalpha() for ch in token):
        return 7 if any(ch.isdigit() for ch in token) else 1
    if any(ch.isdigit() for ch in token):
        return 7
    if token.islower():
        return 3
    if token.isupper():
        return 4
    if token[0].isupper() and token[1:].islower():
        return 5
    return 6


@dataclass(frozen=True)
class Split:
    """One split as ragged per-sentence arrays; batching pads them per batch."""

    word_ranks: tuple[np.ndarray, ...]  # lowercased word's training-frequency rank + 2
    casings: tuple[np.ndarray, ...]
    chars: tuple[np.ndarray, ...]  # (n_tokens, MAX_WORD_LENGTH), 0-padded
    tags: tuple[np.ndarray, ...]
    gold: tuple[tuple[str, ...], ...]  # IOB2 tag strings, for scoring

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(t) for t in self.tags], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.tags)

    def subset(self, indices: Iterable[int]) -> Split:
        pick = [int(i) for i in indices]
        return Split(
            tuple(self.word_ranks[i] for i in pick),
            tuple(self.casings[i] for i in pick),
            tuple(self.chars[i] for i in pick),
            tuple(self.tags[i] for i in pick),
            tuple(self.gold[i] for i in pick),
        )


@dataclass(frozen=True)
class Encoded:
    corpus: Corpus
    word_counts: np.ndarray  # count of the word at each rank, descending
    tag_names: tuple[str, ...]  # id -> IOB2 tag; id 0 is "O"
    n_chars: int  # size of the char table, PAD and UNK included
    train: Split
    dev: Split
    test: Split

    @property
    def n_tags(self) -> int:
        return len(self.tag_names)

    def n_words(self, min_freq: int, cap: int) -> int:
        """Words with training frequency >= ``min_freq``, at most ``cap`` of them."""
        n_frequent = int(np.searchsorted(-self.word_counts, -min_freq, side="right"))
        return max(0, min(n_frequent, cap))


def encode(corpus: Corpus) -> Encoded:
    words = Counter(token.lower() for s in corpus.train for token in s.tokens)
    ranked = sorted(words.items(), key=lambda item: (-item[1], item[0]))
    word_rank = {word: rank + 2 for rank, (word, _) in enumerate(ranked)}
    chars = Counter(ch for s in corpus.train for token in s.tokens for ch in token)
    char_ids = {ch: i + 2 for i, (ch, _) in enumerate(chars.most_common(MAX_CHARS))}
    tag_types = sorted({tag for s in corpus.train for tag in s.tags} - {"O"})
    tag_names = ("O", *tag_types)
    tag_ids = {tag: i for i, tag in enumerate(tag_names)}
    unseen_rank = len(word_rank) + 2  # beyond any vocabulary cap: always UNK

    def split(sentences: Sequence[Sentence]) -> Split:
        encoded = [_sentence(s, word_rank, unseen_rank, char_ids, tag_ids) for s in sentences]
        return Split(*(tuple(column) for column in zip(*encoded, strict=True)))  # type: ignore[arg-type]

    return Encoded(
        corpus=corpus,
        word_counts=np.array([count for _, count in ranked], dtype=np.int64),
        tag_names=tag_names,
        n_chars=len(char_ids) + 2,
        train=split(corpus.train),
        dev=split(corpus.dev),
        test=split(corpus.test) if corpus.test else Split((), (), (), (), ()),
    )


def _sentence(
    sentence: Sentence,
    word_rank: dict[str, int],
    unseen_rank: int,
    char_ids: dict[str, int],
    tag_ids: dict[str, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    tokens = sentence.tokens
    ranks = np.array([word_rank.get(t.lower(), unseen_rank) for t in tokens], dtype=np.int32)
    casings = np.array([casing(t) for t in tokens], dtype=np.int32)
    chars = np.zeros((len(tokens), MAX_WORD_LENGTH), dtype=np.int32)
    for i, token in enumerate(tokens):
        ids = [char_ids.get(ch, UNK) for ch in token[:MAX_WORD_LENGTH]]
        chars[i, : len(ids)] = ids
    # A tag type unseen in training (dev/test only) cannot be predicted; it still counts as gold.
    tags = np.array([tag_ids.get(tag, 0) for tag in sentence.tags], dtype=np.int32)
    return ranks, casings, chars, tags, sentence.tags
