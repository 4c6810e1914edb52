"""Training examples streamed from a pairs dataset, masked per epoch and shuffled in a buffer.

A dataset is one Parquet file per corpus shard (or a single file). Each epoch reads the parts in an
order drawn from (seed, epoch), row group by row group, applies that epoch's subsampling and
shrinking windows (see `sampling`), and passes the surviving examples through a shuffle buffer (the
examples of about `buffer_size` source rows) that spans part files and is cut into batches with their
negatives. Memory stays flat however long the corpus is; a small dataset (under `cache_bytes`
decoded) is read once and kept in memory for later epochs.

On a GPU the whole pipeline is device-resident: row groups are joined into chunks of about
`buffer_size` rows, each column is copied to the device (and the row groups stay on the device across
epochs while the dataset fits `device_cache_bytes`), and masks, shuffle and negatives are computed
there, so a batch is device slices only. The host waits for the device once per chunk (to learn how
many examples survived the masks), never per batch.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from jingu import cuda
from w2v.errors import UserError
from w2v.training import sampling

log = logging.getLogger(__name__)


@dataclass
class Batch:
    """One batch: `center` (B,) ids; `context` (B, 2*window) ids with 0 for masked (CBOW) or (B,) ids
    (skip-gram); `progress` how many source rows of the epoch the batch accounts for (for the
    learning-rate schedule); `negatives` (B, negative) per example, (shared,) for the batch, or None."""

    center: np.ndarray
    context: np.ndarray
    progress: float
    negatives: Any = None


class PairsFile:
    """One Parquet file of CBOW or skip-gram pairs, read one row group at a time (and kept in memory
    after the first pass once `keep_in_memory` was called)."""

    def __init__(self, path: str | Path, model: str, window: int) -> None:
        self.path = Path(path)
        self.model = model
        self.window = window
        try:
            self._file = pq.ParquetFile(self.path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise UserError(f"{self.path} is not a readable Parquet file ({exc}); rerun `w2v pairs`") from None
        names = self._file.schema_arrow.names
        if names != COLUMNS[model]:
            raise UserError(
                f"{self.path}: columns {names} do not match the {model} pairs contract {COLUMNS[model]}; "
                "rerun `w2v pairs` (rule pairs)"
            )
        self.num_rows = self._file.metadata.num_rows
        self.num_row_groups = self._file.num_row_groups
        row_bytes = (8 + 4 + 4 * 2 * window) if model == "cbow" else (8 + 4 + 4 + 1)
        self.nbytes = self.num_rows * row_bytes  # decoded size
        self._cache: list[dict[str, np.ndarray]] | None = None
        self._cached = False

    def keep_in_memory(self) -> None:
        """Keep the decoded row groups after the first pass, for later epochs."""
        if self._cache is None:
            self._cache = []

    @property
    def in_memory(self) -> bool:
        return self._cache is not None

    def row_groups(self) -> Iterator[dict[str, np.ndarray]]:
        """Yield each row group's columns as NumPy arrays (validated)."""
        if self._cached:
            yield from self._cache
            return
        for i in range(self.num_row_groups):
            arrays = self.read_row_group(i)
            if self._cache is not None:
                self._cache.append(arrays)
            yield arrays
        if self._cache is not None:
            self._cached = True

    def read_row_group(self, i: int) -> dict[str, np.ndarray]:
        """Row group `i`'s columns as NumPy arrays, decoded and validated (never from memory)."""
        table = self._file.read_row_group(i)
        out = {"position": table.column("position").to_numpy(), "center": table.column("center").to_numpy()}
        ctx = table.column("context").combine_chunks()
        if self.model == "cbow":
            width = 2 * self.window
            flat = ctx.flatten().to_numpy()
            if ctx.null_count or flat.shape[0] != len(table) * width:
                raise UserError(
                    f"{self.path}, row group {i}: context lists must hold {width} ids (window "
                    f"{self.window}); rerun `w2v pairs` (rule pairs)"
                )
            out["context"] = flat.reshape(len(table), width)
        else:
            out["context"] = ctx.to_numpy()
            out["offset"] = table.column("offset").to_numpy()
        return out


COLUMNS = {"cbow": ["position", "center", "context"], "skipgram": ["position", "center", "context", "offset"]}


class PairsDataset:
    """A pairs dataset: its part files (one per corpus shard, or a single file), read as one stream.

    Each epoch reads the parts in an order drawn from (seed, epoch) and joins consecutive row groups
    across parts into chunks, so the shuffle buffer spans files and memory stays flat. A dataset whose
    decoded size is under `cache_bytes` is read from disk once and kept in memory; on a GPU, one under
    `device_cache_bytes` is kept on the device (row group by row group) after its first pass.
    """

    def __init__(
        self, files: list[str | Path] | str | Path, model: str, window: int,
        cache_bytes: int = 256 << 20, device_cache_bytes: int = 4 << 30,
    ) -> None:
        paths = files if isinstance(files, (list, tuple)) else [files]
        self.model = model
        self.window = window
        self.parts = [PairsFile(p, model, window) for p in paths]
        self.num_rows = sum(p.num_rows for p in self.parts)
        self.nbytes = sum(p.nbytes for p in self.parts)
        if self.nbytes <= cache_bytes:
            for part in self.parts:
                part.keep_in_memory()
        self.device_cache_bytes = device_cache_bytes
        self._device: dict[str, list[list[dict[str, Any]]]] = {}  # device -> per part, its row groups there

    @property
    def path(self) -> Path:
        """The first part's file (for messages)."""
        return self.parts[0].path

    def order(self, seed: int, epoch: int) -> list[int]:
        """The parts in the order epoch `epoch` reads them."""
        return sampling.part_order(len(self.parts), seed, epoch)

    @property
    def cached(self) -> bool:
        """Whether the decoded dataset is kept in memory after its first pass."""
        return self.parts[0].in_memory

    @property
    def num_row_groups(self) -> int:
        return sum(p.num_row_groups for p in self.parts)

    def row_groups(self, order: list[int] | None = None) -> Iterator[dict[str, np.ndarray]]:
        """Every row group of the parts in `order` (default: part order), as host arrays."""
        for i in range(len(self.parts)) if order is None else order:
            yield from self.parts[i].row_groups()

    def dealt_row_groups(self, worker: int, workers: int, order: list[int] | None = None) -> Iterator[dict[str, np.ndarray]]:
        """Row groups k, k + workers, k + 2 * workers, ... of the stream in `order` (k = `worker`):
        one worker's share, read and decoded by that worker only (the others' are skipped unread)."""
        index = 0
        for i in range(len(self.parts)) if order is None else order:
            part = self.parts[i]
            for group in range(part.num_row_groups):
                if index % workers == worker:
                    yield part.read_row_group(group)
                index += 1

    def chunks(self, min_rows: int, device: str = "cpu", order: list[int] | None = None) -> Iterator[dict[str, Any]]:
        """Consecutive row groups (across parts, in `order`) joined into chunks of at least `min_rows`
        rows (the last may hold fewer), with their columns on `device`.

        On a GPU, a dataset that fits `device_cache_bytes` is copied there once, a row group at a time
        (one copy per column and row group), and later epochs join device arrays only.
        """
        order = list(range(len(self.parts))) if order is None else order
        if device == "cpu":
            groups: Iterator[dict[str, Any]] = self.row_groups(order)
        elif device in self._device:
            groups = (g for i in order for g in self._device[device][i])
        elif self.nbytes <= self.device_cache_bytes:
            groups = self._fill_device(order, device)
        else:
            # Streamed: a thread decodes and joins the next chunks on the host while the device trains
            # on this one; each chunk crosses to the device in one copy per column.
            for chunk in prefetch(_join(self.row_groups(order), min_rows), depth=2):
                yield {k: cuda.to_device(v, device) for k, v in chunk.items()}
            return
        yield from _join(groups, min_rows)

    def _fill_device(self, order: list[int], device: str) -> Iterator[dict[str, Any]]:
        if len(self.parts) > 1:
            log.info("keeping the pairs (%.0f MB decoded) on %s for all epochs", self.nbytes / 1e6, device)
        kept: list[list[dict[str, Any]]] = [[] for _ in self.parts]
        for i in order:
            for group in self.parts[i].row_groups():
                group = {k: cuda.to_device(v, device) for k, v in group.items()}
                kept[i].append(group)
                yield group
        self._device = {device: kept}  # one device at a time

    def check_ids(self, vocab_size: int, device: str = "cpu") -> None:
        """Raise if any id falls outside the vocabulary (one pass over the data, before training).

        On a GPU whose cache holds the dataset, the same pass fills the device cache, so Parquet is
        decoded once and the first epoch copies nothing.
        """
        order = list(range(len(self.parts)))
        for part in order:
            for i, group in enumerate(self.parts[part].row_groups()):
                for name in ("center", "context"):
                    col = group[name]
                    if col.size and (col.min() < 0 or col.max() >= vocab_size):
                        raise UserError(
                            f"{self.parts[part].path}, row group {i}: column {name!r} holds ids outside the "
                            f"vocabulary (0..{vocab_size - 1}); the pairs and vocab.tsv disagree, rerun `w2v pairs`"
                        )
        if device != "cpu" and self.nbytes <= self.device_cache_bytes and device not in self._device:
            for _ in self._fill_device(order, device):
                pass


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


def mask_cbow(group: dict[str, np.ndarray], keep_prob: np.ndarray, window: int, seed: int, epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """(center, context) of the rows that survive this epoch's subsampling and shrinking window.

    A context slot survives when its word is kept and its offset is within the center's window; a
    row survives when its center is kept and at least one context slot does.
    """
    pos, center, ctx = group["position"], group["center"], group["context"]
    xp = cuda.get_array_module(pos)
    offs = xp.concatenate([xp.arange(-window, 0), xp.arange(1, window + 1)])
    b = sampling.window_sizes(pos, window, seed, epoch)
    slot = (ctx != 0) & (xp.abs(offs)[None, :] <= b[:, None])
    slot &= sampling.window_keep_mask(pos, offs, ctx, keep_prob, seed, epoch)
    # Rows with a context word left, counted by einsum: any() along rows of a few slots is slow.
    has_context = xp.einsum("ij->i", slot.astype(xp.float32)) > 0
    rows = sampling.keep_mask(pos, center, keep_prob, seed, epoch) & has_context
    idx = xp.flatnonzero(rows)  # on a GPU the one device->host sync of the chunk (its size)
    return xp.take(center, idx), xp.take(ctx * slot, idx, axis=0)  # dropped slots become 0, padding


def mask_skipgram(group: dict[str, np.ndarray], keep_prob: np.ndarray, window: int, seed: int, epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """(center, context) of the pairs whose two occurrences are kept and within the center's window."""
    pos, center, ctx, off = group["position"], group["center"], group["context"], group["offset"]
    xp = cuda.get_array_module(pos)
    off = off.astype(xp.int64)
    b = sampling.window_sizes(pos, window, seed, epoch)
    rows = xp.abs(off) <= b
    rows &= sampling.keep_mask(pos, center, keep_prob, seed, epoch)
    rows &= sampling.keep_mask(pos + off, ctx, keep_prob, seed, epoch)
    idx = xp.flatnonzero(rows)  # on a GPU the one device->host sync of the chunk (its size)
    return xp.take(center, idx), xp.take(ctx, idx)


def chunk_rows(buffer_size: int, device: str) -> int:
    """Rows masked at once: a row group on the CPU (cache-friendly), a shuffle buffer on a GPU."""
    return 1 if device == "cpu" else buffer_size


def epoch_batches(
    source: PairsDataset,
    keep_prob: Any,
    seed: int,
    epoch: int,
    batch_size: int,
    buffer_size: int,
    table: Any = None,
    negative: int = 0,
    shared: int = 0,
    device: str = "cpu",
    group: int = 1,
) -> Iterator[Batch]:
    """Batches of one epoch: masked examples, shuffled in blocks (those of ~`buffer_size` rows),
    each batch with its negatives (`negative` per group of `group` consecutive examples, or
    `shared` for the batch when > 0; none when `negative` is 0) drawn from the unigram `table`.
    `batch_size` is a multiple of `group`, so that a group never spans two batches.

    `keep_prob` and `table` live on `device`. On the CPU, row groups are masked one at a time
    (cache-friendly) and negatives drawn per batch (in the prefetch thread, overlapping the
    step); on a GPU, chunks of `buffer_size` rows are masked at once and the negatives of a whole
    buffer drawn at once (fewer launches). The draws do not depend on either choice.

    The buffer fills with masked chunks; once `buffer_size` source rows have entered it since the
    last shuffle, it is shuffled and all full batches leave it; the remainder stays for the next
    fill. Counting source rows (not surviving examples) makes the CPU and the GPU shuffle at the
    same row groups, so their draws agree. `progress` attributes the buffer's source rows to its
    batches pro rata, so the schedule advances smoothly.
    """
    if batch_size % group:
        raise ValueError(f"batch_size {batch_size} is not a multiple of the negative group {group}")
    mask = mask_cbow if source.model == "cbow" else mask_skipgram
    on_device = device != "cpu"
    neg_key = sampling.negative_key(seed, epoch)
    centers: list[Any] = []
    contexts: list[Any] = []
    held = 0  # examples in the buffer
    rows_held = 0.0  # source rows those examples stand for
    rows_in = 0  # source rows that entered the buffer since the last shuffle
    drains = 0  # buffers shuffled so far (each gets its own permutation)
    emitted = 0  # examples and batches handed out so far: the counters of their negatives
    batches = 0

    def negatives(first_example: int, n: int, first_batch: int, n_batches: int) -> Any:
        if not negative:
            return None
        if shared:
            return sampling.draw_negatives(table, neg_key, first_batch * shared, (n_batches, shared))
        # Group i of the epoch (examples i * group ...) draws negatives i * negative ... : the draws do
        # not depend on how batches and buffers split the epoch.
        return sampling.draw_negatives(table, neg_key, first_example // group * negative, (-(-n // group), negative))

    def drain(final: bool) -> Iterator[Batch]:
        nonlocal centers, contexts, held, rows_held, drains, emitted, batches
        xp = cuda.get_array_module(centers[0])
        center = xp.concatenate(centers) if len(centers) > 1 else centers[0]
        context = xp.concatenate(contexts) if len(contexts) > 1 else contexts[0]
        order = sampling.permutation(held, seed, epoch, drains, xp)
        drains += 1
        center, context = xp.take(center, order), xp.take(context, order, axis=0)
        n_out = held if final else held - held % batch_size
        n_batches = -(-n_out // batch_size)
        block = negatives(emitted, n_out, batches, n_batches) if on_device else None
        per_example = rows_held / held if held else 0.0
        for i, start in enumerate(range(0, n_out, batch_size)):
            stop = min(start + batch_size, n_out)
            if block is None:
                negs = negatives(emitted + start, stop - start, batches + i, 1)
            else:
                negs = block[start // group : -(-stop // group)] if not shared else block[i : i + 1]
            if shared and negs is not None:
                negs = negs[0]
            yield Batch(center[start:stop], context[start:stop], per_example * (stop - start), negs)
        emitted += n_out
        batches += n_batches
        centers, contexts = [center[n_out:]], [context[n_out:]]
        held -= n_out
        rows_held -= per_example * n_out

    for chunk in source.chunks(chunk_rows(buffer_size, device), device, source.order(seed, epoch)):
        center, context = mask(chunk, keep_prob, source.window, seed, epoch)
        centers.append(center)
        contexts.append(context)
        held += center.shape[0]  # on a GPU: the one wait per chunk (the masked size)
        rows = chunk["position"].shape[0]
        rows_held += rows
        rows_in += rows
        if rows_in >= buffer_size:
            rows_in = 0
            if held:
                yield from drain(final=False)
    if held:
        yield from drain(final=True)


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
