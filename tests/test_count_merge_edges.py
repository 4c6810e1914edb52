"""Edges of `w2v.data.count_merge` that test_count_merge.py leaves open (found by mutation testing,
docs/testing.md): the messages for a missing, unreadable or foreign partition file and for a repeated
partition, the min_count named when no word is left, and the batched sum of a partition of over a
million distinct tokens."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from test_count_merge import merged_files, write_shards
from w2v.data.count_merge import merge_partition, partition_range, read_partition, read_partition_file, vocab_from_partitions
from w2v.data.counts import shard_counts, token_hashes, write_counts
from w2v.errors import UserError

REDO = r"rerun `w2v count-merge` \(rule count_merge\)"


def test_a_missing_partition_file_is_named_with_the_step_that_writes_it(tmp_path):
    with pytest.raises(UserError, match=rf"^count partition file {tmp_path}/none.parquet does not exist; {REDO}$"):
        read_partition_file(tmp_path / "none.parquet")


def test_an_unreadable_partition_file_says_to_rerun_the_merge(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(UserError, match=rf"bad.parquet is not a readable Parquet file .*; {REDO}$"):
        read_partition_file(bad)


@pytest.mark.parametrize(
    "columns, fmt",
    [({"token": ["a"], "count": [1]}, "w2v-counts-2"), ({"token": ["a"], "n": [1]}, "w2v-count-partition-1")],
    ids=["other-format", "other-columns"],
)
def test_a_partition_file_needs_both_its_format_and_its_columns(tmp_path, columns, fmt):
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table(columns).replace_schema_metadata({"w2v.format": fmt}), path)
    with pytest.raises(UserError, match=rf"p.parquet is not a w2v count partition file \(format '{fmt}'\); {REDO}$"):
        read_partition_file(path)


def test_a_partition_given_twice_is_named_with_the_expected_numbers(tmp_path):
    paths = write_shards(tmp_path)
    files = merged_files(tmp_path, paths, 2)
    with pytest.raises(UserError, match=rf"^partitions \[0, 0\] given, expected each of 0 to 1 once; rerun `w2v count-merge` for every partition"):
        vocab_from_partitions([files[0], files[0]], paths, tmp_path / "v.tsv")


def test_no_word_left_names_the_min_count_asked_for(tmp_path):
    paths = write_shards(tmp_path)
    with pytest.raises(UserError, match=r"no word of the corpus occurs 11 times or more"):
        vocab_from_partitions(merged_files(tmp_path, paths, 2, min_count=11), paths, tmp_path / "v.tsv", min_count=11)


def test_a_partition_of_over_a_million_tokens_is_summed_in_batches_alike(tmp_path):
    """Pending shards are summed once they reach 2**20 rows (the memory bound): two shards of 2**19
    distinct tokens reach it, and the third is summed at the end; counts add up across the batches."""
    half = 1 << 19
    shards = [
        Counter({f"w{i}": 1 for i in range(half)}),
        Counter({f"w{i}": 2 for i in range(half // 2, half + half // 2)}),
        Counter({"w0": 5, f"w{half + half // 2 - 1}": 7, "new": 3}),
    ]
    paths = []
    for k, counter in enumerate(shards):
        paths.append(tmp_path / f"c{k}.parquet")
        write_counts(shard_counts(counter, 1), paths[-1])
    partition = merge_partition(paths, 0, 1, 3, None)
    assert partition.summary.distinct == half + half // 2 + 1
    assert partition.summary.tokens == half + 2 * half + 15 and partition.summary.top == 9
    kept = dict(zip(partition.candidates["token"].to_pylist(), partition.candidates["count"].to_pylist()))
    assert len(kept) == half // 2 + 3  # the words of both big shards (3 each), w0 (6), the last (9) and "new" (3)
    assert kept["w0"] == 6 and kept[f"w{half + half // 2 - 1}"] == 9 and kept["new"] == 3
    assert kept[f"w{half // 2}"] == 3 and "w1" not in kept


def test_an_empty_partition_has_no_tokens_and_says_so_in_the_log(tmp_path, caplog):
    """With more partitions than tokens some partitions hold none: their totals are all zero (not one),
    and each partition's merge logs what it found."""
    import logging

    path = tmp_path / "c.parquet"
    write_counts(shard_counts(Counter({"道": 4, "王": 2}), 1), path)
    caplog.set_level(logging.INFO, logger="w2v.data.count_merge")
    parts = [merge_partition([path], part, 8, 1, None) for part in range(8)]
    empty = [p for p in parts if p.summary.distinct == 0]
    assert len(empty) == 6 and all((p.summary.tokens, p.summary.top, p.candidates.num_rows) == (0, 0, 0) for p in empty)
    assert sum(p.summary.tokens for p in parts) == 6
    full = [p.part for p in parts if p.summary.distinct]
    assert f"partition {full[0]} of 8: 1 distinct tokens, 1 candidates" in caplog.messages
    assert "partition 0 of 8: 0 distinct tokens, 0 candidates" in caplog.messages or 0 in full


def test_partition_bounds_are_whole_hashes_and_meet():
    """Integer bounds: with float ones a hash at a cut (2**32 // 3 = 1431655765) would belong to no
    partition."""
    assert partition_range(0, 3) == (0, 1431655765) and partition_range(1, 3) == (1431655765, 2863311530)
    bounds = [partition_range(p, 7) for p in range(7)]
    assert all(isinstance(b, int) for pair in bounds for b in pair)
    assert [hi for _, hi in bounds[:-1]] == [lo for lo, _ in bounds[1:]] and bounds[-1][1] == 2**32


def _grouped_counts(tmp_path, monkeypatch):
    """A counts file of 6 tokens in row groups of 2, and its hashes in file order."""
    import w2v.data.counts as counts_module

    monkeypatch.setattr(counts_module, "ROW_GROUP_ROWS", 2)
    path = tmp_path / "c.parquet"
    write_counts(shard_counts(Counter({f"t{i}": i + 1 for i in range(6)}), 1), path)
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
    return path, pq.read_table(path)["hash"].to_pylist()


def test_a_partition_starting_at_a_row_groups_last_hash_reads_that_row(tmp_path, monkeypatch):
    """With one hash per partition (2**32 parts) partition h holds exactly the token of hash h: the row
    group whose largest hash is h must be read, not skipped."""
    path, hashes = _grouped_counts(tmp_path, monkeypatch)
    table, rows_read = read_partition(path, hashes[1], 2**32)
    assert table.num_rows == 1 and rows_read == 2
    assert token_hashes(table["token"]).to_pylist() == [hashes[1]]


def test_a_range_ending_at_a_row_groups_first_hash_does_not_read_it(tmp_path, monkeypatch):
    path, hashes = _grouped_counts(tmp_path, monkeypatch)
    table, rows_read = read_partition(path, hashes[2] - 1, 2**32)
    assert table.num_rows == 0 and rows_read == (2 if hashes[1] == hashes[2] - 1 else 0)


def test_rows_read_add_up_over_the_row_groups(tmp_path, monkeypatch):
    path, _ = _grouped_counts(tmp_path, monkeypatch)
    table, rows_read = read_partition(path, 0, 1)
    assert table.num_rows == 6 and rows_read == 6


def test_an_unreadable_counts_file_says_to_rerun_clean(tmp_path):
    bad = tmp_path / "c.parquet"
    bad.write_bytes(b"garbage")
    with pytest.raises(UserError, match=r"c.parquet is not a readable Parquet file .*; rerun `w2v clean --counts` \(rule clean\)$"):
        read_partition(bad, 0, 2)


def test_a_partition_keeps_no_more_candidates_than_the_vocabulary_can_hold(tmp_path):
    """With max_vocab_size N, a partition hands on its N most frequent tokens at most (no more can
    reach the vocabulary), so the files the final step reads stay bounded by N per partition."""
    counts = Counter({f"词{i}": 100 - i for i in range(40)})
    path = tmp_path / "counts-0.parquet"
    write_counts(shard_counts(counts, sentences=1), path)
    whole = merge_partition([path], 0, 1, 1, None)
    capped = merge_partition([path], 0, 1, 1, 5)
    assert whole.candidates.num_rows == 40
    assert capped.candidates.to_pydict()["token"] == [f"词{i}" for i in range(5)]
    assert capped.summary == whole.summary  # the totals still count every token
