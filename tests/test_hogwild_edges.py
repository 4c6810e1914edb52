"""Edges of `w2v.training.hogwild` that the end-to-end Hogwild tests leave open (found by mutation
testing, docs/testing.md): shared arrays keep their dtype, the sealed state names its owner and the
fix, how a worker's slice is chosen and what it forwards, the pool's worker loop (run in-process here,
since mutmut cannot see into forked children), and errors raised in the parent's own part."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import jingu
from w2v.training.hogwild import WorkerPool, WorkerSlice, _serve, share_training_state, shared_array, to_shared
from w2v.training.models import SkipGram
from w2v.training.optim import RowAdagrad


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.float64])
def test_shared_arrays_keep_their_dtype(dtype):
    assert shared_array((2, 3), dtype).dtype == dtype
    source = np.arange(6, dtype=dtype).reshape(2, 3)
    copy = to_shared(source)
    assert copy.dtype == dtype and copy.shape == (2, 3)
    np.testing.assert_array_equal(copy, source)


def test_an_empty_shared_array_has_its_shape():
    """A table without rows (a model with no character rows, say) is shared as an empty array."""
    empty = shared_array((0, 3), np.float32)
    assert empty.shape == (0, 3) and empty.dtype == np.float32
    assert to_shared(np.zeros((0, 4), dtype=np.float64)).shape == (0, 4)


def test_sealed_state_refuses_a_new_parameter_naming_the_optimizer_and_the_fix():
    net = SkipGram(5, 3)
    opt = RowAdagrad(net.parameters(), lr=0.1)
    share_training_state(net, opt)
    fix = r"declare it in initial_state\(param, group\) and update it in place"
    with pytest.raises(jingu.optim.UndeclaredStateError, match=r"^RowAdagrad set state 'extra' after it was shared with Hogwild workers; " + fix + "$"):
        opt.state["extra"] = {}
    with pytest.raises(jingu.optim.UndeclaredStateError, match=r"^RowAdagrad set state"):
        opt.state.setdefault("other", {})


class _Source:
    """A pairs source that records what the slice asks of it."""

    def __init__(self, groups=8, cached=None, with_count=True):
        if cached is not None:
            self.cached = cached
        if with_count:
            self.num_row_groups = groups
        self.groups = groups
        self.calls = []

    def order(self, seed, epoch):
        self.calls.append(("order", seed, epoch))
        return [epoch, seed]

    def row_groups(self, order=None):
        self.calls.append(("row_groups", order))
        for g in range(self.groups):
            yield {"center": np.arange(10) + 100 * g}

    def dealt_row_groups(self, index, count, order=None):
        self.calls.append(("dealt", index, count, order))
        yield {"center": np.array([index])}


def test_a_worker_index_outside_the_pool_names_the_range():
    with pytest.raises(ValueError, match=r"worker index 2 is outside 0\.\.1$"):
        WorkerSlice(_Source(), 2, 2)


@pytest.mark.parametrize(
    "source, dealt",
    [
        ({"groups": 8, "cached": False}, True),  # streamed, 4 row groups per worker: dealt
        ({"groups": 7, "cached": False}, False),  # streamed, too few row groups: sliced
        ({"groups": 8, "cached": True}, False),  # in memory: sliced however many row groups
        ({"groups": 64}, False),  # a source that does not say it streams is taken as in memory
        ({"groups": 8, "cached": False, "with_count": False}, False),  # no row-group count: sliced
    ],
    ids=["streamed-8", "streamed-7", "cached", "unsaid", "uncounted"],
)
def test_a_slice_deals_whole_row_groups_only_from_a_large_streamed_source(source, dealt):
    source = _Source(**source)
    part = WorkerSlice(source, 1, 2)
    groups = list(part.row_groups([3, 1]))
    if dealt:
        assert source.calls == [("dealt", 1, 2, [3, 1])]
        assert [g["center"].tolist() for g in groups] == [[1]]
    else:
        assert source.calls == [("row_groups", [3, 1])]
        assert [g["center"].tolist() for g in groups][:2] == [[5, 6, 7, 8, 9], [105, 106, 107, 108, 109]]


def test_a_slice_forwards_the_seed_and_epoch_of_the_order():
    source = _Source()
    assert WorkerSlice(source, 0, 3).order(7, 2) == [2, 7]
    assert source.calls == [("order", 7, 2)]


class _Conn:
    """One end of a pipe, in-process: `inbox` is what the parent sends; `sent` what the worker answers."""

    def __init__(self, inbox, fail_sends=0):
        self.inbox, self.sent, self.fail_sends = list(inbox), [], fail_sends

    def recv(self):
        if not self.inbox:
            raise EOFError
        return self.inbox.pop(0)

    def send(self, item):
        if self.fail_sends:
            self.fail_sends -= 1
            raise TypeError("cannot pickle")
        self.sent.append(item)


def test_a_worker_runs_each_epoch_it_is_sent_until_told_to_stop():
    conn = _Conn([0, 1, None, 5])
    _serve(conn, 3, lambda index, epoch: (index, epoch))
    assert conn.sent == [("ok", (3, 0)), ("ok", (3, 1))]
    assert conn.inbox == [5]  # None ended the loop


def test_a_worker_stops_when_the_parent_is_gone():
    conn = _Conn([4])
    _serve(conn, 1, lambda index, epoch: epoch * 10)
    assert conn.sent == [("ok", 40)]


def test_a_worker_hands_its_error_to_the_parent():
    def fail(index, epoch):
        raise KeyError(f"row {epoch}")

    conn = _Conn([2, None])
    _serve(conn, 1, fail)
    (status, exc), = conn.sent
    assert status == "error" and isinstance(exc, KeyError) and exc.args == ("row 2",)


def test_an_error_that_cannot_cross_the_pipe_is_sent_as_text():
    def fail(index, epoch):
        raise ValueError("bad batch")

    conn = _Conn([0, None], fail_sends=1)
    _serve(conn, 2, fail)
    (status, exc), = conn.sent
    assert status == "error" and isinstance(exc, RuntimeError)
    assert str(exc) == "training worker 2: ValueError: bad batch"


def test_an_error_in_the_parents_own_part_is_raised_after_the_workers_answer(caplog):
    def run(index, epoch):
        if index == 0:
            raise ValueError(f"parent failed in epoch {epoch}")
        return index

    caplog.set_level(logging.DEBUG, logger="w2v.training.hogwild")
    pool = WorkerPool(2, run)
    try:
        assert all(proc.daemon for proc in pool._procs)  # a parent that dies never waits for its workers
        assert "started 1 training worker process(es)" in caplog.messages
        with pytest.raises(ValueError, match="parent failed in epoch 3"):
            pool.run_epoch(3)
    finally:
        pool.close()
