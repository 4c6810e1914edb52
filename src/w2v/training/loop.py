"""The training loop: epochs of batches through the model, in one process or in Hogwild workers.

`Epochs.run(epoch)` trains one epoch and returns its history record. With `workers` > 1 on the
CPU, the epoch is split among worker processes that share the embedding matrices (see `hogwild`); the
learning rate follows the progress of all workers together, so the schedule is the same linear
decay as with one worker. On a GPU one process trains: the summed loss stays on the device and is
read (one sync) every `LOSS_READ_EVERY` batches and at the end of the epoch.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
from tqdm import tqdm

import jingu
from w2v.errors import UserError
from w2v.training import sampling
from w2v.training.batches import Batch, epoch_batches, prefetch
from w2v.training.hogwild import WorkerPool, WorkerSlice, share_training_state, shared_array

log = logging.getLogger(__name__)

# On a GPU the summed loss stays on the device and is read (one sync) every this many batches.
LOSS_READ_EVERY = 50


class TrainingDiverged(UserError):
    """The loss became NaN or infinite."""


class Schedule(NamedTuple):
    """word2vec's learning rate: linear from `alpha` to `min_alpha` over `total_rows` source rows."""

    alpha: float
    min_alpha: float
    total_rows: float

    def lr(self, done_rows: float) -> float:
        return max(self.min_alpha, self.alpha - (self.alpha - self.min_alpha) * done_rows / self.total_rows)


class PartResult(NamedTuple):
    """What one worker's part of an epoch adds up to."""

    loss_sum: float
    examples: int
    batches: int
    lr: float


class Progress(NamedTuple):
    """Shared between the workers of an epoch: source rows done per worker (each writes only its own
    slot, so no update is lost) and a stop flag any worker raises when its loss diverges."""

    rows: np.ndarray
    stop: np.ndarray

    @classmethod
    def create(cls, workers: int) -> "Progress":
        if workers == 1:
            return cls(np.zeros(1), np.zeros(1, dtype=np.int8))
        return cls(shared_array((workers,), np.float64), shared_array((1,), np.int8))

    def reset(self) -> None:
        self.rows[:] = 0.0
        self.stop[:] = 0


def train_part(
    net: Any, opt: Any, batches: Iterable[Batch], scale: float, schedule: Schedule, start_rows: float,
    progress: Progress, slot: int, on_gpu: bool = False, bar: Any = None,
) -> PartResult:
    """Forward, backward and optimizer step for each batch; `start_rows` are the source rows of the
    epochs before this one. Stops early (the loss then not finite) when any worker diverges."""
    group = opt.param_groups[0]
    loss_sum, examples, count = 0.0, 0, 0
    device_loss = None  # GPU: the summed loss of the batches since the last read, on the device
    lr = schedule.lr(start_rows)
    try:
        for batch in batches:
            if progress.stop[0]:
                break
            lr = schedule.lr(start_rows + float(progress.rows.sum()))
            group["lr"] = lr
            loss = net(batch.center, batch.context, batch.negatives, scale)
            loss.backward()
            opt.step()
            opt.zero_grad()
            if on_gpu:
                device_loss = loss.data if device_loss is None else device_loss + loss.data
                if (count + 1) % LOSS_READ_EVERY == 0:
                    loss_sum += float(device_loss)  # the one device->host sync of these batches
                    device_loss = None
            else:
                loss_sum += float(loss.data)
            examples += batch.center.shape[0]
            count += 1
            progress.rows[slot] += batch.progress
            if not math.isfinite(loss_sum):
                progress.stop[0] = 1
                break
            if bar is not None:
                bar.update(float(progress.rows.sum()) - bar.n)
                if count % LOSS_READ_EVERY == 0:
                    bar.set_postfix(loss=f"{loss_sum / max(examples, 1):.3f}")
    except BaseException:
        progress.stop[0] = 1  # the other workers stop too; the caller raises this error
        raise
    if device_loss is not None:
        loss_sum += float(device_loss)  # also waits for the epoch's last step
    return PartResult(loss_sum, examples, count, lr)


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class Epochs:
    """Trains epochs of `source` into `net`: in this process, or with `workers` Hogwild processes
    on the CPU (started at the first epoch, stopped by `close`). `keep_prob` and the `unigram`
    table (see `sampling`) live on `device`."""

    def __init__(
        self, net: Any, opt: Any, source: Any, cfg: dict, keep_prob: Any, unigram: Any, seed: int,
        n_tokens: int, device: str,
    ) -> None:
        self.net, self.opt, self.source, self.cfg = net, opt, source, cfg
        self.keep_prob, self.unigram, self.seed, self.n_tokens, self.device = keep_prob, unigram, seed, n_tokens, device
        self.on_gpu = device != "cpu"
        self.workers = 1 if self.on_gpu else int(cfg["workers"])
        if self.on_gpu and cfg["workers"] > 1:
            log.info("train.workers applies to the CPU; one process trains on %s", device)
        self.negative = cfg["negative"] if cfg["loss"] == "negative" else 0
        shared = cfg["shared_negatives"]
        self.scale = self.negative / shared if shared else 1.0
        self.schedule = Schedule(cfg["alpha"], cfg["min_alpha"], float(source.num_rows * cfg["epochs"]))
        self.progress = Progress.create(self.workers)
        # With a worker on every core a prefetch thread finds no idle core, and only competes with
        # its own worker's step for the GIL.
        self.spare_core = _usable_cores() > self.workers
        self.pool: WorkerPool | None = None
        self.bar: Any = None

    def part(self, index: int, epoch: int) -> PartResult:
        """Worker `index`'s part of `epoch` (the whole epoch with one worker)."""
        cfg = self.cfg
        source = self.source if self.workers == 1 else WorkerSlice(self.source, index, self.workers)
        seed = sampling.worker_seed(self.seed, index, self.workers)
        stream = epoch_batches(
            source, self.keep_prob, seed, epoch, cfg["batch_size"], cfg["shuffle_buffer"], self.unigram,
            self.negative, cfg["shared_negatives"], self.device, cfg["negative_group"],
        )
        if not self.on_gpu and self.spare_core:
            stream = prefetch(stream)  # masking, shuffling and draws overlap the step on a spare core
        start_rows = float(self.source.num_rows * epoch)
        bar = self.bar if index == 0 else None
        return train_part(self.net, self.opt, stream, self.scale, self.schedule, start_rows, self.progress, index,
                          self.on_gpu, bar)

    def run(self, epoch: int) -> dict:
        """Train `epoch` (0-based) and return its history record; raises TrainingDiverged on NaN/inf."""
        t0 = time.perf_counter()  # the first epoch's time includes starting the workers
        if self.workers > 1 and self.pool is None:
            share_training_state(self.net, self.opt)
            self.pool = WorkerPool(self.workers, self.part)  # forked before any thread of ours starts
        self.progress.reset()
        epochs = self.cfg["epochs"]
        self.bar = tqdm(total=self.source.num_rows, desc=f"epoch {epoch + 1}/{epochs}", unit="row",
                        disable=None, leave=False)
        try:
            results = [self.part(0, epoch)] if self.pool is None else self.pool.run_epoch(epoch)
        finally:
            self.bar.close()
            self.bar = None
        if self.on_gpu:
            jingu.cuda.synchronize()
        seconds = time.perf_counter() - t0
        loss_sum = sum(r.loss_sum for r in results)
        examples = sum(r.examples for r in results)
        if not math.isfinite(loss_sum) or self.progress.stop[0]:
            alpha = self.cfg["alpha"]
            raise TrainingDiverged(
                f"training diverged in epoch {epoch + 1}: the loss became {loss_sum}; lower train.alpha "
                f"(now {alpha}) in config/config.yaml, e.g. to {alpha / 2:g}, or use a smaller batch_size; "
                "no vectors were written"
            )
        return {
            "epoch": epoch + 1,
            "loss": loss_sum / max(examples, 1),
            "alpha": min(r.lr for r in results),
            "words_per_sec": self.n_tokens / seconds if seconds > 0 else None,
            "seconds": seconds,
            "examples": examples,
            "batches": sum(r.batches for r in results),
        }

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None
