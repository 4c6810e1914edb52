"""The training loop: epochs of batches through the model, in one process or in Hogwild workers.

`Epochs.run(epoch)` trains one epoch and returns its history record. With `workers` > 1 on the
CPU, the epoch is split among worker processes that share the embedding matrices (see `hogwild`); the
learning rate follows the progress of all workers together, so the schedule is the same linear
decay as with one worker. How batches are made and where the loss is read is the pipeline's
business (`w2v.training.pipeline`), chosen once by `train()`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from tqdm import tqdm

import jingu

from w2v.errors import UserError
from w2v.training import sampling
from w2v.training.hogwild import WorkerPool, WorkerSlice, share_training_state, shared_array
from w2v.training.pipeline import LOSS_READ_EVERY, Batch, BatchPlan, epoch_batches
from w2v.training.reader import PairsDataset
from w2v.training.settings import TrainSettings

log = logging.getLogger(__name__)


class TrainingDiverged(UserError):
    """The loss became NaN or infinite."""


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


@dataclass
class Setup:
    """What every epoch of a training run works with, made once by `train()`."""

    net: Any
    opt: Any
    source: PairsDataset
    plan: BatchPlan
    pipeline: Any  # a HostPipeline or a DevicePipeline
    settings: TrainSettings
    n_tokens: int


class Epochs:
    """Trains epochs of a `Setup`: in this process, or with `workers` Hogwild processes on the CPU
    (started at the first epoch, stopped by `close`)."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        settings = setup.settings
        self.workers = setup.pipeline.workers(settings.workers)
        # word2vec's learning rate: linear from alpha to min_alpha over every source row of every epoch
        self.schedule = jingu.optim.LinearLR(setup.opt, 1.0, settings.min_alpha / settings.alpha,
                                             total_iters=max(1, setup.source.num_rows * settings.epochs))
        self.progress = Progress.create(self.workers)
        self.pool: WorkerPool | None = None
        self.bar: Any = None

    def part(self, index: int, epoch: int) -> PartResult:
        """Worker `index`'s part of `epoch` (the whole epoch with one worker)."""
        setup = self.setup
        source = setup.source if self.workers == 1 else WorkerSlice(setup.source, index, self.workers)
        seed = sampling.worker_seed(setup.settings.seed, index, self.workers)
        batches = setup.pipeline.stream(epoch_batches(source, setup.plan, setup.pipeline, seed, epoch))
        return self.train_part(batches, float(setup.source.num_rows * epoch), index)

    def train_part(self, batches: Iterable[Batch], start_rows: float, slot: int) -> PartResult:
        """Forward, backward and optimizer step for each batch; `start_rows` are the source rows of the
        epochs before this one. Stops early (the loss then not finite) when any worker diverges."""
        net, opt, progress = self.setup.net, self.setup.opt, self.progress
        bar = self.bar if slot == 0 else None
        group = opt.param_groups[0]
        self.schedule.seek(start_rows)
        loss = self.setup.pipeline.loss()
        examples, count = 0, 0
        lr = group["lr"]
        try:
            for batch in batches:
                if progress.stop[0]:
                    break
                self.schedule.seek(start_rows + float(progress.rows.sum()))
                lr = group["lr"]
                batch_loss = net(batch.center, batch.context, batch.negatives, self.setup.settings.negative_scale)
                batch_loss.backward()
                opt.step()
                opt.zero_grad()
                loss.add(batch_loss.data)
                examples += batch.center.shape[0]
                count += 1
                progress.rows[slot] += batch.progress
                if not math.isfinite(loss.total):
                    progress.stop[0] = 1
                    break
                if bar is not None:
                    self._show(bar, loss.total / max(examples, 1), count)
        except BaseException:
            progress.stop[0] = 1  # the other workers stop too; the caller raises this error
            raise
        return PartResult(loss.finish(), examples, count, lr)  # finish also waits for the last step

    def _show(self, bar: Any, mean_loss: float, count: int) -> None:
        bar.update(float(self.progress.rows.sum()) - bar.n)
        if count % LOSS_READ_EVERY == 0:
            bar.set_postfix(loss=f"{mean_loss:.3f}")

    def run(self, epoch: int) -> dict:
        """Train `epoch` (0-based) and return its history record; raises TrainingDiverged on NaN/inf."""
        t0 = time.perf_counter()  # the first epoch's time includes starting the workers
        if self.workers > 1 and self.pool is None:
            share_training_state(self.setup.net, self.setup.opt)
            self.pool = WorkerPool(self.workers, self.part)  # forked before any thread of ours starts
        self.progress.reset()
        self.bar = tqdm(total=self.setup.source.num_rows, desc=f"epoch {epoch + 1}/{self.setup.settings.epochs}",
                        unit="row", disable=None, leave=False)
        try:
            results = [self.part(0, epoch)] if self.pool is None else self.pool.run_epoch(epoch)
        finally:
            self.bar.close()
            self.bar = None
        self.setup.pipeline.finish_epoch()
        return self._record(epoch, results, time.perf_counter() - t0)

    def _record(self, epoch: int, results: list[PartResult], seconds: float) -> dict:
        loss_sum = sum(r.loss_sum for r in results)
        examples = sum(r.examples for r in results)
        if not math.isfinite(loss_sum) or self.progress.stop[0]:
            alpha = self.setup.settings.alpha
            raise TrainingDiverged(
                f"training diverged in epoch {epoch + 1}: the loss became {loss_sum}; lower train.alpha "
                f"(now {alpha}) in config/config.yaml, e.g. to {alpha / 2:g}, or use a smaller batch_size; "
                "no vectors were written"
            )
        return {
            "epoch": epoch + 1,
            "loss": loss_sum / max(examples, 1),
            "alpha": min(r.lr for r in results),
            "words_per_sec": self.setup.n_tokens / seconds if seconds > 0 else None,
            "seconds": seconds,
            "examples": examples,
            "batches": sum(r.batches for r in results),
        }

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None
