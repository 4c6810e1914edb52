"""The vocabulary: merged word counts of the clean token stream, written as `results/vocab.tsv`.

Contract (docs/contracts.md): header `id\\ttoken\\tcount`; row id 0 is `<pad>` with count 0
(padding, never a word); then words by count descending, then token ascending (code point order);
ids contiguous from 1. Words rarer than `min_count` are left out, and later stages drop them from the
token stream, as gensim and the word2vec C tool do (no unknown-word token).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from w2v.data.counts import corpus_stats, load_counts, merge_counts, shard_counts

from w2v.errors import UserError
from w2v.io import atomic_open, decode_text, read_input_bytes

log = logging.getLogger(__name__)

PAD_TOKEN = "<pad>"  # the token of row 0
PAD_ID = 0  # the id of padding: row 0 of the vocabulary and of both embedding matrices
HEADER = "id\ttoken\tcount"


@dataclass
class Vocabulary:
    """Tokens by id (`tokens[0] == "<pad>"`), their counts (`counts[0] == 0`) and the file hash."""

    tokens: list[str]
    counts: np.ndarray
    sha256: str = ""
    token_to_id: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.counts = np.asarray(self.counts, dtype=np.int64)
        self.token_to_id = {token: i for i, token in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)


def build_vocab(counts: Mapping[str, int], min_count: int = 1, max_vocab_size: int | None = None) -> Vocabulary:
    """Keep words seen at least `min_count` times, most frequent first, at most `max_vocab_size`."""
    return vocab_from_counts(shard_counts(Counter(counts), 0).table, min_count, max_vocab_size)


def vocab_from_counts(merged: pa.Table, min_count: int = 1, max_vocab_size: int | None = None) -> Vocabulary:
    """Words seen at least `min_count` times, by count descending then token (code point order), the
    exact `max_vocab_size` most frequent (no pruning while counting)."""
    kept = kept_counts(merged, min_count, max_vocab_size)
    tokens = kept["token"].to_pylist()
    counts = kept["count"].to_numpy()
    return Vocabulary([PAD_TOKEN, *tokens], np.concatenate([[0], counts]).astype(np.int64))


def kept_counts(merged: pa.Table, min_count: int = 1, max_vocab_size: int | None = None) -> pa.Table:
    """The (token, count) rows of `merged` that the vocabulary keeps, in vocabulary order (count
    descending, then token): also what one hash partition keeps as its candidates (`w2v.data.count_merge`)."""
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    if max_vocab_size is not None and max_vocab_size < 1:
        raise ValueError(f"max_vocab_size must be >= 1 or None, got {max_vocab_size}")
    kept = merged.filter(pc.greater_equal(merged["count"], min_count))
    # Tokens sorted first, then a stable sort by count: twice as fast as one two-key sort. UTF-8 byte
    # order is code point order, so Arrow's string sort agrees with Python's.
    by_token = pc.sort_indices(kept["token"]).to_numpy()
    order = by_token[np.argsort(-kept["count"].to_numpy()[by_token], kind="stable")]
    kept = kept.take(order)
    if max_vocab_size is not None:
        kept = kept.slice(0, max_vocab_size)
    return kept


def format_vocab(vocab: Vocabulary) -> bytes:
    """The vocab.tsv bytes of `vocab` (rows joined by Arrow, so a million-word vocabulary takes a second)."""
    ids = pa.array(np.arange(len(vocab), dtype=np.int64)).cast(pa.string())
    counts = pa.array(vocab.counts).cast(pa.string())
    rows = pc.binary_join_element_wise(ids, pa.array(vocab.tokens, pa.string()), counts, "\t")
    rows = pc.binary_join_element_wise(rows, "", "\n")  # each row followed by its line end
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[rows.offset : rows.offset + len(rows) + 1]
    body = rows.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]]
    return (HEADER + "\n").encode("utf-8") + body


def write_vocab(vocab: Vocabulary, path: str | os.PathLike) -> str:
    """Write `vocab` atomically to `path`; return (and store in `vocab.sha256`) the file's sha256."""
    data = format_vocab(vocab)
    with atomic_open(path, "wb") as out:
        out.write(data)
    vocab.sha256 = hashlib.sha256(data).hexdigest()
    return vocab.sha256


def make_vocab(
    inputs: str | os.PathLike | Sequence[str | os.PathLike],
    output: str | os.PathLike,
    min_count: int = 1,
    max_vocab_size: int | None = None,
    stats_path: str | os.PathLike | None = None,
) -> Vocabulary:
    """Merge the counts of `inputs` (shards' counts files from `w2v clean --counts`, or clean token files, in
    corpus order), build the vocabulary and write it; with `stats_path`, also the corpus statistics
    (`w2v.data.counts.CorpusStats`). `UserError` if no token or no word is left."""
    paths = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    # In memory: the workflow merges here when vocab.count_partitions is 1, in `w2v.data.count_merge` otherwise.
    merged, totals = merge_counts(load_counts(p) for p in paths)
    summary = CountSummary(
        tokens=sum(tokens for _, tokens in totals), distinct=merged.num_rows,
        top=int(pc.max(merged["count"]).as_py() or 0),
    )
    vocab = vocab_from_counts(merged, min_count, max_vocab_size)
    return finish_vocab(vocab, summary, paths, output, min_count, stats_path)


@dataclass(frozen=True)
class CountSummary:
    """What the vocabulary step knows of all tokens besides the kept words: the number of tokens, of
    distinct tokens, and the largest count (for the message when min_count leaves no word)."""

    tokens: int
    distinct: int
    top: int


def finish_vocab(
    vocab: Vocabulary,
    summary: CountSummary,
    count_paths: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    min_count: int,
    stats_path: str | os.PathLike | None = None,
) -> Vocabulary:
    """Check that words are left, write `vocab` to `output` and, with `stats_path`, the corpus
    statistics, reading the shards' counts (`count_paths`, corpus order) one file at a time."""
    if summary.tokens == 0:
        names = ", ".join(str(p) for p in count_paths)
        raise UserError(
            f"no tokens left after cleaning ({names} hold none): the corpus is all punctuation and "
            "symbols, or its words were filtered by config keys `clean.digits`/`clean.latin`; check that "
            "config key `corpus` names a text with words in it"
        )
    if len(vocab) == 1:
        raise UserError(
            f"no word of the corpus occurs {min_count} times or more (the most frequent occurs "
            f"{summary.top} times), so the vocabulary is empty; lower config key `vocab.min_count` "
            f"(at most {summary.top}) or use a larger corpus"
        )
    write_vocab(vocab, output)
    if stats_path is not None:
        stats = corpus_stats((load_counts(p) for p in count_paths), summary.distinct, vocab.tokens[1:], vocab.sha256)
        stats.write(stats_path)
    kept = int(vocab.counts.sum())
    log.info(
        "vocabulary: %d words (of %d distinct), %d of %d tokens kept (%.1f%%)",
        len(vocab) - 1, summary.distinct, kept, summary.tokens, 100.0 * kept / summary.tokens,
    )
    return vocab


def load_vocab(path: str | os.PathLike) -> Vocabulary:
    """Read and check a vocab.tsv; a file breaking the contract raises `UserError` naming the line."""
    path = Path(path)
    redo = "rerun `w2v vocab` (rule vocab)"
    data = read_input_bytes(
        path,
        missing=f"vocabulary file {path} does not exist; {redo}",
        folder=f"vocabulary {path} is a folder, not a vocab.tsv file; {redo}",
    )
    text = decode_text(data, path, "utf-8", label="UTF-8", advice=redo)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0] != HEADER:
        got = lines[0] if lines else ""
        raise UserError(f"{path}, line 1: expected the header {HEADER!r}, got {got!r}; {redo}")
    tokens: list[str] = []
    counts: list[int] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(lines[1:], 2):
        parts = line.split("\t")
        if len(parts) != 3:
            raise UserError(f"{path}, line {lineno}: expected 3 tab-separated fields, got {len(parts)}; {redo}")
        id_text, token, count_text = parts
        try:
            id_, count = int(id_text), int(count_text)
        except ValueError:
            raise UserError(f"{path}, line {lineno}: id and count must be integers, got {line!r}; {redo}") from None
        expected = lineno - 2
        if id_ != expected:
            raise UserError(f"{path}, line {lineno}: ids must be contiguous from 0, expected {expected}, got {id_}; {redo}")
        if expected == 0:
            if token != PAD_TOKEN or count != 0:
                raise UserError(f"{path}, line {lineno}: row 0 must be '{PAD_TOKEN}' with count 0, got {line!r}; {redo}")
        else:
            if not token or token != token.strip() or any(ch.isspace() for ch in token):
                raise UserError(f"{path}, line {lineno}: empty token or token with whitespace; {redo}")
            if count < 1:
                raise UserError(f"{path}, line {lineno}: count must be positive, got {count}; {redo}")
            if expected > 1 and (-count, token) <= (-counts[-1], tokens[-1]):
                raise UserError(
                    f"{path}, line {lineno}: rows must be ordered by count descending then token "
                    f"ascending, but {token!r} ({count}) follows {tokens[-1]!r} ({counts[-1]}); {redo}"
                )
        if token in seen:
            raise UserError(f"{path}, line {lineno}: token {token!r} already on line {seen[token]}; {redo}")
        seen[token] = lineno
        tokens.append(token)
        counts.append(count)
    if len(tokens) < 2:
        raise UserError(f"{path}: the vocabulary holds no words; {redo}")
    return Vocabulary(tokens, np.array(counts, dtype=np.int64), hashlib.sha256(data).hexdigest())
