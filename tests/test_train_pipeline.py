"""The device-resident epoch pipeline, checked on the CPU through a fake CuPy that counts launches
and syncs (tests/jingu/fake_cupy.py): same examples and negatives as the host path, a batch is
slices only, chunks stay on the device across epochs, the loss is read once per N batches."""

from __future__ import annotations

import math
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import jingu
from jingu import cuda
from w2v.errors import UserError
from w2v.training.loop import Epochs, Setup, TrainingDiverged
from w2v.training.pipeline import LOSS_READ_EVERY, BatchPlan, mask_cbow
from w2v.training.settings import TrainSettings
from w2v.training import sampling
from helpers import batches_of, pairs_dataset
from w2v.training.pipeline import DevicePipeline, HostPipeline, _join
from w2v.data.vocab import load_vocab

sys.path.insert(0, str(Path(__file__).parent / "jingu"))
import fake_cupy  # noqa: E402

GPU = "cuda:0"


@pytest.fixture
def gpu(fake_cuda) -> fake_cupy.Counts:
    """The fake CuPy as one visible GPU (conftest's `fake_cuda`): its launch and sync counters."""
    return fake_cuda[1]


@pytest.fixture(scope="module")
def corpus(zipf_pairs) -> dict:
    root = zipf_pairs
    vocab = load_vocab(root / "vocab.tsv")
    return {"root": root, "keep": sampling.keep_probabilities(vocab.counts, 1e-2),
            "table": sampling.unigram_table(vocab.counts, 0.75), "tokens": int(vocab.counts.sum())}


def _source(corpus, model, **kwargs) :
    return pairs_dataset(corpus["root"] / f"{model}.parquet", model, 3, **kwargs)


def _chunks(source) -> int:
    """How many chunks of a 700-row shuffle buffer the device pipeline masks in an epoch."""
    return len(list(_join(source.row_groups(), 700)))


def _run(source, keep, table, device, negative=3, shared=0, counts=None, epoch=2, group=1, pipeline=None):
    """Batches of one epoch as host arrays, plus the (launches, syncs) each batch cost after the first.
    `device` "cpu" runs the host pipeline; otherwise `pipeline` (default: a device pipeline that streams)."""
    out, costs, last = [], [], None
    pipeline = pipeline or (HostPipeline() if device == "cpu" else DevicePipeline(device))
    for batch in batches_of(source, keep, 7, epoch, 64, 700, table, negative, shared, pipeline, group):
        if counts is not None:
            now = (counts.launches, counts.syncs)
            costs.append(None if last is None else (now[0] - last[0], now[1] - last[1]))
            last = (counts.launches, counts.syncs)
        out.append(tuple(None if a is None else np.asarray(a.view(np.ndarray) if hasattr(a, "view") else a)
                         for a in (batch.center, batch.context, batch.negatives)))
    return out, costs


def _examples(batches) -> Counter:
    return Counter((int(c), str(x.tolist())) for center, context, _ in batches for c, x in zip(center, context))


@pytest.mark.parametrize("model", ["cbow", "skipgram"])
def test_device_path_keeps_the_examples_and_draws_the_same_negatives(corpus, gpu, model, monkeypatch):
    host, _ = _run(_source(corpus, model), corpus["keep"], corpus["table"], "cpu")
    monkeypatch.setattr(sampling, "permutation", sampling.argsort_permutation)
    host_sorted, _ = _run(_source(corpus, model), corpus["keep"], corpus["table"], "cpu")
    keep, table = cuda.to_device(corpus["keep"], GPU), cuda.to_device(corpus["table"], GPU)
    source = _source(corpus, model)
    n_chunks = _chunks(source)
    assert n_chunks >= 3
    gpu.reset()
    dev, costs = _run(source, keep, table, GPU, counts=gpu)
    assert _examples(dev) == _examples(host) and len(dev) == len(host)
    # Shuffled by sorting keys on the CPU too, the host path yields exactly the device's batches
    # (several shuffle buffers here: the two paths shuffle at the same row groups).
    assert len(host) > 10 and len(host_sorted) == len(dev)
    for a, b in zip(host_sorted, dev):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    # Negatives are a function of the example's index in the epoch: drawn per buffer on the device,
    # per batch on the host, they are the same ids.
    key = sampling.negative_key(7, 2)
    total = sum(b[0].shape[0] for b in host)
    expected = sampling.draw_negatives(corpus["table"], key, 0, (total, 3))
    for batches in (host, dev):
        np.testing.assert_array_equal(np.concatenate([b[2] for b in batches]), expected)
    # Between two batches of the same shuffle buffer the device does nothing (views only); work
    # happens once per chunk. Syncs: the fake counts none; the real one is `flatnonzero` per chunk.
    busy = [c for c in costs[1:] if c != (0, 0)]
    assert len(busy) <= n_chunks and len(costs) > 3 * n_chunks
    assert gpu.syncs == 0 and gpu.names["flatnonzero"] == n_chunks


def test_shared_negatives_follow_the_batch_index_on_both_paths(corpus, gpu):
    host, _ = _run(_source(corpus, "skipgram"), corpus["keep"], corpus["table"], "cpu", negative=5, shared=16)
    dev, _ = _run(_source(corpus, "skipgram"), cuda.to_device(corpus["keep"], GPU),
                  cuda.to_device(corpus["table"], GPU), GPU, negative=5, shared=16)
    key = sampling.negative_key(7, 2)
    for batches in (host, dev):
        for i, (_, _, negs) in enumerate(batches):
            np.testing.assert_array_equal(negs, sampling.draw_negatives(corpus["table"], key, 16 * i, (16,)))


def test_grouped_negatives_follow_the_group_index_on_both_paths(corpus, gpu):
    """With negatives drawn per group of 8 examples, group i of the epoch has draws i * 3 ... on the
    host (per batch) and on the device (per buffer); the last batch's short group has its own row."""
    host, _ = _run(_source(corpus, "skipgram"), corpus["keep"], corpus["table"], "cpu", group=8)
    dev, _ = _run(_source(corpus, "skipgram"), cuda.to_device(corpus["keep"], GPU),
                  cuda.to_device(corpus["table"], GPU), GPU, group=8)
    total = sum(b[0].shape[0] for b in host)
    assert total % 8 and len(host) > 3  # a short last group is exercised
    expected = sampling.draw_negatives(corpus["table"], sampling.negative_key(7, 2), 0, (-(-total // 8), 3))
    for batches in (host, dev):
        assert all(negs.shape == (-(-c.shape[0] // 8), 3) for c, _, negs in batches)
        np.testing.assert_array_equal(np.concatenate([b[2] for b in batches]), expected)
    with pytest.raises(ValueError, match="batch_size 64 is not a multiple of the negative group 24"):
        _run(_source(corpus, "skipgram"), corpus["keep"], corpus["table"], "cpu", group=24)


def test_chunks_stay_on_the_device_across_epochs_when_they_fit(corpus, gpu):
    keep, table = cuda.to_device(corpus["keep"], GPU), cuda.to_device(corpus["table"], GPU)
    source = _source(corpus, "cbow")
    n_chunks = _chunks(source)
    copies = []
    for pipeline in (DevicePipeline(GPU), DevicePipeline(GPU, cache_bytes=0)):
        gpu.reset()
        pipeline.prepare(source, len(corpus["keep"]))
        copies.append(gpu.names["host_to_device"])
        for epoch in (0, 1):
            gpu.reset()
            _run(source, keep, table, GPU, epoch=epoch, pipeline=pipeline)
            copies.append(gpu.names["host_to_device"])
    # When the decoded pairs fit the device cache, each column (position, center, context) of each
    # row group is copied once, by the id check before training; otherwise chunks are joined on the
    # host and each column copied once per chunk, every epoch.
    n_groups = len(list(source.row_groups()))
    assert n_groups > n_chunks
    assert copies == [3 * n_groups, 0, 0, 0, 3 * n_chunks, 3 * n_chunks]


def test_id_check_fills_the_device_cache_so_no_epoch_copies(corpus, gpu):
    keep, table = cuda.to_device(corpus["keep"], GPU), cuda.to_device(corpus["table"], GPU)
    source = _source(corpus, "skipgram", cache_bytes=0)  # not cached on the host: decoded per pass
    n_groups = len(list(source.row_groups()))
    pipeline = DevicePipeline(GPU)
    reads = []
    real_read = source.parts[0].read_row_group
    source.parts[0].read_row_group = lambda i: reads.append(i) or real_read(i)
    gpu.reset()
    pipeline.prepare(source, len(corpus["keep"]))
    assert gpu.names["host_to_device"] == 4 * n_groups
    assert reads == list(range(n_groups))  # the check and the copy share one decoding pass
    gpu.reset()
    _run(source, keep, table, GPU, epoch=0, pipeline=pipeline)
    assert gpu.names["host_to_device"] == 0
    with pytest.raises(UserError, match="outside the vocabulary"):
        DevicePipeline(GPU).prepare(_source(corpus, "skipgram"), 5)


def test_permutation_is_a_pure_function_on_both_devices(gpu):
    host = sampling.permutation(1000, 1, 2, 0)
    np.testing.assert_array_equal(host, sampling.permutation(1000, 1, 2, 0))
    assert sorted(host) == list(range(1000)) and np.any(host != sampling.permutation(1000, 1, 2, 1))
    xp = sys.modules["cupy"]
    dev = DevicePipeline.draws(1, 2).shuffle(1000, 0, xp)
    assert isinstance(dev, xp.ndarray) and not isinstance(host, xp.ndarray)  # made on the device
    dev = np.asarray(dev)
    np.testing.assert_array_equal(dev, np.asarray(DevicePipeline.draws(1, 2).shuffle(1000, 0, xp)))
    assert sorted(dev.tolist()) == list(range(1000)) and np.any(dev != np.arange(1000))
    # The device's order is reproducible on the CPU (distinct keys: any sort gives it).
    np.testing.assert_array_equal(dev, sampling.argsort_permutation(1000, 1, 2, 0))
    np.testing.assert_array_equal(np.argsort(sampling.random_bits(np.arange(1000), 99), kind="stable"),
                                  np.argsort(sampling.random_bits(np.arange(1000), 99), kind="quicksort"))


class _StubNet:
    """Loss = `value` per example, computed on the batch's device (no gradients)."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self, center, context, negatives, scale):
        xp = cuda.get_array_module(center)
        return SimpleNamespace(data=(center.astype(xp.float32) * 0 + self.value).sum(), backward=lambda: None)


_STUB_OPT = jingu.optim.SGD([jingu.nn.Parameter(np.zeros((1, 1)))], lr=0.05)  # no gradient: its steps change nothing


def _setup(corpus, net) -> Setup:
    """A one-worker training setup on the device pipeline for `net`: batches of 8, 2 negatives."""
    pipeline = DevicePipeline(GPU)
    source = _source(corpus, "cbow")
    pipeline.prepare(source, len(corpus["keep"]))
    settings = TrainSettings.from_mapping({"epochs": 3, "negative": 2, "batch_size": 8, "shuffle_buffer": 700,
                                           "workers": 1, "device": "cuda"})
    plan = BatchPlan(mask_cbow, 3, pipeline.put(corpus["keep"]), pipeline.put(corpus["table"]), 8, 700, 2)
    return Setup(net, _STUB_OPT, source, plan, pipeline, settings, corpus["tokens"])


def test_gpu_epoch_reads_the_loss_once_per_n_batches(corpus, gpu):
    setup = _setup(corpus, _StubNet(2.0))
    gpu.reset()
    record = Epochs(setup).run(0)
    assert record["batches"] > 2 * LOSS_READ_EVERY
    assert record["loss"] == pytest.approx(2.0)
    assert gpu.syncs == math.ceil(record["batches"] / LOSS_READ_EVERY)
    assert gpu.names["SYNC float"] == gpu.syncs


def test_gpu_epoch_nan_guard(corpus, gpu):
    with pytest.raises(TrainingDiverged, match="epoch 2"):
        Epochs(_setup(corpus, _StubNet(float("nan")))).run(1)


def test_streamed_and_device_cached_pairs_give_the_same_batches(corpus, gpu):
    """A dataset larger than the device cache streams (decoded on the host by a prefetch thread) and
    trains on exactly the batches the cached path gives."""
    keep, table = cuda.to_device(corpus["keep"], GPU), cuda.to_device(corpus["table"], GPU)
    pipeline = DevicePipeline(GPU)
    pipeline.prepare(_source(corpus, "skipgram"), len(corpus["keep"]))
    cached, _ = _run(_source(corpus, "skipgram"), keep, table, GPU, epoch=1, pipeline=pipeline)
    streamed, _ = _run(_source(corpus, "skipgram", cache_bytes=0), keep, table, GPU, epoch=1,
                       pipeline=DevicePipeline(GPU, cache_bytes=0))
    assert len(cached) == len(streamed) > 3
    for a, b in zip(cached, streamed):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
