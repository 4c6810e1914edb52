"""The count merge in hash partitions: each job's memory follows its partition, not the vocabulary.

Partition `p` of `n` holds the tokens whose `w2v.data.counts.token_hashes` value lies in
[p * 2**32 // n, (p + 1) * 2**32 // n). Shards' counts files are sorted by that hash, so one
partition's merge (`w2v count-merge`, a job per partition) reads from each file only the row groups
overlapping its range. It sums its tokens' counts and keeps as candidates the words seen at least
`min_count` times, with `max_vocab_size` only its `max_vocab_size` first in vocabulary order: a word of
the global top K has fewer than K words ahead of it in all, so fewer in its own partition, and the
union of the partitions' top Ks holds the global top K, ties ordered alike. The last job
(`w2v vocab --merged`) orders the candidates as `w2v.data.vocab.vocab_from_counts` would the whole
merge, and takes the corpus totals (tokens, distinct tokens, largest count) from the partitions'
metadata, so vocab.tsv, chars.tsv and corpus.json are those of an in-memory merge.

Contract of a partition file (Parquet): columns (token, count) in vocabulary order; metadata
`w2v.format`, `w2v.partition`, `w2v.partitions`, `w2v.min_count`, `w2v.max_vocab_size` (the settings
it was cut with, "none" for no cap), `w2v.tokens`, `w2v.distinct` and `w2v.top` of the whole partition.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from w2v.data.counts import COUNTS_SCHEMA, check_counts_meta
from w2v.errors import UserError
from w2v.io import atomic_path, read_parquet
from w2v.data.vocab import CountSummary, Vocabulary, finish_vocab, kept_counts, vocab_from_counts

log = logging.getLogger(__name__)

PARTITION_FORMAT = "w2v-count-partition-1"
HASH_RANGE = 2**32


def partition_range(part: int, parts: int) -> tuple[int, int]:
    """The hash values [lo, hi) of partition `part` of `parts`."""
    if not 0 <= part < parts:
        raise UserError(f"partition {part} does not exist: partitions are numbered 0 to {parts - 1}")
    return part * HASH_RANGE // parts, (part + 1) * HASH_RANGE // parts


def read_partition(path: str | os.PathLike, part: int, parts: int) -> tuple[pa.Table, int]:
    """The (token, count) rows of one shard's counts file in partition `part` of `parts`, and the
    file's rows read; only row groups whose hash range overlaps the partition's are read, one at a time."""
    path = Path(path)
    lo, hi = partition_range(part, parts)
    meta = read_parquet(path, "counts file", "rerun `w2v clean --counts` (rule clean)", metadata_only=True)
    schema = meta.schema.to_arrow_schema()
    check_counts_meta(path, {k.decode(): v.decode() for k, v in (schema.metadata or {}).items()}, schema.names)
    column = schema.get_field_index("hash")
    file = pq.ParquetFile(path)
    pieces, rows_read = [], 0
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(column).statistics
        if stats is not None and stats.has_min_max and (stats.max < lo or stats.min >= hi):
            continue
        group = file.read_row_group(i)
        rows_read += group.num_rows
        inside = pc.and_(pc.greater_equal(group["hash"], lo), pc.less(group["hash"], hi))
        pieces.append(group.filter(inside).select(COUNTS_SCHEMA.names).replace_schema_metadata(None))
    table = pa.concat_tables(pieces).cast(COUNTS_SCHEMA) if pieces else COUNTS_SCHEMA.empty_table()
    return table, rows_read


def sum_counts(tables: Sequence[pa.Table]) -> pa.Table:
    """(token, count) summed over `tables`."""
    grouped = pa.concat_tables(tables).group_by("token", use_threads=False).aggregate([("count", "sum")])
    return pa.table({"token": grouped["token"], "count": grouped["count_sum"]}, schema=COUNTS_SCHEMA)


@dataclass(frozen=True)
class Partition:
    """One partition's merge: its candidates (token, count, in vocabulary order), its totals, and
    where it sits and how it was cut."""

    candidates: pa.Table
    summary: CountSummary
    part: int
    parts: int
    min_count: int
    max_vocab_size: int | None


def merge_partition(
    paths: Sequence[str | os.PathLike], part: int, parts: int, min_count: int, max_vocab_size: int | None,
) -> Partition:
    """Merge partition `part` of `parts` of the shards' counts files `paths`. Shards are summed in
    batches once the pending rows reach the merged rows, so memory stays about three times the
    partition's distinct tokens plus one shard's share."""
    merged, pending, pending_rows = COUNTS_SCHEMA.empty_table(), [], 0
    for path in paths:
        table, _ = read_partition(path, part, parts)
        pending.append(table)
        pending_rows += table.num_rows
        if pending_rows >= max(merged.num_rows, 1 << 20):
            merged, pending, pending_rows = sum_counts([merged, *pending]), [], 0
    merged = sum_counts([merged, *pending])
    summary = CountSummary(
        tokens=int(pc.sum(merged["count"]).as_py() or 0), distinct=merged.num_rows,
        top=int(pc.max(merged["count"]).as_py() or 0),
    )
    candidates = kept_counts(merged, min_count, max_vocab_size)
    log.info("partition %d of %d: %d distinct tokens, %d candidates", part, parts, merged.num_rows, candidates.num_rows)
    return Partition(candidates, summary, part, parts, min_count, max_vocab_size)


def write_partition(partition: Partition, path: str | os.PathLike) -> None:
    """Write a partition's candidates and totals as Parquet (zstd); atomically."""
    meta = {
        "w2v.format": PARTITION_FORMAT, "w2v.partition": str(partition.part), "w2v.partitions": str(partition.parts),
        "w2v.min_count": str(partition.min_count), "w2v.max_vocab_size": str(partition.max_vocab_size or "none"),
        "w2v.tokens": str(partition.summary.tokens), "w2v.distinct": str(partition.summary.distinct),
        "w2v.top": str(partition.summary.top),
    }
    with atomic_path(path) as tmp:
        pq.write_table(partition.candidates.replace_schema_metadata(meta), tmp, compression="zstd")


def read_partition_file(path: str | os.PathLike) -> Partition:
    """Read and check a partition file written by `write_partition`."""
    path = Path(path)
    redo = "rerun `w2v count-merge` (rule count_merge)"
    table = read_parquet(path, "count partition file", redo)
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    if meta.get("w2v.format") != PARTITION_FORMAT or table.schema.names != COUNTS_SCHEMA.names:
        raise UserError(f"{path} is not a w2v count partition file (format {meta.get('w2v.format')!r}); {redo}")
    cap = meta["w2v.max_vocab_size"]
    summary = CountSummary(int(meta["w2v.tokens"]), int(meta["w2v.distinct"]), int(meta["w2v.top"]))
    return Partition(
        table.replace_schema_metadata(None).cast(COUNTS_SCHEMA), summary, int(meta["w2v.partition"]),
        int(meta["w2v.partitions"]), int(meta["w2v.min_count"]), None if cap == "none" else int(cap),
    )


def check_partitions(
    partitions: Sequence[Partition], paths: Sequence, min_count: int, max_vocab_size: int | None,
) -> None:
    """`UserError` unless `partitions` are partitions 0 to n-1 of n, each cut with these settings."""
    redo = "rerun `w2v count-merge` for every partition (rule count_merge)"
    n = len(partitions)
    for path, partition in zip(paths, partitions):
        if partition.parts != n or (partition.min_count, partition.max_vocab_size) != (min_count, max_vocab_size):
            raise UserError(
                f"{path} is partition {partition.part} of {partition.parts} cut with min_count "
                f"{partition.min_count} and max_vocab_size {partition.max_vocab_size}, but {n} partitions "
                f"with min_count {min_count} and max_vocab_size {max_vocab_size} were given; {redo}"
            )
    numbers = sorted(partition.part for partition in partitions)
    if numbers != list(range(n)):
        raise UserError(f"partitions {numbers} given, expected each of 0 to {n - 1} once; {redo}")


def vocab_from_partitions(
    partition_paths: Sequence[str | os.PathLike],
    count_paths: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    min_count: int = 1,
    max_vocab_size: int | None = None,
    stats_path: str | os.PathLike | None = None,
) -> Vocabulary:
    """The vocabulary from every partition's candidates, written to `output` (and with `stats_path`,
    the corpus statistics, from the shards' counts files `count_paths` in corpus order)."""
    partitions = [read_partition_file(p) for p in partition_paths]
    check_partitions(partitions, partition_paths, min_count, max_vocab_size)
    candidates = pa.concat_tables([partition.candidates for partition in partitions])
    summary = CountSummary(
        tokens=sum(p.summary.tokens for p in partitions), distinct=sum(p.summary.distinct for p in partitions),
        top=max(p.summary.top for p in partitions),
    )
    vocab = vocab_from_counts(candidates, min_count, max_vocab_size)
    return finish_vocab(vocab, summary, count_paths, output, min_count, stats_path)
