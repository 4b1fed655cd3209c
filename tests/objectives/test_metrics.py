"""Entity-level F1 with conlleval's semantics, on hand-computed cases and properties."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from objectives.conll import read_conll
from objectives.metrics import Scores, entities, entity_scores

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ([], []),
        (["O", "O"], []),
        (["B-PER", "I-PER", "O", "B-LOC"], [("PER", 0, 2), ("LOC", 3, 4)]),
        (["B-PER", "B-PER", "I-PER"], [("PER", 0, 1), ("PER", 1, 3)]),
        (["O", "I-PER", "I-PER"], [("PER", 1, 3)]),  # I- after O starts a chunk
        (["I-ORG"], [("ORG", 0, 1)]),
        (["B-PER", "I-LOC", "I-LOC"], [("PER", 0, 1), ("LOC", 1, 3)]),  # type change
        (["B-creative-work", "I-creative-work"], [("creative-work", 0, 2)]),
        (["S-PER", "B-LOC", "E-LOC", "U-ORG"], [("PER", 0, 1), ("LOC", 1, 3), ("ORG", 3, 4)]),
        (["B-LOC", "I-LOC", "L-LOC", "I-LOC"], [("LOC", 0, 3), ("LOC", 3, 4)]),
    ],
)
def test_entities_reads_chunks_as_conlleval(
    tags: list[str], expected: list[tuple[str, int, int]]
) -> None:
    assert entities(tags) == expected


def test_partial_overlap_and_wrong_type_count_as_wrong() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG"]]
    pred = [["B-PER", "O", "O", "B-LOC", "O", "B-MISC"]]
    scores = entity_scores(gold, pred)
    # Only LOC matches: the PER span is cut short, ORG is predicted as MISC.
    assert (scores.n_gold, scores.n_pred, scores.n_correct) == (3, 3, 1)
    assert scores.precision == pytest.approx(1 / 3)
    assert scores.recall == pytest.approx(1 / 3)
    assert scores.f1 == pytest.approx(1 / 3)


def test_scores_add_up_over_sentences() -> None:
    gold = [["B-PER", "I-PER", "O"], ["B-LOC", "O", "B-ORG"], ["B-MISC"]]
    pred = [["B-PER", "I-PER", "O"], ["B-LOC", "O", "O"], ["O"]]
    scores = entity_scores(gold, pred)
    assert (scores.n_gold, scores.n_pred, scores.n_correct) == (4, 2, 2)
    assert (scores.precision, scores.recall) == (1.0, 0.5)
    assert scores.f1 == pytest.approx(2 / 3)


def test_a_stray_i_in_predictions_starts_a_chunk_that_can_match() -> None:
    gold = [["O", "B-PER", "I-PER", "O"]]
    pred = [["O", "I-PER", "I-PER", "O"]]
    assert entity_scores(gold, pred).f1 == 1.0
    split = [["O", "I-PER", "I-LOC", "O"]]  # two chunks, neither the gold one
    assert entity_scores(gold, split) == Scores(0.0, 0.0, 0.0, 1, 2, 0)


def test_no_predictions_or_no_entities_give_zero_not_an_error() -> None:
    assert entity_scores([["B-PER", "O"]], [["O", "O"]]) == Scores(0.0, 0.0, 0.0, 1, 0, 0)
    assert entity_scores([["O", "O"]], [["O", "B-LOC"]]) == Scores(0.0, 0.0, 0.0, 0, 1, 0)
    assert entity_scores([["O"]], [["O"]]) == Scores(0.0, 0.0, 0.0, 0, 0, 0)
    assert entity_scores([], []) == Scores(0.0, 0.0, 0.0, 0, 0, 0)


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="same number of sentences, but got 2 and 1"):
        entity_scores([["O"], ["O"]], [["O"]])
    with pytest.raises(ValueError, match="sentence 1 has 2 gold tags but 1 predicted tags"):
        entity_scores([["O"], ["O", "O"]], [["O"], ["O"]])


@pytest.mark.parametrize("tag", ["PER", "B_PER", "X-PER", "B-"])
def test_an_invalid_tag_is_refused(tag: str) -> None:
    with pytest.raises(ValueError, match=f"invalid tag {tag!r}"):
        entities(["O", tag])


def test_scoring_the_conll2003_dev_set_is_exact() -> None:
    path = DATA / "conll2003" / "valid.txt"
    if not path.is_file():
        pytest.skip(f"{path} is absent (the shared corpora live beside the checkout)")
    gold = [s.tags for s in read_conll(path)]
    scores = entity_scores(gold, gold)
    assert scores == Scores(1.0, 1.0, 1.0, 5_942, 5_942, 5_942)


TAGS = st.sampled_from(["O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "E-LOC", "S-ORG"])


@st.composite
def tag_pairs(draw: st.DrawFn) -> tuple[list[list[str]], list[list[str]]]:
    lengths = draw(st.lists(st.integers(0, 10), max_size=6))
    gold = [draw(st.lists(TAGS, min_size=n, max_size=n)) for n in lengths]
    pred = [draw(st.lists(TAGS, min_size=n, max_size=n)) for n in lengths]
    return gold, pred


@given(tag_pairs())
def test_gold_against_itself_is_perfect(pair: tuple[list[list[str]], list[list[str]]]) -> None:
    gold, _ = pair
    scores = entity_scores(gold, gold)
    if scores.n_gold:
        assert (scores.precision, scores.recall, scores.f1) == (1.0, 1.0, 1.0)


@given(tag_pairs())
def test_scores_are_fractions_and_swap_with_the_arguments(
    pair: tuple[list[list[str]], list[list[str]]],
) -> None:
    gold, pred = pair
    forward, backward = entity_scores(gold, pred), entity_scores(pred, gold)
    assert 0.0 <= forward.f1 <= 1.0 and 0.0 <= forward.precision <= 1.0
    assert forward.n_correct <= min(forward.n_gold, forward.n_pred)
    assert (forward.precision, forward.recall) == (backward.recall, backward.precision)
    assert forward.f1 == pytest.approx(backward.f1)


@given(tag_pairs())
def test_chunks_are_ordered_disjoint_and_inside_the_sentence(
    pair: tuple[list[list[str]], list[list[str]]],
) -> None:
    for tags in pair[0]:
        end = 0
        for entity_type, start, stop in entities(tags):
            assert end <= start < stop <= len(tags)
            assert all(tag != "O" and tag.endswith(entity_type) for tag in tags[start:stop])
            end = stop
        n_tagged = sum(tag != "O" for tag in tags)
        assert sum(stop - start for _, start, stop in entities(tags)) == n_tagged
