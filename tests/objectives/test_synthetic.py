"""The embedded synthetic corpus: deterministic, well-formed, and hard in the right ways."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from objectives.conll import Corpus, Sentence, normalise_tags
from objectives.metrics import entities, entity_scores
from objectives.synthetic import make_corpus

REPO = Path(__file__).resolve().parents[2]
TYPES = ("LOC", "MISC", "ORG", "PER")


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return make_corpus(0)


def mentions(sentences: tuple[Sentence, ...]) -> list[tuple[str, str]]:
    """(type, text) of every entity mention."""
    return [
        (entity_type, " ".join(s.tokens[start:end]))
        for s in sentences
        for entity_type, start, end in entities(s.tags)
    ]


def digest(corpus: Corpus) -> str:
    return hashlib.sha256(repr(corpus).encode()).hexdigest()


def test_the_defaults_have_the_documented_shape(corpus: Corpus) -> None:
    assert (len(corpus.train), len(corpus.dev), len(corpus.test)) == (1500, 400, 400)
    assert corpus.source == "synthetic English NER (seed 0)"
    assert corpus.entity_types == TYPES
    for split in (corpus.train, corpus.dev, corpus.test):
        assert {entity_type for entity_type, _ in mentions(split)} == set(TYPES)


def test_sentences_are_8_to_25_tokens_with_valid_iob2(corpus: Corpus) -> None:
    for sentence in corpus.train + corpus.dev + corpus.test:
        assert 8 <= len(sentence.tokens) <= 25
        assert normalise_tags(sentence.tags, where="synthetic", scheme="iob") == sentence.tags
        assert all(token and not any(c.isspace() for c in token) for token in sentence.tokens)
        assert all(tag == "O" or tag[2:] in TYPES for tag in sentence.tags)


def test_same_seed_same_corpus_different_seed_different_corpus() -> None:
    first = make_corpus(3, n_train=60, n_dev=20, n_test=20)
    assert make_corpus(3, n_train=60, n_dev=20, n_test=20) == first
    assert make_corpus(4, n_train=60, n_dev=20, n_test=20) != first


def test_split_sizes_do_not_change_the_other_splits(corpus: Corpus) -> None:
    small = make_corpus(0, n_train=40, n_dev=10, n_test=0)
    assert small.train == corpus.train[:40]
    assert small.dev == corpus.dev[:10]
    assert small.test == ()


def test_the_corpus_is_the_same_in_other_processes() -> None:
    script = (
        "import hashlib; from objectives.synthetic import make_corpus; "
        "print(hashlib.sha256(repr(make_corpus(5, n_train=80, n_dev=30, n_test=30))"
        ".encode()).hexdigest())"
    )
    expected = digest(make_corpus(5, n_train=80, n_dev=30, n_test=30))
    for hash_seed in ("1", "2"):  # str hashing, and so set order, differs between these
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
        result = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        assert result.stdout.strip() == expected


def test_many_dev_and_test_entities_are_unseen_in_train(corpus: Corpus) -> None:
    seen = set(mentions(corpus.train))
    train_tokens = {token for s in corpus.train for token in s.tokens}
    for split in (corpus.dev, corpus.test):
        found = mentions(split)
        distinct = set(found)
        assert sum(m not in seen for m in distinct) / len(distinct) >= 0.3
        assert sum(m not in seen for m in found) / len(found) >= 0.3
        fresh = [m for m in found if not set(m[1].split()) & train_tokens]
        assert len(fresh) / len(found) >= 0.1  # not one of their tokens occurs in train


def test_entities_span_several_tokens_of_every_type(corpus: Corpus) -> None:
    found = mentions(corpus.train)
    for entity_type in TYPES:
        n_long = sum(len(text.split()) > 1 for t, text in found if t == entity_type)
        assert n_long >= 50, entity_type
    assert any(t == "LOC" and text.startswith("New ") for t, text in found)
    assert any(t == "ORG" and text.endswith(("Inc.", "& Sons", "Group")) for t, text in found)


def test_names_are_ambiguous_between_types(corpus: Corpus) -> None:
    found = mentions(corpus.train)
    single_persons = {text for t, text in found if t == "PER" and " " not in text}
    inside_orgs = {word for t, text in found if t == "ORG" for word in text.split()}
    assert len(single_persons & inside_orgs) >= 10  # "Morgan" said / "Morgan & Sons"
    types_of = defaultdict(set)
    for s in corpus.train:
        for token, tag in zip(s.tokens, s.tags, strict=True):
            types_of[token].add(tag[2:] if tag != "O" else "O")
    assert sum({"PER", "LOC"} <= kinds for kinds in types_of.values()) >= 5  # "Jordan"


def test_sentence_shapes_vary(corpus: Corpus) -> None:
    counts = Counter(min(len(entities(s.tags)), 3) for s in corpus.train)
    assert counts[0] >= 50 and counts[1] >= 100 and counts[3] >= 100
    first_letters = [s.tokens[0][0] for s in corpus.train if s.tokens[0][0].isalpha()]
    assert sum(c.islower() for c in first_letters) >= 30
    assert sum(all(not c.islower() for c in " ".join(s.tokens)) for s in corpus.train) >= 30


def test_memorising_tokens_is_far_from_enough(corpus: Corpus) -> None:
    # Tag each dev token with its most frequent train tag: unseen names defeat it.
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for s in corpus.train:
        for token, tag in zip(s.tokens, s.tags, strict=True):
            counts[token][tag] += 1

    def guess(token: str) -> str:
        return counts[token].most_common(1)[0][0] if token in counts else "O"

    pred = [[guess(token) for token in s.tokens] for s in corpus.dev]
    f1 = entity_scores([s.tags for s in corpus.dev], pred).f1
    assert 0.15 < f1 < 0.6


@pytest.mark.parametrize(("field", "value"), [("n_train", 0), ("n_dev", 0), ("n_test", -1)])
def test_sizes_are_checked(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=f"{field} must be >= {value + 1}, but got {value}"):
        make_corpus(0, **{field: value})
