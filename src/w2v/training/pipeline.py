"""An epoch's batches: masked examples, shuffled in a buffer, cut into batches with their negatives.

What is computed does not depend on the device: `epoch_batches` masks each chunk of rows (this
epoch's subsampling and shrinking windows, see `sampling`), passes the survivors through a
`ShuffleBuffer` and cuts it into batches; every array call goes through the arrays' own module
(NumPy or CuPy). Where it runs is chosen once, by `pipeline_for(device)`:

- `HostPipeline` (CPU): row groups are masked one at a time (cache-friendly, each position's keep
  draw made once: `sampling.HostDraws`), negatives drawn per batch, and a prefetch thread prepares
  the next batches while the step runs on a spare core.
- `DevicePipeline` (GPU): the pairs stay on the device across epochs when they fit (copied there in
  the id check's pass), chunks of a shuffle buffer are masked at once and the negatives of a whole
  buffer drawn at once (fewer launches), so a batch is device slices only and the host waits for the
  device once per chunk (the masked size), never per batch. The loss stays on the device and is read
  every `LOSS_READ_EVERY` batches.

The masks and negatives do not depend on either choice: the buffer shuffles after the same source
rows, and the negatives of example group i (or batch i) are the draws i * k ... of the epoch's
stream. The shuffle's order does: NumPy's generator on the host, a sort of counter keys on a GPU
(`sampling.argsort_permutation`, which the CPU reproduces when a test swaps it in).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from jingu import cuda
from w2v.training import sampling
from w2v.training.ops import HOST, device_backend
from w2v.training.reader import PairsDataset

log = logging.getLogger(__name__)

# On a GPU the summed loss stays on the device and is read (one sync) every this many batches.
LOSS_READ_EVERY = 50


@dataclass
class Batch:
    """One batch: `center` (B,) ids; `context` (B, 2*window) ids with 0 for masked (CBOW) or (B,) ids
    (skip-gram); `progress` how many source rows of the epoch the batch accounts for (for the
    learning-rate schedule); `negatives` (B, negative) per example, (shared,) for the batch, or None."""

    center: Any
    context: Any
    progress: float
    negatives: Any = None


@dataclass(frozen=True)
class BatchPlan:
    """What every epoch's batches are made of: the model's `mask`, the pairs' `window`, the keep
    probabilities and unigram `table` (on the pipeline's device), and the batch shape: `negative`
    per group of `group` consecutive examples, or `shared` for the whole batch (none when `negative`
    is 0). `batch_size` is a multiple of `group`, so that a group never spans two batches."""

    mask: Callable[..., tuple[Any, Any]]
    window: int
    keep_prob: Any
    table: Any
    batch_size: int
    buffer_size: int
    negative: int = 0
    shared: int = 0
    group: int = 1

    def __post_init__(self) -> None:
        if self.batch_size % self.group:
            raise ValueError(f"batch_size {self.batch_size} is not a multiple of the negative group {self.group}")


def mask_cbow(group: dict[str, Any], keep_prob: Any, window: int, draws: sampling.Draws) -> tuple[Any, Any]:
    """(center, context) of the rows that survive this epoch's subsampling and shrinking window
    (`draws`, the epoch's).

    A context slot survives when its word is kept and its offset is within the center's window; a
    row survives when its center is kept and at least one context slot does.
    """
    pos, center, ctx = group["position"], group["center"], group["context"]
    xp = cuda.get_array_module(pos)
    offs = xp.concatenate([xp.arange(-window, 0), xp.arange(1, window + 1)])
    b = draws.window_sizes(pos, window)
    slot = (ctx != 0) & (xp.abs(offs)[None, :] <= b[:, None])
    slot &= draws.window_keep(pos, offs, ctx, keep_prob)
    # Rows with a context word left, counted by einsum: any() along rows of a few slots is slow.
    has_context = xp.einsum("ij->i", slot.astype(xp.float32)) > 0
    rows = draws.keep(pos, center, keep_prob) & has_context
    idx = xp.flatnonzero(rows)  # on a GPU the one device->host sync of the chunk (its size)
    return xp.take(center, idx), xp.take(ctx * slot, idx, axis=0)  # dropped slots become 0, padding


def mask_skipgram(group: dict[str, Any], keep_prob: Any, window: int, draws: sampling.Draws) -> tuple[Any, Any]:
    """(center, context) of the pairs whose two occurrences are kept and within the center's window."""
    pos, center, ctx, off = group["position"], group["center"], group["context"], group["offset"]
    xp = cuda.get_array_module(pos)
    off = off.astype(xp.int64)
    rows = xp.abs(off) <= draws.window_sizes(pos, window)
    rows &= draws.keep(pos, center, keep_prob)
    rows &= draws.keep(pos + off, ctx, keep_prob)
    idx = xp.flatnonzero(rows)  # on a GPU the one device->host sync of the chunk (its size)
    return xp.take(center, idx), xp.take(ctx, idx)


class ShuffleBuffer:
    """Masked examples waiting to be shuffled and cut into batches, with the counters that make their
    draws independent of how batches and buffers split the epoch.

    `drain` shuffles everything held (each drain of the epoch has its own permutation) and hands out
    the full batches (all of them when `final`); the remainder waits for the next drain. `progress`
    attributes the buffer's source rows to its batches pro rata, so the schedule advances smoothly.
    """

    def __init__(self, plan: BatchPlan, draws: sampling.Draws) -> None:
        self.plan, self.draws = plan, draws
        self.key = draws.negative_key()
        self.centers: list[Any] = []
        self.contexts: list[Any] = []
        self.held = 0  # examples in the buffer
        self.rows_held = 0.0  # source rows those examples stand for
        self.drains = 0  # buffers shuffled so far
        self.emitted = 0  # examples handed out so far: the counter of their negatives
        self.batches = 0  # batches handed out so far: the counter of shared negatives

    def add(self, center: Any, context: Any, rows: int) -> None:
        self.centers.append(center)
        self.contexts.append(context)
        self.held += center.shape[0]  # on a GPU: the one wait per chunk (the masked size)
        self.rows_held += rows

    def negatives(self, first_example: int, n: int, first_batch: int, n_batches: int) -> Any:
        """The negatives of `n` examples from `first_example` (or of `n_batches` batches from
        `first_batch`, when shared): group i of the epoch draws its negatives from counter i * k."""
        plan = self.plan
        if not plan.negative:
            return None
        if plan.shared:
            return sampling.draw_negatives(plan.table, self.key, first_batch * plan.shared, (n_batches, plan.shared))
        shape = (-(-n // plan.group), plan.negative)
        return sampling.draw_negatives(plan.table, self.key, first_example // plan.group * plan.negative, shape)

    def drain(self, final: bool, draw_per_buffer: bool) -> Iterator[Batch]:
        """Shuffle and hand out the full batches (every example when `final`); `draw_per_buffer`
        draws the negatives of all of them at once instead of per batch (the same draws)."""
        plan, size = self.plan, self.plan.batch_size
        center, context = self._shuffled()
        n_out = self.held if final else self.held - self.held % size
        n_batches = -(-n_out // size)
        block = self.negatives(self.emitted, n_out, self.batches, n_batches) if draw_per_buffer else None
        per_example = self.rows_held / self.held if self.held else 0.0
        for i, start in enumerate(range(0, n_out, size)):
            stop = min(start + size, n_out)
            if block is None:
                negs = self.negatives(self.emitted + start, stop - start, self.batches + i, 1)
            else:
                negs = block[i : i + 1] if plan.shared else block[start // plan.group : -(-stop // plan.group)]
            if plan.shared and negs is not None:
                negs = negs[0]
            yield Batch(center[start:stop], context[start:stop], per_example * (stop - start), negs)
        self.emitted += n_out
        self.batches += n_batches
        self.centers, self.contexts = [center[n_out:]], [context[n_out:]]
        self.held -= n_out
        self.rows_held -= per_example * n_out

    def _shuffled(self) -> tuple[Any, Any]:
        xp = cuda.get_array_module(self.centers[0])
        center = xp.concatenate(self.centers) if len(self.centers) > 1 else self.centers[0]
        context = xp.concatenate(self.contexts) if len(self.contexts) > 1 else self.contexts[0]
        order = self.draws.shuffle(self.held, self.drains, xp)
        self.drains += 1
        return xp.take(center, order), xp.take(context, order, axis=0)


def epoch_batches(source: Any, plan: BatchPlan, pipeline: Any, seed: int, epoch: int) -> Iterator[Batch]:
    """Batches of one epoch of `source` (a `PairsDataset` or one worker's slice of it).

    The buffer fills with masked chunks; once `plan.buffer_size` source rows have entered it since
    the last shuffle, it drains. Counting source rows (not surviving examples) makes every pipeline
    shuffle at the same row groups, so their draws agree.
    """
    draws = pipeline.draws(seed, epoch)
    buffer = ShuffleBuffer(plan, draws)
    rows_in = 0  # source rows that entered the buffer since the last shuffle
    for chunk in pipeline.chunks(source, plan.buffer_size, source.order(seed, epoch)):
        center, context = plan.mask(chunk, plan.keep_prob, plan.window, draws)
        rows = chunk["position"].shape[0]
        buffer.add(center, context, rows)
        rows_in += rows
        if rows_in >= plan.buffer_size:
            rows_in = 0
            if buffer.held:
                yield from buffer.drain(False, pipeline.draw_per_buffer)
    if buffer.held:
        yield from buffer.drain(True, pipeline.draw_per_buffer)


class HostLoss:
    """The summed loss of an epoch's part, read after every batch."""

    def __init__(self) -> None:
        self.total = 0.0

    def add(self, loss: Any) -> None:
        self.total += float(loss)

    def finish(self) -> float:
        return self.total


class DeviceLoss:
    """The summed loss of an epoch's part, kept on the device and read (one sync) every
    `LOSS_READ_EVERY` batches and at the end; `total` is what was read so far."""

    def __init__(self) -> None:
        self.total = 0.0
        self.pending: Any = None
        self.count = 0

    def add(self, loss: Any) -> None:
        self.pending = loss if self.pending is None else self.pending + loss
        self.count += 1
        if self.count % LOSS_READ_EVERY == 0:
            self.finish()

    def finish(self) -> float:
        if self.pending is not None:
            self.total += float(self.pending)  # the one device->host sync of these batches
            self.pending = None
        return self.total


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class HostPipeline:
    """Training on the CPU, in this process or in Hogwild workers (see `hogwild`)."""

    device = "cpu"
    backend = HOST  # the ops' host flavour: character bags as CSR, negatives in cache-sized chunks
    draws = sampling.HostDraws  # window masks drawn once per position, NumPy's shuffle
    draw_per_buffer = False  # per batch, in the prefetch thread, overlapping the step
    dense_updates = False  # sparse gradients are coalesced and touch only their rows

    def __init__(self, workers: int = 1) -> None:
        # With a worker on every core a prefetch thread finds no idle core, and only competes with
        # its own worker's step for the GIL.
        self.spare_core = _usable_cores() > workers

    def put(self, array: Any) -> Any:
        return array

    def workers(self, requested: int) -> int:
        return requested

    def prepare(self, source: PairsDataset, vocab_size: int) -> None:
        source.check_ids(vocab_size)

    def chunks(self, source: Any, min_rows: int, order: list[int]) -> Iterator[dict[str, Any]]:
        """A row group at a time (`min_rows` is for the device: small chunks stay in cache here)."""
        return source.row_groups(order)

    def stream(self, batches: Iterator[Batch]) -> Iterator[Batch]:
        return prefetch(batches) if self.spare_core else batches

    def loss(self) -> HostLoss:
        return HostLoss()

    def finish_epoch(self) -> None:
        pass


class DevicePipeline:
    """Training on one GPU (CuPy), in one process; the pairs stay on the device when they fit
    `cache_bytes`, else they stream from the host a chunk at a time."""

    draws = sampling.Draws  # every draw made where the arrays are, the shuffle a sort of counter keys
    draw_per_buffer = True
    dense_updates = True  # a dense scatter is one kernel, with no sort or host sync

    def __init__(self, device: str, cache_bytes: int = 4 << 30) -> None:
        self.device, self.cache_bytes = device, cache_bytes
        self.backend = device_backend(device)  # padded bags, whole-batch negatives, no read of a gradient
        self.kept: list[list[dict[str, Any]]] | None = None  # per part, its row groups on the device

    def put(self, array: Any) -> Any:
        return cuda.to_device(array, self.device)

    def workers(self, requested: int) -> int:
        if requested > 1:
            log.info("train.workers applies to the CPU; one process trains on %s", self.device)
        return 1

    def prepare(self, source: PairsDataset, vocab_size: int) -> None:
        """Check the ids; a dataset that fits is copied to the device in the same pass (decoded once)."""
        if source.nbytes > self.cache_bytes:
            source.check_ids(vocab_size)
            return
        kept: list[list[dict[str, Any]]] = [[] for _ in source.parts]
        source.check_ids(vocab_size, lambda part, group: kept[part].append(self._put_group(group)))
        if len(source.parts) > 1:
            log.info("keeping the pairs (%.0f MB decoded) on %s for all epochs", source.nbytes / 1e6, self.device)
        self.kept = kept

    def chunks(self, source: PairsDataset, min_rows: int, order: list[int]) -> Iterator[dict[str, Any]]:
        """Row groups joined into chunks of at least `min_rows` rows, on the device."""
        if self.kept is not None:
            yield from _join((group for i in order for group in self.kept[i]), min_rows)
            return
        # Streamed: a thread decodes and joins the next chunks on the host while the device trains on
        # this one; each chunk crosses to the device in one copy per column.
        for chunk in prefetch(_join(source.row_groups(order), min_rows), depth=2):
            yield self._put_group(chunk)

    def _put_group(self, group: dict[str, Any]) -> dict[str, Any]:
        return {name: cuda.to_device(column, self.device) for name, column in group.items()}

    def stream(self, batches: Iterator[Batch]) -> Iterator[Batch]:
        return batches

    def loss(self) -> DeviceLoss:
        return DeviceLoss()

    def finish_epoch(self) -> None:
        cuda.synchronize()


def pipeline_for(device: str, workers: int = 1) -> HostPipeline | DevicePipeline:
    """The one place where the device decides how training runs."""
    return HostPipeline(workers) if device == "cpu" else DevicePipeline(device)


def _join(groups: Iterator[dict[str, Any]], min_rows: int) -> Iterator[dict[str, Any]]:
    """Consecutive row groups joined into chunks of at least `min_rows` rows (the last may hold fewer)."""
    pending: list[dict[str, Any]] = []
    rows = 0
    for group in groups:
        pending.append(group)
        rows += group["position"].shape[0]
        if rows >= min_rows:
            yield _concat(pending)
            pending, rows = [], 0
    if pending:
        yield _concat(pending)


def _concat(groups: list[dict[str, Any]]) -> dict[str, Any]:
    if len(groups) == 1:
        return groups[0]
    xp = cuda.get_array_module(groups[0]["position"])
    return {k: xp.concatenate([g[k] for g in groups]) for k in groups[0]}


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetch(items: Iterator[Any], depth: int = 4) -> Iterator[Any]:
    """Produce `items` in a background thread, up to `depth` ahead, and yield them in order.

    NumPy and SciPy release the GIL in their kernels, so preparing the next batches overlaps the
    training step on a second core. The producer is the only user of its generator's RNG, so the
    draws (and the results) are the same as without prefetching.
    """
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, re-raised there
            put(_Failed(exc))

    worker = threading.Thread(target=work, name="w2v-batches", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
