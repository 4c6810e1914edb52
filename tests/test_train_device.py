"""`train.device`: 'cuda' on a machine where CuPy finds no GPU is a user error (no traceback, no
output), 'auto' falls back to the CPU. The GPU is hidden by patching `jingu.cuda.is_available`, so
these run the same on machines with and without one."""

from __future__ import annotations

import json

import pytest

import jingu
from w2v.cli import main
from w2v.errors import UserError
from helpers import train_files as train

FAST = {"vector_size": 8, "epochs": 1, "batch_size": 64, "seed": 1}


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jingu.cuda, "is_available", lambda: False)


def _args(zipf_pairs, out) -> tuple:
    return ("cbow", zipf_pairs / "cbow.parquet", zipf_pairs / "vocab.tsv", FAST, out / "v.vec", out / "h.json")


@pytest.mark.parametrize("device", ["cuda"])
def test_cuda_without_a_gpu_is_a_user_error_and_writes_nothing(zipf_pairs, tmp_path, no_gpu, device):
    with pytest.raises(UserError, match=rf"train\.device is '{device}' but CuPy finds no usable GPU.*'auto' or 'cpu'"):
        train(*_args(zipf_pairs, tmp_path), checkpoint_path=tmp_path / "ckpt.npz", device=device)
    assert list(tmp_path.iterdir()) == []


def test_auto_without_a_gpu_trains_on_the_cpu(zipf_pairs, tmp_path, no_gpu):
    history = train(*_args(zipf_pairs, tmp_path), device="auto")
    assert history["device"] == "cpu" and (tmp_path / "v.vec").exists()


@pytest.mark.parametrize("how", ["flag", "settings"])
def test_cli_cuda_without_a_gpu_is_one_line_exit_2(zipf_pairs, tmp_path, no_gpu, capsys, how):
    settings = {**FAST, "device": "cuda"} if how == "settings" else FAST
    argv = ["train", "--model", "skipgram", "--pairs", str(zipf_pairs / "skipgram.parquet"),
            "--vocab", str(zipf_pairs / "vocab.tsv"), "--settings", json.dumps(settings),
            "--out-vec", str(tmp_path / "v.vec"), "--out-history", str(tmp_path / "h.json")]
    if how == "flag":
        argv += ["--device", "cuda"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: train.device is 'cuda'") and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
