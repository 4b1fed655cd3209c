"""Read CoNLL-style NER files into sentences with IOB2 tags.

The reader accepts the column layouts found in the wild (CoNLL-2003's four space-separated
columns, WNUT-17's token<TAB>tag) and the four common tag schemes, and hands the rest of the
project one scheme only, IOB2 (BIO), so that vocabularies, models and the metric never have
to care where a corpus came from. Every problem is a ``DataError`` naming ``file:line``.

The tag scheme is decided per file, not per sentence: a sentence with one single-token
entity looks like valid IOB2 and valid BIOES at once, so only the whole file says which it
is. A file using any ``E-``/``S-``/``L-``/``U-`` tag is read as BIOES/BILOU and checked
strictly; any other file is read as IOB1/IOB2, which are read the same way (an ``I-`` that
does not continue a chunk of its type starts one, IOB1's rule and conlleval's reading).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from objectives.errors import DataError

Scheme = Literal["iob", "bioes"]

DOCSTART = "-DOCSTART-"
# Every accepted prefix and what it means in BIOES terms (BILOU's L and U are E and S).
PREFIXES = {"B": "B", "I": "I", "E": "E", "S": "S", "L": "E", "U": "S"}
_EXPECTED_TAGS = (
    '"O" or PREFIX-TYPE with PREFIX one of B, I, E, S, L, U '
    "(IOB1, IOB2/BIO, BIOES or BILOU), e.g. B-PER"
)
_SPLIT_STEMS: dict[str, tuple[str, ...]] = {
    "train": ("train", "training"),
    "dev": ("dev", "valid", "validation", "devel", "development", "val"),
    "test": ("test", "testing"),
}
_SPLIT_EXTENSIONS = (
    "",
    ".txt",
    ".conll",
    ".tsv",
    ".bio",
    ".iob",
    ".iob1",
    ".iob2",
    ".bioes",
    ".iobes",
    ".bilou",
    ".ner",
    ".data",
)


@dataclass(frozen=True)
class Sentence:
    """One sentence: tokens and their IOB2 tags, of equal, non-zero length."""

    tokens: tuple[str, ...]
    tags: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.tokens:
            raise DataError("a sentence needs at least one token, but got none")
        if len(self.tokens) != len(self.tags):
            raise DataError(
                f"a sentence needs one tag per token, but got {len(self.tokens)} tokens "
                f"and {len(self.tags)} tags"
            )


@dataclass(frozen=True)
class Corpus:
    """Train/dev/test sentences and where they came from; ``test`` may be empty."""

    train: tuple[Sentence, ...]
    dev: tuple[Sentence, ...]
    test: tuple[Sentence, ...]
    source: str

    def __post_init__(self) -> None:
        for name in ("train", "dev"):
            if not getattr(self, name):
                raise DataError(f"{self.source}: the {name} split has no sentences")

    @property
    def entity_types(self) -> tuple[str, ...]:
        """Entity types seen in train, sorted: the label set a model is built for."""
        return tuple(sorted({tag[2:] for s in self.train for tag in s.tags if tag != "O"}))

    def summary(self) -> dict[str, object]:
        """Counts per split, for logs and study user attributes (plain JSON values)."""
        splits = {"train": self.train, "dev": self.dev, "test": self.test}
        result: dict[str, object] = {"source": self.source}
        result["entity_types"] = list(self.entity_types)
        for name, sentences in splits.items():
            result[name] = _split_counts(sentences)
        return result


def _split_counts(sentences: Sequence[Sentence]) -> dict[str, int]:
    return {
        "n_sentences": len(sentences),
        "n_tokens": sum(len(s.tokens) for s in sentences),
        # In IOB2 every entity starts with exactly one B- tag.
        "n_entities": sum(tag.startswith("B-") for s in sentences for tag in s.tags),
    }


# --- tags -------------------------------------------------------------------------------


def _parse_tag(tag: str, where: str) -> tuple[str, str]:
    """Split a tag into (prefix, type) with L/U mapped to E/S; ("O", "") for outside."""
    if tag == "O":
        return "O", ""
    prefix, dash, entity_type = tag.partition("-")
    if not dash or prefix not in PREFIXES or not entity_type:
        raise DataError(f"{where}: invalid tag {tag!r}; expected {_EXPECTED_TAGS}")
    return PREFIXES[prefix], entity_type


# Corpora hold a handful of distinct tags: parsing each once keeps big files fast.
_parsed_tags: dict[str, tuple[str, str]] = {}


def _parse_all(tags: Sequence[str], locate: Callable[[int], str]) -> list[tuple[str, str]]:
    parsed = []
    for i, tag in enumerate(tags):
        found = _parsed_tags.get(tag)
        if found is None:
            found = _parsed_tags[tag] = _parse_tag(tag, locate(i))
        parsed.append(found)
    return parsed


def _detect_scheme(parsed: Iterable[tuple[str, str]]) -> Scheme:
    return "bioes" if any(prefix in "ES" for prefix, _ in parsed) else "iob"


def _iob_to_iob2(parsed: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    out = []
    previous_type = ""
    for prefix, entity_type in parsed:
        if prefix == "O":
            out.append("O")
        elif prefix == "I" and previous_type == entity_type:
            out.append("I-" + entity_type)
        else:
            out.append("B-" + entity_type)
        previous_type = entity_type
    return tuple(out)


def _bioes_to_iob2(
    parsed: Sequence[tuple[str, str]], tags: Sequence[str], locate: Callable[[int], str]
) -> tuple[str, ...]:
    """Convert strictly: in BIOES every chunk is B (I)* E or a lone S, nothing else."""
    rule = "in BIOES/BILOU a chunk is B- (I-)* E- (or L-), or a single S- (or U-)"
    out = []
    open_type = ""  # type of the chunk begun by B- and not yet closed by E-
    for i, (prefix, entity_type) in enumerate(parsed):
        previous = repr(tags[i - 1]) if i else "the sentence start"
        if prefix in "IE" and open_type != entity_type:
            raise DataError(
                f"{locate(i)}: invalid tag sequence: {tags[i]!r} after {previous} does not "
                f"continue a {entity_type} chunk; {rule}"
            )
        if prefix in "BSO" and open_type:
            raise DataError(
                f"{locate(i)}: invalid tag sequence: the {open_type} chunk before {tags[i]!r} "
                f"is not closed by E-{open_type}; {rule}"
            )
        out.append("O" if prefix == "O" else ("B-" if prefix in "BS" else "I-") + entity_type)
        open_type = entity_type if prefix in "BI" else ""
    if open_type:
        raise DataError(
            f"{locate(len(tags) - 1)}: invalid tag sequence: the {open_type} chunk is not "
            f"closed by E-{open_type} at the end of the sentence; {rule}"
        )
    return tuple(out)


def _line_locator(where: str) -> Callable[[int], str]:
    """Name tag i: "file:line" counts on from the first tag's line (a sentence's lines
    are consecutive); any other ``where`` gets the tag's 1-based position appended."""
    match = re.fullmatch(r"(.*):(\d+)", where)
    if match:
        name, first = match.group(1), int(match.group(2))
        return lambda i: f"{name}:{first + i}"
    return lambda i: f"{where} (tag {i + 1})"


def normalise_tags(
    tags: Sequence[str], *, where: str, scheme: Scheme | None = None
) -> tuple[str, ...]:
    """Return ``tags`` (IOB1, IOB2, BIOES or BILOU) as IOB2.

    ``where`` names the first tag for messages, e.g. "train.txt:17". ``scheme`` is detected
    from ``tags`` when not given; ``read_conll`` passes the scheme it detected for the file.
    """
    locate = _line_locator(where)
    parsed = _parse_all(tags, locate)
    chosen = scheme or _detect_scheme(parsed)
    if chosen == "bioes":
        return _bioes_to_iob2(parsed, tags, locate)
    return _iob_to_iob2(parsed)


# --- files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RawSentence:
    first_line: int
    tokens: tuple[str, ...]
    tags: tuple[str, ...]


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: expected a CoNLL file, but it is a folder")
    try:
        # utf-8-sig: a byte-order mark would otherwise glue itself to the first token.
        return path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error})") from None


def _raw_sentences(path: Path, lines: Sequence[str]) -> list[_RawSentence]:
    """Group lines into sentences; blank, whitespace-only and -DOCSTART- lines break."""
    sentences: list[_RawSentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    first_line = 0
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields or fields[0] == DOCSTART:
            if tokens:
                sentences.append(_RawSentence(first_line, tuple(tokens), tuple(tags)))
                tokens, tags = [], []
            continue
        if len(fields) < 2:
            raise DataError(f'{path}:{number}: expected "TOKEN ... TAG", got {line!r}')
        if not tokens:
            first_line = number
        tokens.append(fields[0])
        tags.append(fields[-1])
    if tokens:
        sentences.append(_RawSentence(first_line, tuple(tokens), tuple(tags)))
    return sentences


def read_conll(path: str | Path) -> list[Sentence]:
    """Read one CoNLL file: token in the first column, tag in the last, tags made IOB2."""
    path = Path(path)
    lines = _read_lines(path)
    if not any(line.strip() for line in lines):
        raise DataError(f"{path}: the file is empty")
    raw = _raw_sentences(path, lines)
    if not raw:
        raise DataError(f"{path}: the file holds no sentences (only -DOCSTART- lines)")
    scheme, evidence = _file_scheme(path, raw)
    try:
        return [
            Sentence(
                s.tokens, normalise_tags(s.tags, where=f"{path}:{s.first_line}", scheme=scheme)
            )
            for s in raw
        ]
    except DataError as error:
        if scheme != "bioes" or "sequence" not in str(error):
            raise
        # One stray S- in an IOB2 file makes the whole file BIOES: say why it was read so.
        raise DataError(
            f"{error} (the file is read as BIOES/BILOU because of {evidence})"
        ) from None


def _file_scheme(path: Path, raw: Sequence[_RawSentence]) -> tuple[Scheme, str]:
    """The file's scheme, and for BIOES the first tag that made it so."""
    for sentence in raw:
        for i, tag in enumerate(sentence.tags):
            if tag[:2] in ("E-", "S-", "L-", "U-"):
                return "bioes", f"{tag!r} at {path}:{sentence.first_line + i}"
    return "iob", ""


def _split_of(name: str) -> str | None:
    lowered = name.lower()
    for split, stems in _SPLIT_STEMS.items():
        for stem in stems:
            if lowered.startswith(stem) and lowered[len(stem) :] in _SPLIT_EXTENSIONS:
                return split
    return None


def find_splits(folder: str | Path) -> dict[str, Path]:
    """Find the train, dev and (optional) test files of a corpus folder by their names."""
    folder = Path(folder)
    if not folder.is_dir():
        what = "no such folder" if not folder.exists() else "expected a folder, got a file"
        raise DataError(f"{folder}: {what}")
    names = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    found: dict[str, list[str]] = {}
    for name in names:
        split = _split_of(name)
        if split:
            found.setdefault(split, []).append(name)
    for split, candidates in found.items():
        if len(candidates) > 1:
            raise DataError(
                f"{folder}: found several {split} files ({', '.join(candidates)}); keep one"
            )
    missing = [split for split in ("train", "dev") if split not in found]
    if missing:
        raise DataError(
            f"{folder}: no {' or '.join(missing)} file; found {', '.join(names) or 'no files'}; "
            f"expected {_expected_names()}"
        )
    return {split: folder / candidates[0] for split, candidates in found.items()}


def _expected_names() -> str:
    stems = {split: "/".join(stems) for split, stems in _SPLIT_STEMS.items()}
    extensions = ", ".join(ext for ext in _SPLIT_EXTENSIONS if ext)
    return (
        f"a train file ({stems['train']}), a dev file ({stems['dev']}) and optionally a "
        f"test file ({stems['test']}), each with no extension or one of {extensions}, "
        "e.g. train.txt, valid.txt, test.txt"
    )


def read_corpus(path: str | Path) -> Corpus:
    """Read a corpus folder (train, dev, optional test file); a single file is refused,
    since no split of one file into train and dev would be the user's split."""
    path = Path(path)
    if path.is_file():
        raise DataError(
            f"{path}: expected a folder holding train and dev files (e.g. train.txt and "
            "valid.txt), but got a single file"
        )
    splits = find_splits(path)
    sentences = {split: tuple(read_conll(file)) for split, file in splits.items()}
    return Corpus(
        train=sentences["train"],
        dev=sentences["dev"],
        test=sentences.get("test", ()),
        source=str(path),
    )
