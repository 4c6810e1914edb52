"""Hogwild training on the CPU: worker processes that update shared matrices without locks.

As in word2vec and gensim (threads there), each worker trains on its own part of every epoch and
writes straight into the same embedding matrices. Two workers updating one row at once may lose
one of the two updates, which word2vec's sparse updates tolerate (Recht et al., "Hogwild!", 2011),
but the result then depends on timing: only `workers: 1` is bit-identical from run to run.

Processes rather than threads, because a training step is many small NumPy calls whose Python
part the GIL would serialize. The matrices and the optimizer state are moved into anonymous
shared memory, then the workers are forked once per training run and wait for epochs. The
parent trains part 0 itself; an epoch ends (and its checkpoint is written) when every worker has
finished its part. Progress (for the global learning-rate schedule) and a stop flag live in
shared memory too, one progress slot per worker so that no update of it is ever lost.
"""

from __future__ import annotations

import logging
import mmap
import multiprocessing
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from jingu.optim import UndeclaredStateError

log = logging.getLogger(__name__)


def shared_array(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A zeroed array in anonymous shared memory: a forked child writes into the parent's pages."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    buffer = mmap.mmap(-1, max(count * dtype.itemsize, 1))  # MAP_SHARED | MAP_ANONYMOUS
    return np.frombuffer(buffer, dtype=dtype, count=count).reshape(shape)


def to_shared(array: np.ndarray) -> np.ndarray:
    """A copy of `array` in shared memory."""
    out = shared_array(array.shape, array.dtype)
    out[...] = array
    return out


def share_training_state(net: Any, opt: Any) -> None:
    """Move the model's parameters and the optimizer's declared state into shared memory, in place
    (the optimizer keeps its parameter objects; only their arrays move).

    Only state the optimizer declares (jingu's `Optimizer.initial_state`) can be shared before the
    workers fork: state it made later would stay private to one worker, so an optimizer that makes
    state lazily, or state that is not an array, is an error here, and a key added or an array
    replaced after sharing is an error in the step that does it.
    """
    for p in net.parameters():
        p.data = to_shared(p.data)
    name = type(opt).__name__
    try:
        declared = opt.allocate_state()
    except UndeclaredStateError as exc:
        raise UndeclaredStateError(
            "train.workers > 1 shares the optimizer's state between processes, so it must exist before they "
            f"start: {exc}"
        ) from None
    shared = {}
    for p, state in declared.items():
        for key, value in state.items():
            if not isinstance(value, np.ndarray):
                raise UndeclaredStateError(
                    f"{name}'s state {key!r} is not an array ({type(value).__name__}), so Hogwild workers cannot "
                    "share it; keep it in an array updated in place, or train with train.workers: 1"
                )
        shared[p] = _SealedState(name, {key: to_shared(value) for key, value in state.items()})
    opt.state = _SealedState(name, shared)


class _SealedState(dict):
    """A dict whose keys and values stay as they were when shared: a new key or a replaced array would
    live in one worker's private memory, so either is an error instead of silently unshared training."""

    def __init__(self, owner: str, items: dict) -> None:
        super().__init__(items)
        self.owner = owner

    def __setitem__(self, key: Any, value: Any) -> None:
        if key not in self or self[key] is not value:
            raise UndeclaredStateError(
                f"{self.owner} set state {key!r} after it was shared with Hogwild workers; declare it in "
                "initial_state(param, group) and update it in place"
            )

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self.__setitem__(key, default)
        return self[key]


class WorkerSlice:
    """Worker `index` of `count`'s part of a pairs dataset (read by the host pipeline only).

    A dataset kept in memory, or one with few row groups, is split by slicing every row group (the
    same slice of rows of each), which gives the workers equal work however few row groups an epoch
    has. A large streamed dataset is dealt out by whole row groups instead, so each worker reads and
    decodes only its own share of the Parquet files. Exposes what the host pipeline reads: `order`
    and `row_groups`.
    """

    def __init__(self, source: Any, index: int, count: int) -> None:
        if not 0 <= index < count:
            raise ValueError(f"worker index {index} is outside 0..{count - 1}")
        self.source, self.index, self.count = source, index, count
        streamed = not getattr(source, "cached", True)
        self.dealt = streamed and getattr(source, "num_row_groups", 0) >= 4 * count

    def order(self, seed: int, epoch: int) -> list[int]:
        return self.source.order(seed, epoch)

    def row_groups(self, order: list[int] | None = None) -> Iterator[dict[str, Any]]:
        if self.dealt:
            yield from self.source.dealt_row_groups(self.index, self.count, order)
            return
        for group in self.source.row_groups(order):
            n = next(iter(group.values())).shape[0]
            lo, hi = n * self.index // self.count, n * (self.index + 1) // self.count
            if hi > lo:
                yield {name: column[lo:hi] for name, column in group.items()}


class WorkerPool:
    """`count - 1` forked processes that run `run_part(index, epoch)` when told to; the caller runs
    part 0 itself through `run_epoch`."""

    def __init__(self, count: int, run_part: Callable[[int, int], Any]) -> None:
        context = multiprocessing.get_context("fork")  # the shared matrices are inherited, never copied
        self.run_part = run_part
        self._conns: list[Any] = []
        self._procs: list[Any] = []
        for index in range(1, count):
            parent_end, child_end = context.Pipe()
            proc = context.Process(
                target=_serve, args=(child_end, index, run_part), name=f"w2v-train-worker-{index}", daemon=True
            )
            proc.start()
            child_end.close()
            self._conns.append(parent_end)
            self._procs.append(proc)
        log.debug("started %d training worker process(es)", len(self._procs))

    def run_epoch(self, epoch: int) -> list[Any]:
        """Every part's result for `epoch`, in worker order; the first error of any part is raised
        once all parts have stopped."""
        for conn in self._conns:
            conn.send(epoch)
        results: list[Any] = []
        errors: list[BaseException] = []
        try:
            results.append(self.run_part(0, epoch))
        except BaseException as exc:  # noqa: BLE001 - raised below, after the workers have answered
            errors.append(exc)
        for index, conn in enumerate(self._conns, start=1):
            try:
                status, payload = conn.recv()
            except EOFError:
                status, payload = "error", RuntimeError(
                    f"training worker {index} died (killed, or out of memory?); rerun to resume from the checkpoint"
                )
            if status == "ok":
                results.append(payload)
            else:
                errors.append(payload)
        if errors:
            raise errors[0]
        return results

    def close(self) -> None:
        """Tell the workers to exit and wait for them (terminating any that hang)."""
        for conn in self._conns:
            try:
                conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        for proc in self._procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
                proc.join()
        for conn in self._conns:
            conn.close()
        self._conns, self._procs = [], []


def _serve(conn: Any, index: int, run_part: Callable[[int, int], Any]) -> None:
    """A worker's loop: an epoch number in, its part's result (or its error) out; None or a closed
    pipe (the parent is gone) ends it."""
    while True:
        try:
            epoch = conn.recv()
        except (EOFError, OSError):
            return
        if epoch is None:
            return
        try:
            conn.send(("ok", run_part(index, epoch)))
        except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
            try:
                conn.send(("error", exc))
            except Exception:  # noqa: BLE001 - an exception that cannot cross the pipe
                conn.send(("error", RuntimeError(f"training worker {index}: {type(exc).__name__}: {exc}")))
