"""Entity-level precision, recall and F1 with conlleval's semantics.

A predicted entity counts only when its span and its type both match a gold entity exactly:
a partial overlap or a wrong type is one false positive and one false negative. Chunks are
read as conlleval reads them, so a model's invalid IOB2 output is scored the way the
published CoNLL numbers were: an ``I-X`` after ``O`` or after another type starts a chunk
(checked against conlleval.pl on random invalid sequences). BIOES/BILOU tags are read as the
BIOES-aware conlleval ports read them: ``E-``/``L-`` closes a chunk, ``S-``/``U-`` is a chunk
of one token, so ``entities`` gives the same spans before and after ``normalise_tags``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from objectives.conll import PREFIXES

# Distinct tags are few; parsing each once keeps scoring a dev set at a few tens of ms.
_parsed_tags: dict[str, tuple[str, str]] = {"O": ("O", "")}


def _parse(tag: str) -> tuple[str, str]:
    parsed = _parsed_tags.get(tag)
    if parsed is None:
        prefix, dash, entity_type = tag.partition("-")
        if not dash or prefix not in PREFIXES or not entity_type:
            raise ValueError(f'invalid tag {tag!r}; expected "O" or PREFIX-TYPE, e.g. B-PER')
        parsed = _parsed_tags[tag] = (PREFIXES[prefix], entity_type)
    return parsed


def _ends(prev_prefix: str, prefix: str, prev_type: str, entity_type: str) -> bool:
    """conlleval's endOfChunk: does the chunk holding the previous token end before this one?"""
    if prev_prefix == "O":
        return False
    if prev_prefix in "ES":
        return True
    return prefix in "BSO" or prev_type != entity_type


def _starts(prev_prefix: str, prefix: str, prev_type: str, entity_type: str) -> bool:
    """conlleval's startOfChunk: does a chunk start at this token?"""
    if prefix == "O":
        return False
    if prefix in "BS":
        return True
    return prev_prefix in "ESO" or prev_type != entity_type


def entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """The chunks of one sentence as (type, start, end_exclusive), in order."""
    found = []
    start = -1
    prev_prefix, prev_type = "O", ""
    for i, tag in enumerate(tags):
        prefix, entity_type = _parse(tag)
        if start >= 0 and _ends(prev_prefix, prefix, prev_type, entity_type):
            found.append((prev_type, start, i))
            start = -1
        if _starts(prev_prefix, prefix, prev_type, entity_type):
            start = i
        prev_prefix, prev_type = prefix, entity_type
    if start >= 0:
        found.append((prev_type, start, len(tags)))
    return found


@dataclass(frozen=True)
class Scores:
    """Micro-averaged entity scores; precision, recall and f1 are fractions in [0, 1]."""

    precision: float
    recall: float
    f1: float
    n_gold: int
    n_pred: int
    n_correct: int


def entity_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> Scores:
    """Score predicted tag sequences against gold ones, sentence by sentence.

    No predictions (or no gold entities) gives 0 rather than a division error, as
    conlleval does: a model that predicts nothing has learnt nothing yet.
    """
    if len(gold) != len(pred):
        raise ValueError(
            f"gold and predictions need the same number of sentences, but got "
            f"{len(gold)} and {len(pred)}"
        )
    n_gold = n_pred = n_correct = 0
    for index, (gold_tags, pred_tags) in enumerate(zip(gold, pred, strict=True)):
        if len(gold_tags) != len(pred_tags):
            raise ValueError(
                f"sentence {index} has {len(gold_tags)} gold tags but "
                f"{len(pred_tags)} predicted tags"
            )
        gold_chunks = entities(gold_tags)
        pred_chunks = entities(pred_tags)
        n_gold += len(gold_chunks)
        n_pred += len(pred_chunks)
        n_correct += len(set(gold_chunks).intersection(pred_chunks))
    precision = n_correct / n_pred if n_pred else 0.0
    recall = n_correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if n_correct else 0.0
    return Scores(precision, recall, f1, n_gold, n_pred, n_correct)
