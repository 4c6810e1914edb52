"""Reading a pairs dataset (`w2v.training.reader`): bad files named, the memory cache, part order,
a worker's dealt share and the id check's bounds. Written from the survivors of a mutation run."""

from __future__ import annotations

import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from w2v.data.pairs import CBOW_PAIRS, SKIPGRAM_PAIRS
from w2v.data.vocab import load_vocab
from w2v.errors import UserError
from w2v.training import sampling
from w2v.training.reader import PairsDataset, PairsFile


def _spy_reads(part: PairsFile) -> list[int]:
    reads: list[int] = []
    real = part.read_row_group
    part.read_row_group = lambda i: reads.append(i) or real(i)
    return reads


def test_a_file_that_is_not_parquet_is_named_with_the_rule_to_rerun(tmp_path):
    bad = tmp_path / "part-0.parquet"
    bad.write_text("not parquet", encoding="utf-8")
    with pytest.raises(UserError, match=rf"{bad} is not a readable Parquet file .*rerun `w2v pairs`"):
        PairsFile(bad, CBOW_PAIRS, 3)


def test_a_file_of_the_other_model_is_named_with_both_contracts(zipf_pairs):
    with pytest.raises(UserError, match=r"skipgram.parquet: columns \['position', 'center', 'context', 'offset'\] "
                                        r"do not match the cbow-pairs-1 contract \['position', 'center', 'context'\]"):
        PairsFile(zipf_pairs / "skipgram.parquet", CBOW_PAIRS, 3)


def test_a_row_group_of_another_window_names_the_file_and_the_group(zipf_pairs):
    part = PairsFile(zipf_pairs / "cbow.parquet", CBOW_PAIRS, 2)  # written with window 3
    with pytest.raises(UserError, match=r"cbow.parquet, row group 1: context lists must hold 4 ids \(window 2\)"):
        part.read_row_group(1)


def test_the_decoded_size_is_rows_times_the_layout_row():
    """The caches budget with it: 8 + 4 + 4 * 2 * window bytes a CBOW row, 17 a skip-gram row."""
    assert CBOW_PAIRS.row_bytes(3) == 8 + 4 + 4 * 6 and SKIPGRAM_PAIRS.row_bytes(3) == 17


def test_sizes_and_the_memory_cache_threshold(zipf_pairs):
    source = PairsDataset(zipf_pairs / "cbow.parquet", CBOW_PAIRS, 3)
    assert source.nbytes == source.num_rows * CBOW_PAIRS.row_bytes(3) > 0
    assert PairsDataset(zipf_pairs / "cbow.parquet", CBOW_PAIRS, 3, cache_bytes=source.nbytes).cached
    assert not PairsDataset(zipf_pairs / "cbow.parquet", CBOW_PAIRS, 3, cache_bytes=source.nbytes - 1).cached


@pytest.mark.parametrize("cache", [True, False])
def test_a_cached_dataset_reads_the_file_once_a_streamed_one_every_pass(zipf_pairs, cache):
    source = PairsDataset(zipf_pairs / "skipgram.parquet", SKIPGRAM_PAIRS, 3, cache_bytes=(1 << 30) if cache else 0)
    reads = _spy_reads(source.parts[0])
    first = [g["position"] for g in source.row_groups()]
    second = [g["position"] for g in source.row_groups()]
    groups = source.num_row_groups
    assert groups >= 3 and len(first) == len(second) == groups
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert reads == list(range(groups)) * (1 if cache else 2)


def test_part_order_is_drawn_from_seed_and_epoch(zipf_pairs, tmp_path):
    parts = []
    for i in range(8):
        parts.append(tmp_path / f"part-{i}.parquet")
        shutil.copy(zipf_pairs / "cbow.parquet", parts[-1])
    source = PairsDataset(parts, CBOW_PAIRS, 3)
    orders = {(seed, epoch): tuple(source.order(seed, epoch)) for seed in (1, 2) for epoch in (0, 1)}
    for (seed, epoch), order in orders.items():
        assert list(order) == sampling.part_order(8, seed, epoch) and sorted(order) == list(range(8))
    assert len(set(orders.values())) == 4  # each seed and each epoch its own order


@pytest.mark.parametrize("order", [None, [1, 0]])
def test_dealt_row_groups_give_each_worker_every_other_group_of_the_stream(zipf_pairs, tmp_path, order):
    shutil.copy(zipf_pairs / "skipgram.parquet", tmp_path / "part-0.parquet")
    table = pq.read_table(zipf_pairs / "skipgram.parquet")  # part 1: other rows, so that the order shows
    pq.write_table(table.slice(len(table) // 2).replace_schema_metadata(table.schema.metadata),
                   tmp_path / "part-1.parquet", row_group_size=250)
    source = PairsDataset([tmp_path / "part-0.parquet", tmp_path / "part-1.parquet"], SKIPGRAM_PAIRS, 3, cache_bytes=0)
    stream = [g["position"] for g in source.row_groups(order)]
    for worker in range(3):
        dealt = [g["position"] for g in source.dealt_row_groups(worker, 3, order)]
        expected = stream[worker::3]
        assert len(dealt) == len(expected) > 0
        for a, b in zip(dealt, expected):
            np.testing.assert_array_equal(a, b)


def test_the_id_check_accepts_the_last_id_and_names_the_range(zipf_pairs, tmp_path):
    vocab_size = len(load_vocab(zipf_pairs / "vocab.tsv"))
    source = PairsDataset(zipf_pairs / "skipgram.parquet", SKIPGRAM_PAIRS, 3)
    largest = max(int(g["context"].max()) for g in source.row_groups())
    source.check_ids(largest + 1)  # ids 0..largest are all inside
    with pytest.raises(UserError, match=rf"column 'center' holds ids outside the vocabulary \(0..{largest - 1}\)"):
        source.check_ids(largest)
    table = pq.read_table(zipf_pairs / "skipgram.parquet")
    bad = table.set_column(2, "context", pa.array(np.full(len(table), vocab_size, dtype=np.int32)))
    pq.write_table(bad, tmp_path / "bad.parquet")
    with pytest.raises(UserError, match=rf"bad.parquet, row group 0: column 'context' holds ids outside the "
                                        rf"vocabulary \(0..{vocab_size - 1}\)"):
        PairsDataset(tmp_path / "bad.parquet", SKIPGRAM_PAIRS, 3).check_ids(vocab_size)
