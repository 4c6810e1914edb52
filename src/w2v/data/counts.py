"""Token counts per shard, merged into the vocabulary and the corpus statistics.

Each shard's tokens are counted as it is cleaned (`w2v clean --counts`: a job per shard) into a
Parquet file of (token, count, hash) with its sentence and token totals as metadata; rows are sorted by
`hash` (`token_hashes`: CRC-32 of the token's UTF-8, stable across runs and machines) in row groups of
`ROW_GROUP_ROWS`, so a merge of one hash range (`w2v.data.count_merge`) reads only the row groups that
overlap it. The vocabulary stage writes `results/vocab.tsv` plus `results/corpus.json`: the corpus
totals and, per shard, how many vocabulary tokens it holds and where its tokens start in the
in-vocabulary token stream (what the pairs jobs need to number positions as one unsharded run would).
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from w2v.errors import UserError
from w2v.io import atomic_open, atomic_path, read_json, read_parquet

log = logging.getLogger(__name__)

COUNTS_FORMAT = "w2v-counts-2"
STATS_FORMAT = "w2v-corpus-stats-1"
COUNTS_SCHEMA = pa.schema([("token", pa.string()), ("count", pa.int64())])
FILE_SCHEMA = pa.schema([("token", pa.string()), ("count", pa.int64()), ("hash", pa.uint32())])
ROW_GROUP_ROWS = 65_536  # what a partition's reader may read beyond its own rows, per file and range end


@dataclass
class ShardCounts:
    """One shard's counts: a (token, count) table and its totals."""

    table: pa.Table
    sentences: int
    tokens: int


def shard_counts(counts: Counter, sentences: int) -> ShardCounts:
    """A shard's `ShardCounts` from a token counter and its number of sentences."""
    table = pa.table(
        {"token": pa.array(list(counts), pa.string()), "count": pa.array(list(counts.values()), pa.int64())},
        schema=COUNTS_SCHEMA,
    )
    return ShardCounts(table, sentences, int(pc.sum(table["count"]).as_py() or 0))


def count_tokens_file(path: str | os.PathLike) -> ShardCounts:
    """Count the tokens of one clean token file (one sentence a line, tokens separated by spaces)."""
    counts: Counter = Counter()
    sentences = 0
    with open(path, encoding="utf-8") as handle:
        for line in tqdm(handle, desc=f"count {Path(path).name}", unit="line", disable=None):
            words = line.split()
            if words:
                sentences += 1
                counts.update(words)
    return shard_counts(counts, sentences)


def token_hashes(tokens: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Each token's CRC-32 of its UTF-8 bytes (uint32): a hash that, unlike Python's `hash`, is the
    same in every process, so every shard puts a token in the same partition."""
    return pa.array([zlib.crc32(token.encode("utf-8")) for token in tokens.to_pylist()], pa.uint32())


def write_counts(counts: ShardCounts, path: str | os.PathLike) -> None:
    """Write a shard's counts as Parquet (zstd) sorted by token hash, totals in the metadata; atomically."""
    meta = {"w2v.format": COUNTS_FORMAT, "w2v.sentences": str(counts.sentences), "w2v.tokens": str(counts.tokens)}
    table = counts.table.append_column("hash", token_hashes(counts.table["token"]))
    table = table.take(pc.sort_indices(table["hash"])).cast(FILE_SCHEMA)
    with atomic_path(path) as tmp:
        pq.write_table(table.replace_schema_metadata(meta), tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS)


def read_counts(path: str | os.PathLike) -> ShardCounts:
    """Read and check a counts file written by `write_counts`."""
    path = Path(path)
    redo = "rerun `w2v clean --counts` (rule clean)"
    table = read_parquet(path, "counts file", redo)
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    check_counts_meta(path, meta, table.schema.names)
    table = table.replace_schema_metadata(None).select(COUNTS_SCHEMA.names).cast(COUNTS_SCHEMA)
    return ShardCounts(table, int(meta["w2v.sentences"]), int(meta["w2v.tokens"]))


def check_counts_meta(path: Path, meta: dict[str, str], names: list[str]) -> None:
    """`UserError` unless a counts file's metadata and columns are those `write_counts` writes."""
    if meta.get("w2v.format") != COUNTS_FORMAT or names != FILE_SCHEMA.names:
        raise UserError(
            f"{path} is not a w2v counts file of this version (format {meta.get('w2v.format')!r}, expected "
            f"{COUNTS_FORMAT!r}); rerun `w2v clean --counts` (rule clean)"
        )


def load_counts(path: str | os.PathLike) -> ShardCounts:
    """A counts file (`.parquet`, from `w2v clean --counts`) or a clean token file, counted here."""
    return read_counts(path) if str(path).endswith(".parquet") else count_tokens_file(path)


def merge_counts(shards: Iterable[ShardCounts]) -> tuple[pa.Table, list[tuple[int, int]]]:
    """(token, count) summed over the shards, and each shard's (sentences, tokens). Shards are merged
    one at a time as they come, so memory stays about twice the vocabulary."""
    merged: pa.Table | None = None
    totals = []
    for shard in shards:
        totals.append((shard.sentences, shard.tokens))
        table = shard.table if merged is None else pa.concat_tables([merged, shard.table])
        grouped = table.group_by("token", use_threads=False).aggregate([("count", "sum")])
        merged = pa.table({"token": grouped["token"], "count": grouped["count_sum"]}, schema=COUNTS_SCHEMA)
    if merged is None:
        raise ValueError("no counts to merge")
    return merged, totals


@dataclass
class CorpusStats:
    """What `results/corpus.json` holds: corpus totals and, per shard, its place in the token stream."""

    sentences: int
    tokens: int
    distinct: int
    vocab_sha256: str
    vocab_words: int
    vocab_tokens: int
    shards: list[dict]

    def write(self, path: str | os.PathLike) -> None:
        with atomic_open(path) as handle:
            json.dump({"format": STATS_FORMAT, **asdict(self)}, handle, indent=1, ensure_ascii=False)
            handle.write("\n")

    @classmethod
    def read(cls, path: str | os.PathLike) -> CorpusStats:
        path = Path(path)
        redo = "rerun `w2v vocab` (rule vocab)"
        data = read_json(path, "corpus statistics", redo)
        if not isinstance(data, dict) or data.pop("format", None) != STATS_FORMAT:
            raise UserError(f"{path} is not a w2v corpus statistics file; {redo}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise UserError(f"{path}: {exc}; {redo}") from None


def corpus_stats(shards: Iterable[ShardCounts], distinct: int, words: list[str], vocab_sha256: str) -> CorpusStats:
    """Totals, and per shard its vocabulary tokens and first position in the in-vocabulary stream
    (`words`: the vocabulary without padding)."""
    value_set = pa.array(words, pa.string())
    per_shard = []
    position = 0
    for shard in shards:
        in_vocab = pc.is_in(shard.table["token"], value_set=value_set)
        n = int(pc.sum(pc.filter(shard.table["count"], in_vocab)).as_py() or 0)
        per_shard.append({
            "sentences": shard.sentences, "tokens": shard.tokens, "vocab_tokens": n, "first_position": position,
        })
        position += n
    return CorpusStats(
        sentences=sum(s["sentences"] for s in per_shard),
        tokens=sum(s["tokens"] for s in per_shard),
        distinct=distinct,
        vocab_sha256=vocab_sha256,
        vocab_words=len(words),
        vocab_tokens=position,
        shards=per_shard,
    )
