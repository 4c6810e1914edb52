"""Hogwild parts: shared memory, worker processes and their errors, shards of an epoch, worker seeds.

Training with several workers end to end is tested in test_train.py (its synthetic corpus)."""

from __future__ import annotations

import multiprocessing
import os

import numpy as np
import pytest
from helpers import in_forked_worker

import jingu
from helpers import pairs_dataset
from w2v.training.registry import build_model
from w2v.training.train import TrainingDiverged, make_optimizer
from w2v.training.hogwild import WorkerPool, WorkerSlice, share_training_state, shared_array, to_shared
from w2v.training.sampling import worker_seed


class _Source:
    def __init__(self, sizes: list[int]) -> None:
        self.sizes = sizes

    def row_groups(self, order=None):
        start = 0
        for n in self.sizes:
            yield {"position": np.arange(start, start + n), "center": np.arange(start, start + n) * 10}
            start += n


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_worker_slices_split_every_chunk_and_cover_each_row_once(count):
    source = _Source([7, 1, 0, 12, 4])
    seen = []
    for index in range(count):
        shard = WorkerSlice(source, index, count)
        for chunk in shard.row_groups():
            assert chunk["position"].shape[0] > 0
            np.testing.assert_array_equal(chunk["center"], chunk["position"] * 10)  # columns stay aligned
            seen.extend(chunk["position"].tolist())
    assert sorted(seen) == list(range(24))
    with pytest.raises(ValueError, match="outside"):
        WorkerSlice(source, count, count)


def test_worker_seeds_differ_but_one_worker_keeps_the_seed():
    assert worker_seed(7, 0, 1) == 7
    seeds = {worker_seed(7, w, 3) for w in range(3)}
    assert len(seeds) == 3 and 7 not in seeds
    assert worker_seed(7, 1, 3) == worker_seed(7, 1, 3)


def test_worker_processes_write_into_shared_memory():
    table = to_shared(np.zeros((3, 4)))
    pids = shared_array((3,), np.int64)

    def part(index, epoch):
        table[index] += epoch + 1  # each worker its own row, so no update can be lost
        pids[index] = os.getpid()
        return index * 10 + epoch

    pool = WorkerPool(3, part)
    try:
        assert pool.run_epoch(0) == [0, 10, 20]
        assert pool.run_epoch(1) == [1, 11, 21]
    finally:
        pool.close()
    np.testing.assert_array_equal(table, np.full((3, 4), 3.0))
    assert pids[0] == os.getpid() and len(set(pids.tolist())) == 3  # parts 1 and 2 ran in other processes
    assert not multiprocessing.active_children()


def test_shared_parameters_and_adagrad_state_take_updates_from_workers():
    net = _tiny_net()
    opt = make_optimizer("adagrad", net.parameters(), 0.1)
    share_training_state(net, opt)
    before = net.embed_in.data.copy()

    def step():  # one step in the worker: the parent must see its rows and accumulator move
        net.embed_in.grad = jingu.RowSparse(np.array([2]), np.ones((1, 3), np.float32), (6, 3))
        opt.step()

    in_forked_worker(step)
    assert opt.state[net.embed_in]["sum"][2] == 1.0 and opt.state[net.embed_in]["sum"][3] == 0.0
    assert np.all(net.embed_in.data[2] < before[2]) and np.all(net.embed_in.data[3] == before[3])


class _LazySGD(jingu.optim.Optimizer):
    """Plain SGD that counts each row's updates in an array it makes at its first step, undeclared."""

    def __init__(self, params, lr):
        super().__init__(params, {"lr": lr})

    def step(self):
        for group in self.param_groups:
            for p, g in self._grads(group):
                counts = self.state.setdefault(p, {}).setdefault("counts", np.zeros(p.data.shape[0]))
                counts[g.indices] += 1
                g.add_to(p.data, -group["lr"])


class _DeclaredThenLazySGD(_LazySGD):
    """Declares no state (like plain SGD) but still makes its counts as it steps."""

    def initial_state(self, param, group):
        return {}


def _tiny_net():
    return build_model("skipgram", 6, {"vector_size": 3}, generator=np.random.default_rng(0))


def test_an_optimizer_with_lazy_state_cannot_be_shared():
    net = _tiny_net()
    with pytest.raises(jingu.optim.UndeclaredStateError,
                       match=r"train.workers > 1 shares.*_LazySGD makes its state lazily.*initial_state"):
        share_training_state(net, _LazySGD(net.parameters(), 0.1))
    not_shareable = r"Adam's state 'step' is not an array \(int\), so Hogwild workers cannot share it"
    with pytest.raises(jingu.optim.UndeclaredStateError, match=not_shareable):
        share_training_state(net, jingu.optim.Adam(net.parameters()))


def test_state_made_or_replaced_after_sharing_is_an_error_in_that_step():
    net = _tiny_net()
    opt = _DeclaredThenLazySGD(net.parameters(), 0.1)
    share_training_state(net, opt)
    net.embed_in.grad = jingu.RowSparse(np.array([2]), np.ones((1, 3), np.float32), (6, 3))
    with pytest.raises(jingu.optim.UndeclaredStateError, match="_DeclaredThenLazySGD set state 'counts' after"):
        opt.step()
    adagrad = make_optimizer("adagrad", net.parameters(), 0.1)
    share_training_state(net, adagrad)
    state = adagrad.state[net.embed_in]
    state["sum"] = state["sum"]  # the same shared array: allowed
    with pytest.raises(jingu.optim.UndeclaredStateError, match="RowAdagrad set state 'sum'"):
        state["sum"] = state["sum"] + 1.0  # a private copy would stop the sharing


def test_worker_errors_reach_the_parent_after_every_part_stopped():
    done = shared_array((2,), np.int8)

    def part(index, epoch):
        done[index] = 1
        if index == 1:
            raise TrainingDiverged(f"worker {index} diverged in epoch {epoch + 1}")
        return index

    pool = WorkerPool(2, part)
    try:
        with pytest.raises(TrainingDiverged, match="worker 1 diverged in epoch 3"):
            pool.run_epoch(2)
        assert done.tolist() == [1, 1]
    finally:
        pool.close()


def test_a_worker_that_dies_is_an_error_not_a_hang():
    def part(index, epoch):
        if index == 1:
            os._exit(3)
        return index

    pool = WorkerPool(2, part)
    try:
        with pytest.raises(RuntimeError, match="worker 1 died"):
            pool.run_epoch(0)
    finally:
        pool.close()


def test_a_streamed_dataset_is_dealt_by_row_groups_each_decoded_by_one_worker(zipf_pairs):
    """Too large for the memory cache: workers take whole row groups in turn, and together every row once."""
    source = pairs_dataset([zipf_pairs / "skipgram.parquet"], "skipgram", 3, cache_bytes=0)
    assert not source.cached and source.num_row_groups >= 8
    positions, reads = [], []
    real_read = source.parts[0].read_row_group
    source.parts[0].read_row_group = lambda i: reads.append(i) or real_read(i)
    for index in range(2):
        worker = WorkerSlice(source, index, 2)
        assert worker.dealt
        before = len(reads)
        for chunk in worker.row_groups([0]):
            positions.extend(chunk["position"].tolist())
        assert reads[before:] == list(range(index, source.num_row_groups, 2))  # only its own groups
    expected = [p for g in pairs_dataset([zipf_pairs / "skipgram.parquet"], "skipgram", 3).row_groups() for p in g["position"]]
    assert sorted(positions) == sorted(expected)
