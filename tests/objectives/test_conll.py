"""The CoNLL reader: layouts, tag schemes, every malformed case, and the real corpora."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objectives.conll import (
    Corpus,
    Sentence,
    find_splits,
    normalise_tags,
    read_conll,
    read_corpus,
)
from objectives.errors import DataError
from objectives.metrics import entities

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

TOKENS = "Peter Blackburn met John Mary at Bank of America in New York .".split()
IOB2 = "B-PER I-PER O B-PER B-PER O B-ORG I-ORG I-ORG O B-LOC I-LOC O".split()
SCHEMES = {
    "iob1": "I-PER I-PER O I-PER B-PER O I-ORG I-ORG I-ORG O I-LOC I-LOC O".split(),
    "iob2": IOB2,
    "bioes": "B-PER E-PER O S-PER S-PER O B-ORG I-ORG E-ORG O B-LOC E-LOC O".split(),
    "bilou": "B-PER L-PER O U-PER U-PER O B-ORG I-ORG L-ORG O B-LOC L-LOC O".split(),
}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def conll_text(tokens: list[str], tags: list[str], sep: str = " ") -> str:
    return "".join(f"{token}{sep}{tag}\n" for token, tag in zip(tokens, tags, strict=True))


def error_of(path: Path) -> str:
    with pytest.raises(DataError) as info:
        read_conll(path)
    return str(info.value)


# --- layouts and schemes ----------------------------------------------------------------


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_every_scheme_reads_as_the_same_iob2(tmp_path: Path, scheme: str) -> None:
    path = write(tmp_path, "train.txt", conll_text(TOKENS, SCHEMES[scheme]))
    assert read_conll(path) == [Sentence(tuple(TOKENS), tuple(IOB2))]


def test_docstart_lines_are_skipped_without_empty_sentences(tmp_path: Path) -> None:
    text = "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n"
    text += "-DOCSTART- -X- -X- O\n\n\nPeter NNP B-NP B-PER\n"
    text += "-DOCSTART- -X- O\nBonn NNP B-NP B-LOC\n"  # a DOCSTART with no blank line before
    sentences = read_conll(write(tmp_path, "a.txt", text))
    assert [s.tokens for s in sentences] == [("EU", "rejects"), ("Peter",), ("Bonn",)]
    assert [s.tags for s in sentences] == [("B-ORG", "O"), ("B-PER",), ("B-LOC",)]


def test_tag_is_the_last_column_with_tabs_or_spaces(tmp_path: Path) -> None:
    text = "Peter\tNNP\tB-PER\nlives  \t VBZ   O\nin IN  O\nBonn\tB-LOC\n"
    (sentence,) = read_conll(write(tmp_path, "a.txt", text))
    assert sentence.tokens == ("Peter", "lives", "in", "Bonn")
    assert sentence.tags == ("B-PER", "O", "O", "B-LOC")


def test_whitespace_only_lines_break_sentences(tmp_path: Path) -> None:
    text = "a\tO\nb\tB-X\n\t\nc\tO\n   \nd\tO\n \t \ne\tO"  # no final newline either
    sentences = read_conll(write(tmp_path, "a.conll", text))
    assert [s.tokens for s in sentences] == [("a", "b"), ("c",), ("d",), ("e",)]


def test_crlf_line_ends_and_a_byte_order_mark_are_harmless(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes("\ufeffPeter B-PER\r\nsaid O\r\n\r\nno O\r\n".encode())
    sentences = read_conll(path)
    assert [s.tokens for s in sentences] == [("Peter", "said"), ("no",)]


def test_scheme_is_decided_per_file(tmp_path: Path) -> None:
    # Sentence 1 alone is valid IOB2 and BIOES; the E- in sentence 2 makes the file BIOES,
    # so "B-PER O" in sentence 1 is an unclosed chunk, reported at its own line.
    text = "Ann B-PER\nsaid O\n\nBob B-PER\nSmith E-PER\n"
    message = error_of(write(tmp_path, "mixed.txt", text))
    assert f"{tmp_path / 'mixed.txt'}:2:" in message
    assert "not closed by E-PER" in message
    assert f"because of 'E-PER' at {tmp_path / 'mixed.txt'}:5" in message


def test_iob1_and_stray_i_tags_start_chunks(tmp_path: Path) -> None:
    text = "the O\nEU I-ORG\nand O\nUN I-ORG\nIBM I-ORG\nBonn I-LOC\n"
    (sentence,) = read_conll(write(tmp_path, "a.txt", text))
    assert sentence.tags == ("O", "B-ORG", "O", "B-ORG", "I-ORG", "B-LOC")


# --- malformed files ------------------------------------------------------------------


def test_a_line_without_a_tag_names_file_line_and_text(tmp_path: Path) -> None:
    path = write(tmp_path, "train.txt", "EU B-ORG\nrejects O\n\nPeter\nBlackburn I-PER\n")
    assert error_of(path) == f"{path}:4: expected \"TOKEN ... TAG\", got 'Peter'"


@pytest.mark.parametrize("tag", ["B_PER", "X-PER", "PER", "B-", "b-PER", "o", "-PER"])
def test_an_invalid_tag_names_file_line_tag_and_expected_forms(tmp_path: Path, tag: str) -> None:
    path = write(tmp_path, "train.txt", f"EU B-ORG\n\nrejects O\nPeter {tag}\n")
    message = error_of(path)
    assert message.startswith(f"{path}:4: invalid tag {tag!r}; expected")
    assert '"O" or PREFIX-TYPE' in message and "BIOES" in message and "BILOU" in message


@pytest.mark.parametrize(
    ("tags", "line", "words"),
    [
        ("O E-PER", 2, "'E-PER' after 'O' does not continue a PER chunk"),
        ("S-PER I-PER", 2, "'I-PER' after 'S-PER' does not continue a PER chunk"),
        ("B-PER E-LOC", 2, "'E-LOC' after 'B-PER' does not continue a LOC chunk"),
        ("L-PER O", 1, "'L-PER' after the sentence start does not continue a PER chunk"),
        ("B-PER O", 2, "the PER chunk before 'O' is not closed by E-PER"),
        ("B-PER S-PER", 2, "the PER chunk before 'S-PER' is not closed by E-PER"),
        ("O B-LOC", 2, "the LOC chunk is not closed by E-LOC at the end of the sentence"),
    ],
)
def test_an_invalid_bioes_sequence_names_where(
    tmp_path: Path, tags: str, line: int, words: str
) -> None:
    body = "".join(f"w{i} {tag}\n" for i, tag in enumerate(tags.split()))
    path = write(tmp_path, "a.txt", "x S-MISC\n\n" + body)
    message = error_of(path)
    assert message.startswith(f"{path}:{line + 2}: invalid tag sequence: ")
    assert words in message


@pytest.mark.parametrize("text", ["", "\n\n", " \t\n  \n"])
def test_an_empty_file_is_refused(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "train.txt", text)
    assert error_of(path) == f"{path}: the file is empty"


def test_a_file_with_only_docstart_has_no_sentences(tmp_path: Path) -> None:
    path = write(tmp_path, "train.txt", "-DOCSTART- -X- -X- O\n\n")
    assert error_of(path).startswith(f"{path}: the file holds no sentences")


def test_missing_paths_folders_and_binary_files_are_refused(tmp_path: Path) -> None:
    assert error_of(tmp_path / "nope.txt") == f"{tmp_path / 'nope.txt'}: no such file"
    assert "is a folder" in error_of(tmp_path)
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\xff\xfe\x00token O\n")
    assert error_of(binary).startswith(f"{binary}: not UTF-8 text")


def test_normalise_tags_counts_lines_from_where() -> None:
    with pytest.raises(DataError, match=r"^x\.txt:12: invalid tag 'B_PER'"):
        normalise_tags(["O", "B-PER", "B_PER"], where="x.txt:10")
    with pytest.raises(DataError, match=r"^predictions \(tag 2\): invalid tag 'PER'"):
        normalise_tags(["O", "PER"], where="predictions")
    assert normalise_tags(["U-PER", "S-LOC"], where="s") == ("B-PER", "B-LOC")
    assert normalise_tags(["I-PER", "I-LOC"], where="s") == ("B-PER", "B-LOC")  # read as IOB1
    with pytest.raises(DataError, match="^s \\(tag 1\\): invalid tag sequence"):
        normalise_tags(["I-PER", "I-LOC"], where="s", scheme="bioes")


def test_sentences_and_corpora_check_themselves() -> None:
    with pytest.raises(DataError, match="one tag per token"):
        Sentence(("a", "b"), ("O",))
    with pytest.raises(DataError, match="at least one token"):
        Sentence((), ())
    with pytest.raises(DataError, match="the dev split has no sentences"):
        Corpus(train=(Sentence(("a",), ("O",)),), dev=(), test=(), source="mine")


# --- folders ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("train", "dev", "test"),
    [
        ("train.txt", "valid.txt", "test.txt"),
        ("train.conll", "dev.conll", "test.conll"),
        ("training.tsv", "validation.bio", "testing.iob2"),
        ("Train.TXT", "devel.txt", None),
        ("train", "development.bioes", None),
    ],
)
def test_find_splits_knows_the_common_names(
    tmp_path: Path, train: str, dev: str, test: str | None
) -> None:
    for name in (train, dev, test, "README.md", "train.json", ".train.txt"):
        if name:
            write(tmp_path, name, "a O\n")
    expected = {"train": tmp_path / train, "dev": tmp_path / dev}
    if test:
        expected["test"] = tmp_path / test
    assert find_splits(tmp_path) == expected


def test_find_splits_says_what_is_missing_found_and_expected(tmp_path: Path) -> None:
    write(tmp_path, "train.txt", "a O\n")
    write(tmp_path, "notes.md", "hi\n")
    with pytest.raises(DataError) as info:
        find_splits(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{tmp_path}: no dev file; found notes.md, train.txt; expected")
    assert "valid" in message and "e.g. train.txt, valid.txt, test.txt" in message
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no train or dev file; found no files"):
        find_splits(empty)


def test_find_splits_refuses_two_candidates_and_non_folders(tmp_path: Path) -> None:
    for name in ("train.txt", "train.conll", "dev.txt"):
        write(tmp_path, name, "a O\n")
    with pytest.raises(DataError, match=r"several train files \(train.conll, train.txt\)"):
        find_splits(tmp_path)
    with pytest.raises(DataError, match="no such folder"):
        find_splits(tmp_path / "missing")
    with pytest.raises(DataError, match="expected a folder, got a file"):
        find_splits(tmp_path / "dev.txt")


def test_read_corpus_reads_a_folder_and_summarises_it(tmp_path: Path) -> None:
    write(tmp_path, "train.txt", "Ann B-PER\nsaid O\n\nin O\nBonn B-LOC\nand O\nParis B-LOC\n")
    write(tmp_path, "valid.txt", "EU B-ORG\n")
    corpus = read_corpus(tmp_path)
    assert corpus.test == ()
    assert corpus.source == str(tmp_path)
    assert corpus.entity_types == ("LOC", "PER")
    assert corpus.summary() == {
        "source": str(tmp_path),
        "entity_types": ["LOC", "PER"],
        "train": {"n_sentences": 2, "n_tokens": 6, "n_entities": 3},
        "dev": {"n_sentences": 1, "n_tokens": 1, "n_entities": 1},
        "test": {"n_sentences": 0, "n_tokens": 0, "n_entities": 0},
    }


def test_read_corpus_wants_a_folder_not_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, "train.txt", "a O\n")
    with pytest.raises(DataError, match="expected a folder holding train and dev files"):
        read_corpus(path)


# --- the real corpora -------------------------------------------------------------------


def real_corpus(name: str) -> Corpus:
    folder = DATA / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (the shared corpora live beside the checkout)")
    return read_corpus(folder)


def counts(corpus: Corpus, key: str) -> tuple[object, ...]:
    summary = corpus.summary()
    return tuple(summary[split][key] for split in ("train", "dev", "test"))  # type: ignore[index]


def test_conll2003_counts_match_the_published_statistics() -> None:
    corpus = real_corpus("conll2003")
    assert counts(corpus, "n_sentences") == (14_041, 3_250, 3_453)
    assert counts(corpus, "n_tokens") == (203_621, 51_362, 46_435)
    assert counts(corpus, "n_entities") == (23_499, 5_942, 5_648)
    assert corpus.entity_types == ("LOC", "MISC", "ORG", "PER")
    first = corpus.train[0]
    assert first.tokens[:3] == ("EU", "rejects", "German")
    assert first.tags[:3] == ("B-ORG", "O", "B-MISC")


def test_wnut17_counts_match_its_source_notes() -> None:
    corpus = real_corpus("wnut17")
    assert counts(corpus, "n_sentences") == (3_394, 1_009, 1_287)
    assert counts(corpus, "n_tokens") == (62_730, 15_733, 23_394)
    assert counts(corpus, "n_entities") == (1_975, 836, 1_079)
    assert corpus.entity_types == (
        "corporation",
        "creative-work",
        "group",
        "location",
        "person",
        "product",
    )


# --- properties -------------------------------------------------------------------------

TYPES = st.sampled_from(["PER", "LOC", "ORG", "creative-work"])


@st.composite
def spans(draw: st.DrawFn) -> tuple[int, list[tuple[str, int, int]]]:
    """A sentence length and non-overlapping entity spans in it, adjacent ones included."""
    found, position = [], 0
    for gap, length, entity_type in draw(
        st.lists(st.tuples(st.integers(0, 2), st.integers(1, 4), TYPES), max_size=6)
    ):
        start = position + gap
        found.append((entity_type, start, start + length))
        position = start + length
    return position + draw(st.integers(0, 2)) or 1, found


def render(n_tokens: int, chunks: list[tuple[str, int, int]], scheme: str) -> list[str]:
    tags = ["O"] * n_tokens
    previous_end: dict[int, str] = {}
    for entity_type, start, end in chunks:
        if scheme in ("bioes", "bilou"):
            single, begin, inside, last = ("S", "B", "I", "E") if scheme == "bioes" else "UBIL"
            if end - start == 1:
                tags[start] = f"{single}-{entity_type}"
                continue
            tags[start : end - 1] = [f"{inside}-{entity_type}"] * (end - 1 - start)
            tags[start] = f"{begin}-{entity_type}"
            tags[end - 1] = f"{last}-{entity_type}"
            continue
        tags[start:end] = [f"I-{entity_type}"] * (end - start)
        if scheme == "iob2" or previous_end.get(start) == entity_type:
            tags[start] = f"B-{entity_type}"
        previous_end[end] = entity_type
    return tags


@given(spans())
def test_all_schemes_normalise_to_iob2_and_keep_the_spans(
    case: tuple[int, list[tuple[str, int, int]]],
) -> None:
    n_tokens, chunks = case
    iob2 = tuple(render(n_tokens, chunks, "iob2"))
    for scheme in ("iob1", "iob2", "bioes", "bilou"):
        tags = render(n_tokens, chunks, scheme)
        assert entities(tags) == chunks
        assert normalise_tags(tags, where="s", scheme=None if scheme != "iob1" else "iob") == iob2
    assert entities(iob2) == chunks


WORDS = st.text(st.characters(blacklist_categories=("Z", "C")), min_size=1, max_size=8).filter(
    lambda w: w != "-DOCSTART-"
)


@st.composite
def sentences(draw: st.DrawFn) -> Sentence:
    n_tokens, chunks = draw(spans())
    tokens = draw(st.lists(WORDS, min_size=n_tokens, max_size=n_tokens))
    return Sentence(tuple(tokens), tuple(render(n_tokens, chunks, "iob2")))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(sentences(), min_size=1, max_size=5),
    st.sampled_from([" ", "\t", "  ", " \t"]),
    st.integers(0, 2),
    st.booleans(),
)
def test_written_sentences_read_back_identical(
    tmp_path_factory: pytest.TempPathFactory,
    written: list[Sentence],
    separator: str,
    n_extra_columns: int,
    docstart: bool,
) -> None:
    blocks = ["-DOCSTART- -X- O\n"] if docstart else []
    for sentence in written:
        extra = separator.join(["X"] * n_extra_columns)
        middle = f"{separator}{extra}" if extra else ""
        lines = (
            f"{t}{middle}{separator}{g}\n"
            for t, g in zip(sentence.tokens, sentence.tags, strict=True)
        )
        blocks.append("".join(lines))
    path = tmp_path_factory.mktemp("roundtrip") / "train.txt"
    path.write_text("\n".join(blocks), encoding="utf-8")
    assert read_conll(path) == written
