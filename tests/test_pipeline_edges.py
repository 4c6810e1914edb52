"""Edges of the epoch pipelines (`w2v.training.pipeline`), found by mutation testing: shuffle
buffers that end exactly on a row group, part order on both pipelines, device arrays staying device
arrays, the cache threshold, the loss meters and the prefetch thread's exit."""

from __future__ import annotations

import itertools
import shutil
import threading
import time

import numpy as np
import pyarrow.parquet as pq
import pytest

from helpers import batches_of, pairs_dataset
from jingu import cuda
from w2v.data.vocab import load_vocab
from w2v.training import ops
from w2v.training import pipeline as pl
from w2v.training import sampling

GPU = "cuda:0"


@pytest.fixture(scope="module")
def tables(zipf_pairs) -> dict:
    vocab = load_vocab(zipf_pairs / "vocab.tsv")
    return {"keep": sampling.keep_probabilities(vocab.counts, 1e-2), "table": sampling.unigram_table(vocab.counts, 0.75)}


def _host(batch) -> tuple:
    return tuple(None if a is None else np.asarray(a).view(np.ndarray).copy()
                 for a in (batch.center, batch.context, batch.negatives))


def _epoch(source, tables, pipeline, buffer_size, put=lambda a: a):
    return [_host(b) for b in batches_of(source, put(tables["keep"]), 7, 1, 64, buffer_size, put(tables["table"]),
                                         3, 0, pipeline)]


@pytest.mark.parametrize("model", ["cbow", "skipgram"])
@pytest.mark.parametrize("rows_of_groups", [2, 3])
@pytest.mark.parametrize("extra", [0, 1])
def test_a_buffer_ending_on_a_row_group_drains_at_the_same_rows_on_both_pipelines(
        zipf_pairs, tables, fake_cuda, monkeypatch, model, rows_of_groups, extra):
    """Buffers of exactly k row groups (500 rows each), or one row more: the device joins row groups
    into chunks of at least the buffer's rows and must shuffle where the host does."""
    monkeypatch.setattr(sampling, "permutation", sampling.argsort_permutation)  # the device's shuffle, on the host
    buffer_size = 500 * rows_of_groups + extra
    source = pairs_dataset(zipf_pairs / f"{model}.parquet", model, 3)
    host = _epoch(source, tables, pl.HostPipeline(), buffer_size)
    device = _epoch(source, tables, pl.DevicePipeline(GPU, cache_bytes=0), buffer_size,
                    put=lambda a: cuda.to_device(a, GPU))
    assert len(host) == len(device) > 3
    for a, b in zip(host, device):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def _two_parts(zipf_pairs, tmp_path):
    """Two part files with different rows, so that reading them in another order shows."""
    table = pq.read_table(zipf_pairs / "skipgram.parquet")
    shutil.copy(zipf_pairs / "skipgram.parquet", tmp_path / "part-0.parquet")
    pq.write_table(table.slice(len(table) // 2).replace_schema_metadata(table.schema.metadata),
                   tmp_path / "part-1.parquet", row_group_size=300)
    return [tmp_path / "part-0.parquet", tmp_path / "part-1.parquet"]


def test_both_pipelines_read_the_parts_in_the_order_given(zipf_pairs, tmp_path, fake_cuda):
    source = pairs_dataset(_two_parts(zipf_pairs, tmp_path), "skipgram", 3, cache_bytes=0)
    expected = np.concatenate([g["position"] for g in source.row_groups([1, 0])])
    assert not np.array_equal(expected, np.concatenate([g["position"] for g in source.row_groups([0, 1])]))
    for pipeline in (pl.HostPipeline(), pl.DevicePipeline(GPU, cache_bytes=0), pl.DevicePipeline(GPU)):
        if isinstance(pipeline, pl.DevicePipeline):
            pipeline.prepare(source, 10**6)
        got = np.concatenate([np.asarray(c["position"]) for c in pipeline.chunks(source, 700, [1, 0])])
        np.testing.assert_array_equal(got, expected)


def test_device_chunks_and_masks_stay_device_arrays(zipf_pairs, tables, fake_cuda):
    fake, _ = fake_cuda
    source = pairs_dataset(zipf_pairs / "cbow.parquet", "cbow", 3)
    keep = cuda.to_device(tables["keep"], GPU)
    for pipeline in (pl.DevicePipeline(GPU, cache_bytes=0), pl.DevicePipeline(GPU)):
        pipeline.prepare(source, 10**6)
        chunks = list(pipeline.chunks(source, 1200, [0]))
        assert len(chunks) >= 2 and all(len(c) == 3 for c in chunks)
        for chunk in chunks:  # joined from several row groups, still on the device
            assert all(isinstance(column, fake.FakeArray) for column in chunk.values())
            center, context = pl.mask_cbow(chunk, keep, 3, pipeline.draws(7, 0))
            assert isinstance(center, fake.FakeArray) and isinstance(context, fake.FakeArray)


def test_pairs_exactly_the_size_of_the_device_cache_are_kept(zipf_pairs, fake_cuda):
    source = pairs_dataset(zipf_pairs / "cbow.parquet", "cbow", 3)
    fits, over = pl.DevicePipeline(GPU, cache_bytes=source.nbytes), pl.DevicePipeline(GPU, cache_bytes=source.nbytes - 1)
    fits.prepare(source, 10**6)
    over.prepare(source, 10**6)
    assert fits.kept is not None and over.kept is None


def test_the_loss_meters_sum_from_zero(fake_cuda):
    host = pl.HostLoss()
    for value in (0.5, 1.5, 2.0):
        host.add(np.float32(value))
    assert host.finish() == 4.0
    device = pl.DeviceLoss()
    for _ in range(pl.LOSS_READ_EVERY + 3):
        device.add(cuda.to_device(np.float32(2.0), GPU))
    assert device.total == 2.0 * pl.LOSS_READ_EVERY  # read once, at the 50th batch
    assert device.finish() == 2.0 * (pl.LOSS_READ_EVERY + 3)


def test_the_host_pipeline_prefetches_only_with_a_core_to_spare(monkeypatch):
    monkeypatch.setattr(pl, "_usable_cores", lambda: 2)
    items = iter(range(5))
    assert pl.HostPipeline(workers=2).stream(items) is items  # a worker on every core: no thread
    batches = iter(range(5))
    spare = pl.HostPipeline(workers=1).stream(batches)
    assert spare is not batches and list(spare) == list(range(5))  # through the thread
    assert pl.HostPipeline(workers=1).spare_core and not pl.HostPipeline(workers=2).spare_core


@pytest.mark.parametrize("model", ["cbow", "skipgram"])
def test_device_batches_and_their_shuffles_stay_on_the_device(zipf_pairs, tables, fake_cuda, monkeypatch, model):
    """Every batch of a device epoch is device arrays, and each buffer's order is made there: an
    order made on the host would have to cross to the device for every buffer."""
    fake, _ = fake_cuda
    orders = []
    real = sampling.Draws.shuffle
    monkeypatch.setattr(sampling.Draws, "shuffle", lambda self, n, index, xp: orders.append(real(self, n, index, xp))
                        or orders[-1])
    source = pairs_dataset(zipf_pairs / f"{model}.parquet", model, 3)
    put = lambda a: cuda.to_device(a, GPU)  # noqa: E731
    batches = list(batches_of(source, put(tables["keep"]), 7, 1, 64, 1200, put(tables["table"]), 3, 0,
                              pl.DevicePipeline(GPU)))
    assert len(orders) >= 3 and all(isinstance(order, fake.FakeArray) for order in orders)
    for batch in batches:
        assert all(isinstance(a, fake.FakeArray) for a in (batch.center, batch.context, batch.negatives))


def test_a_prefetch_waits_for_a_slow_consumer():
    """The queue stays full longer than the producer's put timeout: it keeps trying (giving up would
    leave the consumer waiting for ever on an empty queue)."""
    got = []
    stream = pl.prefetch(iter(range(8)), depth=2)
    got.append(next(stream))
    time.sleep(0.35)  # over three put timeouts with the queue full
    reader = threading.Thread(target=lambda: got.extend(stream), daemon=True)
    reader.start()
    reader.join(timeout=5)
    assert not reader.is_alive() and got == list(range(8))


def test_a_prefetch_left_early_stops_its_thread():
    """The consumer breaks off (an error, a diverged loss): the producer must not block forever on a
    full queue, holding its generator and its memory."""
    stream = pl.prefetch(itertools.count(), depth=2)
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    time.sleep(0.3)  # the producer fills the queue and waits for room
    stream.close()
    deadline = time.monotonic() + 5
    while any(t.name == "w2v-batches" and t.is_alive() for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the prefetch thread is still running"
        time.sleep(0.05)


def test_the_buffer_drains_once_buffer_size_source_rows_have_entered(zipf_pairs, tables, monkeypatch):
    """Row groups of 500 rows and a buffer of 1,001: a drain after every third row group (1,500 rows
    in), not the second, counted afresh after each drain; the last drain takes the rest."""
    drains = []
    real = sampling.permutation
    monkeypatch.setattr(sampling, "permutation", lambda n, seed, epoch, index: drains.append(index) or
                        real(n, seed, epoch, index))
    source = pairs_dataset(zipf_pairs / "skipgram.parquet", "skipgram", 3)
    groups = source.num_row_groups
    assert groups >= 7
    list(batches_of(source, tables["keep"], 7, 0, 64, 1001, tables["table"], 3, 0))
    assert drains == list(range(-(-groups // 3)))


def test_each_epoch_reads_the_parts_in_its_own_drawn_order(zipf_pairs, tmp_path, tables):
    parts = []
    for i in range(6):
        parts.append(tmp_path / f"part-{i}.parquet")
        shutil.copy(zipf_pairs / "cbow.parquet", parts[-1])
    source = pairs_dataset(parts, "cbow", 3)
    seen = []

    class Recording(pl.HostPipeline):
        def chunks(self, source, min_rows, order):
            seen.append(list(order))
            return super().chunks(source, min_rows, order)

    for seed, epoch in ((1, 0), (1, 1), (2, 0)):
        list(pl.epoch_batches(source, pl.BatchPlan(pl.mask_cbow, 3, tables["keep"], tables["table"], 64, 700, 3),
                              Recording(), seed, epoch))
    assert seen == [sampling.part_order(6, 1, 0), sampling.part_order(6, 1, 1), sampling.part_order(6, 2, 0)]
    assert len({tuple(order) for order in seen}) == 3


def test_the_device_decides_the_pipeline_and_a_device_trains_in_one_process(fake_cuda, caplog):
    assert type(pl.pipeline_for("cpu", 2)) is pl.HostPipeline
    assert type(pl.pipeline_for(GPU, 2)) is pl.DevicePipeline
    device = pl.DevicePipeline(GPU)
    with caplog.at_level("INFO", logger="w2v.training.pipeline"):
        assert device.workers(1) == 1
        assert caplog.text == ""
        assert device.workers(3) == 1
    assert "train.workers applies to the CPU; one process trains on cuda:0" in caplog.text
    assert pl.HostPipeline(workers=3).workers(3) == 3


def test_the_pipeline_carries_its_devices_flavour_of_the_ops():
    """The device chooses the ops with the pipeline: on the host CSR bags and the cache-sized chunks
    of negatives; on a GPU padded bags and whole batches, on that device."""
    host = pl.pipeline_for("cpu").backend
    assert (host.device, host.bags, host.negative_sampling) == ("cpu", ops.HostBags, ops.NegativeSampling)
    device = pl.pipeline_for(GPU).backend
    assert (device.device, device.bags, device.negative_sampling) == (GPU, ops.DeviceBags, ops.DeviceNegativeSampling)
    assert ops.NegativeSampling.chunk_rows and ops.NegativeSampling.reads_gradient
    assert ops.DeviceNegativeSampling.chunk_rows is None and not ops.DeviceNegativeSampling.reads_gradient


def test_an_error_in_the_prefetch_thread_reaches_the_consumer_as_itself():
    def failing():
        yield 1
        raise ValueError("row group 3 is damaged")

    stream = pl.prefetch(failing())
    assert next(stream) == 1
    with pytest.raises(ValueError, match="row group 3 is damaged"):
        next(stream)
