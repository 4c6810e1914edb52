"""Edges of the epoch loop (`w2v.training.loop`), found by mutation testing: Hogwild workers cover
each row once, a part's result when it stops early or has nothing to do, errors keep their type,
and the progress bar shows the rows and the mean loss of worker 0 only."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

from w2v.training.loop import Epochs
from w2v.training.pipeline import Batch
from w2v.training.registry import model_kind
from w2v.training.settings import TrainSettings
from w2v.training.train import TrainFiles, prepare

SETTINGS = {"vector_size": 6, "epochs": 2, "batch_size": 32, "sample": 0.0, "seed": 4, "device": "cpu", "workers": 1,
            "shuffle_buffer": 400}


def _epochs(zipf_pairs, tmp_path, **settings) -> Epochs:
    files = TrainFiles(pairs=zipf_pairs / "skipgram.parquet", vocab=zipf_pairs / "vocab.tsv", vec=tmp_path / "v.vec",
                       history=tmp_path / "h.json")
    return Epochs(prepare(model_kind("skipgram"), files, TrainSettings.from_mapping({**SETTINGS, **settings})).run)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_workers_together_go_through_every_source_row_once(zipf_pairs, tmp_path, workers):
    epochs = _epochs(zipf_pairs, tmp_path, workers=workers)
    try:
        record = epochs.run(0)
        rows = np.array(epochs.progress.rows)
    finally:
        epochs.close()
    assert rows.shape == (workers,) and np.all(rows > 0)
    assert rows.sum() == pytest.approx(epochs.setup.source.num_rows)
    assert record["examples"] > 0 and record["batches"] > 0


class _Bar(SimpleNamespace):
    def update(self, n):
        self.n += n

    def set_postfix(self, **kwargs):
        self.postfix = kwargs


def _batches(n: int, size: int = 4) -> list[Batch]:
    return [Batch(np.arange(1, size + 1), np.arange(2, size + 2), 10.0) for _ in range(n)]


def _stub(epochs: Epochs, value: float = 1.5, error: Exception | None = None) -> None:
    def net(center, context, negatives, scale):
        if error is not None:
            raise error
        return SimpleNamespace(data=np.float64(value * center.shape[0]), backward=lambda: None)

    epochs.setup.net = net


def test_the_bar_shows_worker_0s_rows_and_mean_loss(zipf_pairs, tmp_path):
    epochs = _epochs(zipf_pairs, tmp_path, workers=2)  # no run(): no worker is forked
    _stub(epochs)
    epochs.setup.opt = SimpleNamespace(param_groups=epochs.setup.opt.param_groups, step=lambda: None,
                                       zero_grad=lambda: None)
    losses = itertools.count(1)  # batch i's loss per example is i, so the mean moves with every batch

    def net(center, context, negatives, scale):
        return SimpleNamespace(data=np.float64(next(losses) * center.shape[0]), backward=lambda: None)

    epochs.setup.net = net
    epochs.bar = _Bar(n=0.0, postfix=None)
    epochs.train_part(_batches(50), 0.0, 0)
    assert epochs.bar.n == pytest.approx(500.0)  # 50 batches of 10 source rows
    assert epochs.bar.postfix == {"loss": "25.500"}  # the mean loss per example, shown after 50 batches
    epochs.progress.reset()
    epochs.bar = _Bar(n=0.0, postfix=None)
    epochs.train_part(_batches(50), 0.0, 1)  # another worker's part leaves the bar alone
    assert epochs.bar.n == 0.0 and epochs.bar.postfix is None


def test_a_part_that_stops_or_gets_nothing_still_reports_its_rate(zipf_pairs, tmp_path):
    epochs = _epochs(zipf_pairs, tmp_path)
    _stub(epochs)
    nothing = epochs.train_part([], 0.0, 0)
    assert (nothing.loss_sum, nothing.examples, nothing.batches) == (0.0, 0, 0)
    assert nothing.lr == pytest.approx(SETTINGS.get("alpha", 0.05))
    epochs.progress.stop[0] = 1  # another worker diverged
    stopped = epochs.train_part(_batches(3), 0.0, 0)
    assert stopped.batches == 0 and isinstance(stopped.lr, float)


def test_an_error_in_a_step_keeps_its_type_and_stops_the_other_workers(zipf_pairs, tmp_path):
    epochs = _epochs(zipf_pairs, tmp_path)
    _stub(epochs, error=ValueError("boom"))
    with pytest.raises(ValueError, match="boom"):
        epochs.train_part(_batches(2), 0.0, 0)
    assert epochs.progress.stop[0] == 1


class _Opt(SimpleNamespace):
    def step(self):
        pass

    def zero_grad(self):
        pass


def test_an_epochs_record_holds_its_number_mean_loss_time_and_speed(zipf_pairs, tmp_path):
    epochs = _epochs(zipf_pairs, tmp_path)
    _stub(epochs, value=1.5)
    epochs.setup.opt = _Opt(param_groups=epochs.setup.opt.param_groups)
    epochs.schedule.optimizer = epochs.setup.opt
    record = epochs.run(1)
    assert record["epoch"] == 2
    assert record["loss"] == pytest.approx(1.5)  # the summed loss over the examples
    assert record["examples"] > record["batches"] > 0
    assert 0 < record["seconds"] < 60
    assert record["words_per_sec"] == pytest.approx(epochs.setup.n_tokens / record["seconds"])
    assert 0 < record["alpha"] <= SETTINGS.get("alpha", 0.05)


def test_a_stop_from_another_worker_fails_the_epoch_even_with_a_finite_loss(zipf_pairs, tmp_path):
    from w2v.training.loop import TrainingDiverged  # noqa: PLC0415

    epochs = _epochs(zipf_pairs, tmp_path, alpha=0.05)
    calls = []

    def net(center, context, negatives, scale):
        calls.append(1)
        if len(calls) == 3:
            epochs.progress.stop[0] = 1  # as a diverging worker would, in shared memory
        return SimpleNamespace(data=np.float64(1.0), backward=lambda: None)

    epochs.setup.net = net
    epochs.setup.opt = _Opt(param_groups=epochs.setup.opt.param_groups)
    with pytest.raises(TrainingDiverged, match=r"epoch 1: the loss became 3\.0; lower train.alpha \(now 0\.05\) "
                                               r"in config/config.yaml, e.g. to 0\.025, .*no vectors were written"):
        epochs.run(0)
