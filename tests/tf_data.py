"""Tiny real data for the TF tier: a slice of the synthetic corpus written as CoNLL files."""

from __future__ import annotations

from pathlib import Path

from objectives.conll import Sentence
from objectives.synthetic import make_corpus

N_TRAIN, N_DEV = 400, 100


def write_conll(path: Path, sentences: tuple[Sentence, ...]) -> None:
    lines = []
    for sentence in sentences:
        lines += [
            f"{token} {tag}" for token, tag in zip(sentence.tokens, sentence.tags, strict=True)
        ]
        lines.append("")
    path.write_text("\n".join(lines) + "\n")


def tiny_corpus_folder(folder: Path) -> Path:
    corpus = make_corpus(seed=3, n_train=N_TRAIN, n_dev=N_DEV, n_test=N_DEV)
    folder.mkdir(parents=True, exist_ok=True)
    write_conll(folder / "train.txt", corpus.train)
    write_conll(folder / "valid.txt", corpus.dev)
    write_conll(folder / "test.txt", corpus.test)
    return folder
