"""Window pairs for training: every (center, context) relation up to `window`, with its distance.

Two Parquet files (schemas in docs/contracts.md), written in row groups of at most 65,536 rows with
zstd so memory stays flat however long the corpus is:

- CBOW: one row per in-vocabulary token occurrence: `position: int64`, `center: int32`,
  `context: fixed_size_list<int32>[2*window]` (ids at offsets -window..-1, +1..+window, 0 = padding
  where the offset falls outside the sentence; a one-word sentence has an all-padding context).
- skip-gram: one row per pair in the same sentence: `position: int64`, `center: int32`,
  `context: int32`, `offset: int8`, ordered by position then offset.

Rare words (not in the vocabulary) are removed from the stream first, as gensim does; positions
count the remaining tokens from 0 across sentences. No sampling happens here: training draws
shrinking windows and subsampling afresh each epoch from `position` and `offset`. Key-value metadata:
`w2v.format`, `w2v.window`, `w2v.vocab_sha256`, `w2v.seed`, `w2v.n_tokens`, `w2v.n_sentences`.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from w2v.errors import UserError
from w2v.io import atomic_path, read_parquet
from w2v.data.vocab import Vocabulary

log = logging.getLogger(__name__)

ROW_GROUP_SIZE = 65_536
CBOW_FORMAT = "cbow-pairs-1"
SKIPGRAM_FORMAT = "skipgram-pairs-1"
_INT_KEYS = ("window", "n_tokens", "n_sentences", "seed")
# Keys of a part of a partitioned dataset; a file without them is the one part of its dataset.
_PART_KEYS = {"part": 0, "parts": 1, "first_position": 0}


def cbow_schema(window: int) -> pa.Schema:
    """Arrow schema of the CBOW file for `window`."""
    return pa.schema([
        ("position", pa.int64()),
        ("center", pa.int32()),
        ("context", pa.list_(pa.int32(), 2 * window)),
    ])


SKIPGRAM_SCHEMA = pa.schema([
    ("position", pa.int64()),
    ("center", pa.int32()),
    ("context", pa.int32()),
    ("offset", pa.int8()),
])


@dataclass(frozen=True)
class PairsLayout:
    """One kind of pairs file: its format id (the `w2v.format` metadata), Arrow schema and decoding.

    The training registry (`w2v.training.registry`) pairs each model with its layout; readers and
    writers take the columns and the schema from here, their one statement.
    """

    format: str
    schema: Callable[[int], pa.Schema]

    def columns(self) -> list[str]:
        return self.schema(1).names

    def row_bytes(self, window: int) -> int:
        """Bytes of one decoded row (the in-memory size readers budget their caches with)."""
        return sum(np.dtype(field.type.value_type.to_pandas_dtype()).itemsize * field.type.list_size
                   if pa.types.is_fixed_size_list(field.type) else field.type.bit_width // 8
                   for field in self.schema(window))

    def decode(self, table: pa.Table, window: int, where: str) -> dict[str, np.ndarray]:
        """A row group's columns as NumPy arrays; a list column becomes (rows, width), checked."""
        out = {}
        for field in self.schema(window):
            column = table.column(field.name).combine_chunks()
            if pa.types.is_fixed_size_list(field.type):
                width = field.type.list_size
                flat = column.flatten().to_numpy()
                if column.null_count or flat.shape[0] != len(table) * width:
                    raise UserError(f"{where}: {field.name} lists must hold {width} ids (window {window}); "
                                    "rerun `w2v pairs` (rule pairs)")
                out[field.name] = flat.reshape(len(table), width)
            else:
                out[field.name] = column.to_numpy()
        return out


CBOW_PAIRS = PairsLayout(CBOW_FORMAT, cbow_schema)
SKIPGRAM_PAIRS = PairsLayout(SKIPGRAM_FORMAT, lambda window: SKIPGRAM_SCHEMA)


def offsets(window: int) -> np.ndarray:
    """Context offsets in column order: -window..-1, +1..+window."""
    return np.array([*range(-window, 0), *range(1, window + 1)], dtype=np.int64)


def iter_sentence_batches(
    tokens_path: str | os.PathLike, vocab: Vocabulary, batch_tokens: int = ROW_GROUP_SIZE
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (ids, sentence lengths) for runs of whole sentences of about `batch_tokens` tokens.

    Words missing from `vocab` are dropped; sentences left empty are skipped.
    """
    lookup = vocab.token_to_id
    ids: list[int] = []
    lengths: list[int] = []
    with open(tokens_path, encoding="utf-8") as handle:
        for line in handle:
            sentence = [i for i in map(lookup.get, line.split()) if i]
            if not sentence:
                continue
            ids.extend(sentence)
            lengths.append(len(sentence))
            if len(ids) >= batch_tokens:
                yield np.array(ids, dtype=np.int32), np.array(lengths, dtype=np.int64)
                ids, lengths = [], []
    if ids:
        yield np.array(ids, dtype=np.int32), np.array(lengths, dtype=np.int64)


def context_matrix(ids: np.ndarray, lengths: np.ndarray, window: int) -> np.ndarray:
    """(n, 2*window) int32 context ids of each token, 0 where the offset leaves the sentence."""
    n = len(ids)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    local = np.arange(n, dtype=np.int64) - starts
    sentence_len = np.repeat(lengths, lengths)
    context = np.zeros((n, 2 * window), dtype=np.int32)
    for column, offset in enumerate(offsets(window)):
        target = local + offset
        valid = (target >= 0) & (target < sentence_len)
        rows = np.flatnonzero(valid)
        context[rows, column] = ids[rows + offset]
    return context


class _RowGroupWriter:
    """Parquet writer that buffers columns and writes full row groups of `row_group_size` rows."""

    def __init__(self, path: Path, schema: pa.Schema, metadata: dict[str, str], row_group_size: int):
        self.schema = schema.with_metadata(metadata)
        self.writer = pq.ParquetWriter(path, self.schema, compression="zstd")
        self.row_group_size = row_group_size
        self.pending: list[pa.Table] = []
        self.n_pending = 0
        self.rows = 0
        self.closed = False

    def add(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.n_pending += table.num_rows
        while self.n_pending >= self.row_group_size:
            self._flush(self.row_group_size)

    def _flush(self, n: int) -> None:
        table = pa.concat_tables(self.pending)
        self.writer.write_table(table.slice(0, n), row_group_size=self.row_group_size)
        rest = table.slice(n)
        self.pending = [rest] if rest.num_rows else []
        self.n_pending = rest.num_rows
        self.rows += n

    def finish(self, metadata: dict[str, str]) -> None:
        """Write what is pending, add `metadata` to the file's footer and close the file."""
        if self.n_pending:
            self._flush(self.n_pending)
        self.writer.add_key_value_metadata(metadata)
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.writer.close()


@dataclass(frozen=True)
class Part:
    """Where a pairs file sits in a partitioned dataset: part `index` of `parts`, its first token's
    position in the whole in-vocabulary stream, and (when known) how many tokens it must hold."""

    index: int = 0
    parts: int = 1
    first_position: int = 0
    expected_tokens: int | None = None


@dataclass
class PairsStats:
    """What `write_pairs` wrote."""

    n_tokens: int
    n_sentences: int
    cbow_rows: int
    skipgram_rows: int


def write_pairs(
    tokens_path: str | os.PathLike,
    vocab: Vocabulary,
    cbow_path: str | os.PathLike | None,
    skipgram_path: str | os.PathLike | None,
    window: int,
    seed: int,
    row_group_size: int = ROW_GROUP_SIZE,
    batch_tokens: int = ROW_GROUP_SIZE,
    part: Part = Part(),
) -> PairsStats:
    """Write the CBOW and/or skip-gram Parquet file for `tokens_path` (a path of None skips that model;
    each file appears only when complete), in one pass over the tokens.

    Sentences are processed in runs of about `batch_tokens` tokens, so memory does not grow with the
    corpus. `part` places the file in a partitioned dataset (one file per shard): positions start at
    `part.first_position`, and a part may be empty (a shard with no vocabulary word).
    """
    if not 1 <= window <= 127:
        raise ValueError(f"window must be in 1..127, got {window}")
    if cbow_path is None and skipgram_path is None:
        raise ValueError("write_pairs needs a CBOW or a skip-gram path")
    common = {
        "w2v.window": str(window),
        "w2v.vocab_sha256": vocab.sha256,
        "w2v.seed": str(seed),
        "w2v.part": str(part.index),
        "w2v.parts": str(part.parts),
        "w2v.first_position": str(part.first_position),
    }
    offs = offsets(window).astype(np.int8)
    n_tokens = n_sentences = 0
    with contextlib.ExitStack() as stack:
        cbow, skipgram = _open_writers(stack, cbow_path, skipgram_path, window, common, row_group_size)
        progress = tqdm(desc="pairs", unit="token", disable=None)
        for ids, lengths in iter_sentence_batches(tokens_path, vocab, batch_tokens):
            start = part.first_position + n_tokens
            positions = np.arange(start, start + len(ids), dtype=np.int64)
            _add_batch(cbow, skipgram, ids, context_matrix(ids, lengths, window), positions, offs)
            n_tokens += len(ids)
            n_sentences += len(lengths)
            progress.update(len(ids))
        progress.close()
        _check_part_tokens(tokens_path, n_tokens, part)
        totals = {"w2v.n_tokens": str(n_tokens), "w2v.n_sentences": str(n_sentences)}
        for writer in (cbow, skipgram):
            if writer is not None:
                writer.finish(totals)  # totals are known only now: they go into the file's footer
    stats = PairsStats(n_tokens, n_sentences, cbow.rows if cbow else 0, skipgram.rows if skipgram else 0)
    log.info(
        "pairs: %d tokens in %d sentences, %d CBOW rows, %d skip-gram rows (window %d)",
        n_tokens, n_sentences, stats.cbow_rows, stats.skipgram_rows, window,
    )
    return stats


def _open_writers(
    stack: contextlib.ExitStack,
    cbow_path: str | os.PathLike | None,
    skipgram_path: str | os.PathLike | None,
    window: int,
    common: dict,
    row_group_size: int,
) -> tuple[_RowGroupWriter | None, _RowGroupWriter | None]:
    """The CBOW and skip-gram writers (None where the path is None), each into a temporary file that
    `stack` renames into place when it closes without an error."""
    cbow = skipgram = None
    if cbow_path is not None:
        tmp = stack.enter_context(atomic_path(cbow_path))
        cbow = _RowGroupWriter(tmp, cbow_schema(window), {"w2v.format": CBOW_FORMAT, **common}, row_group_size)
        stack.callback(cbow.close)
    if skipgram_path is not None:
        tmp = stack.enter_context(atomic_path(skipgram_path))
        skipgram = _RowGroupWriter(tmp, SKIPGRAM_SCHEMA, {"w2v.format": SKIPGRAM_FORMAT, **common}, row_group_size)
        stack.callback(skipgram.close)
    return cbow, skipgram


def _add_batch(
    cbow: _RowGroupWriter | None, skipgram: _RowGroupWriter | None, ids: np.ndarray, context: np.ndarray,
    positions: np.ndarray, offs: np.ndarray,
) -> None:
    """One run of sentences' rows: a CBOW row per token (its whole context), a skip-gram row per
    (token, context word) pair."""
    if cbow is not None:
        cbow.add(pa.table({
            "position": positions,
            "center": ids,
            "context": pa.FixedSizeListArray.from_arrays(pa.array(context.ravel()), context.shape[1]),
        }, schema=cbow.schema))
    if skipgram is not None:
        rows, cols = np.nonzero(context)
        skipgram.add(pa.table({
            "position": positions[rows],
            "center": ids[rows],
            "context": context[rows, cols],
            "offset": offs[cols],
        }, schema=skipgram.schema))


def _check_part_tokens(tokens_path: str | os.PathLike, n_tokens: int, part: Part) -> None:
    """UserError when a whole corpus holds no vocabulary token, or a shard not what the corpus
    statistics counted."""
    if n_tokens == 0 and part.parts == 1:
        raise UserError(
            f"no token of {tokens_path} is in the vocabulary; rebuild the vocabulary from this "
            "token file (rule vocab)"
        )
    if part.expected_tokens is not None and n_tokens != part.expected_tokens:
        raise UserError(
            f"{tokens_path} holds {n_tokens} vocabulary tokens, but the corpus statistics say "
            f"{part.expected_tokens} for part {part.index}: the token shard changed after the vocabulary "
            "was built; rerun `w2v clean --counts` and `w2v vocab` (rules clean and vocab)"
        )


def read_pairs_metadata(path: str | os.PathLike) -> dict:
    """Return the `w2v.*` metadata of a pairs file (prefix dropped), window/n_tokens/n_sentences/seed as ints.

    Raises `UserError` when the file is missing, not Parquet, or not written by `w2v pairs`.
    """
    path = Path(path)
    redo = "rerun `w2v pairs` (rule pairs)"
    footer = read_parquet(path, "pairs file", redo, metadata_only=True)
    raw = {k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, v in (footer.metadata or {}).items()}
    meta = {k[len("w2v."):]: v for k, v in raw.items() if k.startswith("w2v.")}
    if meta.get("format") not in (CBOW_FORMAT, SKIPGRAM_FORMAT):
        raise UserError(
            f"{path} is not a w2v pairs file (metadata w2v.format is {meta.get('format')!r}, expected "
            f"{CBOW_FORMAT!r} or {SKIPGRAM_FORMAT!r}); {redo}"
        )
    for key in _INT_KEYS:
        try:
            meta[key] = int(meta[key])
        except (KeyError, ValueError):
            raise UserError(f"{path}: metadata w2v.{key} is missing or not an integer; {redo}") from None
    for key, default in _PART_KEYS.items():
        try:
            meta[key] = int(meta.get(key, default))
        except ValueError:
            raise UserError(f"{path}: metadata w2v.{key} is not an integer; {redo}") from None
    if "vocab_sha256" not in meta:
        raise UserError(f"{path}: metadata w2v.vocab_sha256 is missing; {redo}")
    return meta


def dataset_files(source: str | os.PathLike | list) -> list[Path]:
    """The part files of a pairs dataset: a file stands for itself, a folder for its `*.parquet` files."""
    items = source if isinstance(source, (list, tuple)) else [source]
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(path.glob("*.parquet"))
            if not found:
                raise UserError(f"pairs folder {path} holds no .parquet files; rerun `w2v pairs` (rule pairs)")
            files.extend(found)
        else:
            files.append(path)
    if not files:
        raise UserError("no pairs file given; rerun `w2v pairs` (rule pairs)")
    return files


def read_dataset_metadata(source: str | os.PathLike | list) -> tuple[dict, list[Path]]:
    """The metadata of a pairs dataset (totals over its parts) and its part files in part order.

    Every part must agree on format, window, vocabulary and seed, and the parts must be complete and
    contiguous (part i starts where part i-1 ends), so a stale file from another run is caught.
    """
    files = dataset_files(source)
    metas = sorted(((read_pairs_metadata(f), f) for f in files), key=lambda mf: mf[0]["part"])
    first, first_file = metas[0]
    redo = "delete the pairs folder and rerun `w2v pairs` for every shard (rule pairs)"
    position = 0
    for index, (meta, path) in enumerate(metas):
        for key in ("format", "window", "vocab_sha256", "seed", "parts"):
            if meta[key] != first[key]:
                raise UserError(
                    f"{path} and {first_file} belong to different pairs datasets (metadata w2v.{key}: "
                    f"{meta[key]!r} vs {first[key]!r}); {redo}"
                )
        if meta["part"] != index or meta["first_position"] != position:
            raise UserError(
                f"{path}: part {meta['part']} (first position {meta['first_position']}) does not follow the "
                f"parts before it (expected part {index} at position {position}); {redo}"
            )
        position += meta["n_tokens"]
    if len(metas) != first["parts"]:
        raise UserError(f"the pairs dataset has {len(metas)} of its {first['parts']} part files; {redo}")
    combined = {k: first[k] for k in ("format", "window", "vocab_sha256", "seed", "parts")}
    combined["n_tokens"] = position
    combined["n_sentences"] = sum(m["n_sentences"] for m, _ in metas)
    if position == 0:
        raise UserError(f"the pairs dataset {files[0].parent} holds no tokens; rerun `w2v pairs` (rule pairs)")
    return combined, [f for _, f in metas]
