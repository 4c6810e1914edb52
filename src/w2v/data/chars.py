"""Characters of the vocabulary: the character table and how characters compose a word's input vector.

Chinese words are built from characters that carry meaning (孙悟空, 孙行者, 孙大圣 share 孙), so
character-aware models (`train.chars`) give every word a vector made of its own row and its
characters' rows. The table lists the characters of the vocabulary's words with their counts (a
character's count is the corpus count of the words holding it, once per occurrence in the word).

Contract of `results/chars.tsv` (docs/contracts.md): header `id\\tchar\\tcount`; one row per
character, ids contiguous from 0, by count descending then character (code point order).

Compositions (the registry `COMPOSITIONS`, keyed by the `train.chars` setting) say, per vocabulary
id, which rows of the model's input table make the word's input vector, with which weights:
- `none`: the word's own row (plain word2vec);
- `cwe` (Chen et al., IJCAI 2015, the "addition" variant): x_w = 1/2 (v_w + 1/N sum_k c_k) over the
  word's N character occurrences that are in the table; a word with none of them keeps v_w.
Character rows follow the word rows in the input table: character i is row `vocab_size + i`.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from w2v.errors import UserError
from w2v.io import atomic_open, decode_text, read_input_bytes
from w2v.data.vocab import PAD_ID, Vocabulary

HEADER = "id\tchar\tcount"

# A token longer than this is no word a reader would split into meaningful characters (a number
# written out, a run of Latin letters), and its characters would widen every batch's bags.
MAX_WORD_CHARS = 16


@dataclass(frozen=True)
class CharTable:
    """Characters by id and their counts (`counts[i]` of `chars[i]`), and the file's sha256."""

    chars: tuple[str, ...]
    counts: np.ndarray
    sha256: str = ""

    def __len__(self) -> int:
        return len(self.chars)

    def at_least(self, min_count: int) -> "CharTable":
        """The characters seen at least `min_count` times, in table order."""
        keep = [i for i, count in enumerate(self.counts) if count >= min_count]
        return CharTable(tuple(self.chars[i] for i in keep), self.counts[keep], self.sha256)


def char_table(vocab: Vocabulary) -> CharTable:
    """The characters of the vocabulary's words, each counted once per occurrence in a word times
    the word's count, ordered by count descending then character."""
    counts: Counter[str] = Counter()
    for token, count in zip(vocab.tokens[PAD_ID + 1 :], vocab.counts[PAD_ID + 1 :]):
        for char in token:
            counts[char] += int(count)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return CharTable(tuple(c for c, _ in ordered), np.array([n for _, n in ordered], dtype=np.int64))


def write_char_table(table: CharTable, path: str | os.PathLike) -> None:
    """Write `table` as the chars.tsv contract, atomically."""
    rows = [HEADER] + [f"{i}\t{char}\t{count}" for i, (char, count) in enumerate(zip(table.chars, table.counts))]
    with atomic_open(path) as handle:
        handle.write("\n".join(rows) + "\n")


def load_char_table(path: str | os.PathLike) -> CharTable:
    """Read and check a chars.tsv; a file breaking the contract raises `UserError` naming the line."""
    path = Path(path)
    redo = "rerun `w2v vocab` (rule vocab), which writes it"
    data = read_input_bytes(path, missing=f"character table {path} does not exist; {redo}",
                            folder=f"character table {path} is a folder, not a chars.tsv file; {redo}")
    lines = decode_text(data, path, "utf-8", label="UTF-8", advice=redo).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0] != HEADER:
        raise UserError(f"{path}, line 1: expected the header {HEADER!r}, got {(lines or [''])[0]!r}; {redo}")
    chars: list[str] = []
    counts: list[int] = []
    for lineno, line in enumerate(lines[1:], 2):
        char, count = _parse_row(path, lineno, line, redo)
        if chars and (-count, char) <= (-counts[-1], chars[-1]):
            raise UserError(f"{path}, line {lineno}: rows must be ordered by count descending then character, "
                            f"but {char!r} ({count}) follows {chars[-1]!r} ({counts[-1]}); {redo}")
        chars.append(char)
        counts.append(count)
    return CharTable(tuple(chars), np.array(counts, dtype=np.int64), hashlib.sha256(data).hexdigest())


def _parse_row(path: Path, lineno: int, line: str, redo: str) -> tuple[str, int]:
    parts = line.split("\t")
    if len(parts) != 3:
        raise UserError(f"{path}, line {lineno}: expected 3 tab-separated fields, got {len(parts)}; {redo}")
    try:
        id_, count = int(parts[0]), int(parts[2])
    except ValueError:
        raise UserError(f"{path}, line {lineno}: id and count must be integers, got {line!r}; {redo}") from None
    if id_ != lineno - 2:
        raise UserError(f"{path}, line {lineno}: ids must be contiguous from 0, expected {lineno - 2}, got {id_}; {redo}")
    if len(parts[1]) != 1 or parts[1].isspace() or count < 1:
        raise UserError(f"{path}, line {lineno}: expected one character and a positive count, got {line!r}; {redo}")
    return parts[1], count


@dataclass(frozen=True)
class Composition:
    """Per vocabulary id, the input-table rows that make the word's input vector and their weights:
    x_w = sum_s weights[w, s] * table[rows[w, s]]. Unused slots hold row `PAD_ID` with weight 0, and
    the padding word's row is all padding."""

    rows: np.ndarray  # (vocab_size, slots) int32: the bag kernels index with int32
    weights: np.ndarray  # (vocab_size, slots) float64
    chars: CharTable  # the characters whose rows follow the words' in the table

    @property
    def extra_rows(self) -> int:
        return len(self.chars)


def cwe_composition(tokens: Sequence[str], chars: CharTable) -> Composition:
    """CWE's x_w = 1/2 (v_w + 1/N sum_k c_k) over the word's N character occurrences in `chars`."""
    first = len(tokens)
    row_of = {char: first + i for i, char in enumerate(chars.chars)}
    per_word = [[] if len(token) > MAX_WORD_CHARS else [row_of[c] for c in token if c in row_of] for token in tokens]
    per_word[PAD_ID] = []
    slots = 1 + max(len(r) for r in per_word)
    rows = np.full((len(tokens), slots), PAD_ID, dtype=np.int32)
    weights = np.zeros((len(tokens), slots), dtype=np.float64)
    for word, char_rows in enumerate(per_word):
        if word == PAD_ID:
            continue
        rows[word, 0] = word
        weights[word, 0] = 0.5 if char_rows else 1.0
        if char_rows:
            rows[word, 1 : 1 + len(char_rows)] = char_rows
            weights[word, 1 : 1 + len(char_rows)] = 0.5 / len(char_rows)
    return Composition(rows, weights, chars)


# `train.chars` -> how to compose a word from its characters (None: plain word vectors).
COMPOSITIONS: dict[str, Callable[[Sequence[str], CharTable], Composition] | None] = {
    "none": None,
    "cwe": cwe_composition,
}
