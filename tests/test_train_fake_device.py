"""The device pipeline end to end through `train()`, on the fake CuPy (tests/jingu/fake_cupy.py):
resume, the workers setting, and a dataset too large for the device cache. The vectors themselves
are pinned in test_train_pinned.py."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from helpers import keep_prepared
from helpers import train_files as train
from w2v.training import pipeline
from w2v.training.ops import DeviceBags, DeviceNegativeSampling
from w2v.vectors import KeyedVectors

SETTINGS = {"vector_size": 8, "epochs": 3, "batch_size": 64, "negative_group": 8, "sample": 1e-2, "seed": 3,
            "workers": 1, "shuffle_buffer": 500, "optimizer": "adagrad", "alpha": 0.2}


def _vectors(path) -> np.ndarray:
    return KeyedVectors.load_word2vec_format(path).vectors


def _train(zipf_pairs, out, **kwargs):
    out.mkdir(parents=True, exist_ok=True)
    settings = {**SETTINGS, **kwargs.pop("settings", {})}
    return train("skipgram", zipf_pairs / "skipgram.parquet", zipf_pairs / "vocab.tsv", settings, out / "v.vec",
                 out / "h.json", device="cuda", **kwargs)


def test_a_device_run_killed_after_an_epoch_resumes_to_the_uninterrupted_vectors(zipf_pairs, tmp_path, fake_cuda):
    whole = _train(zipf_pairs, tmp_path / "whole")
    ckpt = tmp_path / "resumed" / "ckpt.npz"
    first = _train(zipf_pairs, tmp_path / "resumed", checkpoint_path=ckpt, stop_after=1)
    assert len(first["epochs"]) == 1 and ckpt.exists() and not (tmp_path / "resumed" / "v.vec").exists()
    resumed = _train(zipf_pairs, tmp_path / "resumed", checkpoint_path=ckpt)
    assert whole["device"] == resumed["device"] == "cuda:0"
    assert [e["loss"] for e in resumed["epochs"]] == pytest.approx([e["loss"] for e in whole["epochs"]], rel=1e-6)
    np.testing.assert_allclose(_vectors(tmp_path / "resumed" / "v.vec"), _vectors(tmp_path / "whole" / "v.vec"),
                               rtol=0, atol=1e-6)
    assert not ckpt.exists()


def test_workers_apply_to_the_cpu_only(zipf_pairs, tmp_path, fake_cuda, caplog):
    """Two workers asked for on a device: one process trains, the same vectors as with one, and the log says so."""
    with caplog.at_level(logging.INFO, logger="w2v.training.pipeline"):
        _train(zipf_pairs, tmp_path / "two", settings={"workers": 2})
    assert "train.workers applies to the CPU; one process trains on cuda:0" in caplog.text
    _train(zipf_pairs, tmp_path / "one")
    np.testing.assert_array_equal(_vectors(tmp_path / "two" / "v.vec"), _vectors(tmp_path / "one" / "v.vec"))


def test_pairs_too_large_for_the_device_cache_stream_to_the_same_vectors(zipf_pairs, tmp_path, fake_cuda, monkeypatch):
    import w2v.training.train as training  # noqa: PLC0415

    _, counts = fake_cuda
    copies = []
    for name in ("cached", "streamed"):
        if name == "streamed":  # cache_bytes 0: every chunk crosses to the device, every epoch
            monkeypatch.setattr(training, "pipeline_for", lambda device, workers=1: pipeline.DevicePipeline(device, 0))
        counts.reset()
        _train(zipf_pairs, tmp_path / name)
        copies.append(counts.names["host_to_device"])
    assert copies[1] > copies[0]
    np.testing.assert_array_equal(_vectors(tmp_path / "streamed" / "v.vec"), _vectors(tmp_path / "cached" / "v.vec"))


def test_the_model_and_the_optimizer_state_live_on_the_device(zipf_pairs, tmp_path, fake_cuda, monkeypatch):
    """Tables on the host would still train on the fake (its arrays are NumPy's subclass), so look."""
    fake, _ = fake_cuda
    made = keep_prepared(monkeypatch)
    _train(zipf_pairs, tmp_path / "dev", settings={"chars": "cwe", "min_char_count": 1})
    setup = made["prepared"].run
    arrays = [p.data for p in setup.net.parameters()] + [s["sum"] for s in setup.opt.state.values()]
    arrays += [setup.plan.keep_prob, setup.plan.table, *setup.net.bags]
    assert arrays and all(isinstance(a, fake.FakeArray) for a in arrays)
    # ... and its ops are the device's flavour, chosen with the pipeline
    assert isinstance(setup.net.bags, DeviceBags) and setup.net.backend.negative_sampling is DeviceNegativeSampling
