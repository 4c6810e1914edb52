"""Edges of `w2v.training.train` that the end-to-end tests leave open (found by the first mutation
run of train.py, docs/testing.md): the history's speed, the epoch log line, `auto` finding a GPU, the
whole text of the messages, Adagrad's dense updates on a GPU and no NumPy warnings while a run
diverges."""

from __future__ import annotations

import logging
import warnings

import pytest

import jingu
import w2v.training.train as training
from helpers import keep_prepared
from helpers import train_files as train
from w2v.data.pairs import write_pairs
from w2v.data.vocab import make_vocab
from w2v.errors import UserError

FAST = {"vector_size": 8, "epochs": 2, "batch_size": 64, "seed": 1, "workers": 1}


def _run(zipf_pairs, out, device="cpu", model="cbow", **settings):
    out.mkdir(parents=True, exist_ok=True)
    return train(model, zipf_pairs / f"{model}.parquet", zipf_pairs / "vocab.tsv", {**FAST, **settings},
                 out / "v.vec", out / "h.json", device=device)


def test_the_history_gives_words_per_second_over_all_epochs(zipf_pairs, tmp_path):
    history = _run(zipf_pairs, tmp_path)
    assert 0 < history["train_seconds"] < 60
    assert history["words_per_sec"] == pytest.approx(history["n_tokens"] * 2 / history["train_seconds"])


def test_every_epoch_is_logged_with_its_number(zipf_pairs, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="w2v.training.train"):
        _run(zipf_pairs, tmp_path)
    lines = [r.getMessage() for r in caplog.records if " epoch " in r.getMessage()]
    assert [line.split(":")[0] for line in lines] == ["cbow epoch 1/2", "cbow epoch 2/2"]
    assert all(" words/s, " in line and line.endswith(" s") for line in lines)


def test_auto_trains_on_the_gpu_when_there_is_one(zipf_pairs, tmp_path, fake_cuda, caplog):
    with caplog.at_level(logging.INFO, logger="w2v.training.train"):
        history = _run(zipf_pairs, tmp_path, device="auto")
    assert history["device"] == "cuda:0"
    assert "device auto: training on cuda:0" in caplog.messages


def test_cuda_without_a_gpu_says_every_way_out(zipf_pairs, tmp_path, monkeypatch):
    monkeypatch.setattr(jingu.cuda, "is_available", lambda: False)
    with pytest.raises(UserError) as error:
        _run(zipf_pairs, tmp_path, device="cuda")
    assert str(error.value) == ("train.device is 'cuda' but CuPy finds no usable GPU; set train.device to 'auto' or "
                                "'cpu', or install the gpu extra (pip install -e '.[gpu]')")


def test_an_unknown_gpu_name_is_named(zipf_pairs, tmp_path, fake_cuda):
    with pytest.raises(UserError) as error:
        training.resolve_device("cuda:x")
    assert str(error.value) == "train.device: unknown device 'cuda:x'; use 'cpu', 'cuda' or 'cuda:N'"


def test_pairs_of_another_vocabulary_say_which_rule_to_rerun(zipf_pairs, tmp_path):
    (tmp_path / "tokens.txt").write_text("甲 乙 丙\n乙 丙 丁\n", encoding="utf-8")
    make_vocab(tmp_path / "tokens.txt", tmp_path / "vocab.tsv", min_count=1)
    with pytest.raises(UserError) as error:
        train("cbow", zipf_pairs / "cbow.parquet", tmp_path / "vocab.tsv", FAST, tmp_path / "v.vec", tmp_path / "h.json")
    assert str(error.value) == (f"{zipf_pairs / 'cbow.parquet'} was built from another vocabulary than "
                                f"{tmp_path / 'vocab.tsv'} (sha256 differs); rerun `w2v pairs` (rule pairs)")
    write_pairs(tmp_path / "tokens.txt", training.load_vocab(tmp_path / "vocab.tsv"), tmp_path / "cbow.parquet",
                tmp_path / "skipgram.parquet", window=1, seed=1)  # the right vocabulary now trains
    train("cbow", tmp_path / "cbow.parquet", tmp_path / "vocab.tsv", FAST, tmp_path / "v.vec", tmp_path / "h.json")


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_adagrad_updates_densely_on_a_gpu_only(zipf_pairs, tmp_path, monkeypatch, request, device):
    """On a GPU one dense scatter beats sorting the rows; on the CPU the sparse step touches fewer rows."""
    if device == "cuda":
        request.getfixturevalue("fake_cuda")
    made = keep_prepared(monkeypatch)
    _run(zipf_pairs, tmp_path, device=device, optimizer="adagrad", batch_size=256, alpha=0.05)
    opt = made["prepared"].run.opt
    assert type(opt).__name__ == "RowAdagrad" and opt.dense is (device == "cuda")


def test_a_diverging_run_stops_with_its_hint_and_no_numpy_warning(zipf_pairs, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # overflow in exp or tanh would end the run here
        with pytest.raises(training.TrainingDiverged, match=r"lower train\.alpha"):
            _run(zipf_pairs, tmp_path, alpha=10.0, min_alpha=0.0, epochs=3, vector_size=32)
    assert not (tmp_path / "v.vec").exists()


def test_a_resumed_run_says_from_where_and_after_which_epoch(zipf_pairs, tmp_path, caplog):
    ckpt = tmp_path / "ckpt.npz"
    args = ("cbow", zipf_pairs / "cbow.parquet", zipf_pairs / "vocab.tsv", FAST, tmp_path / "v.vec", tmp_path / "h.json")
    train(*args, checkpoint_path=ckpt, stop_after=1)
    with caplog.at_level(logging.INFO, logger="w2v.training.train"):
        train(*args, checkpoint_path=ckpt)
    assert f"resuming cbow from {ckpt} after epoch 1 of 2" in caplog.messages
    assert not ckpt.exists()  # a finished run removes its checkpoint
