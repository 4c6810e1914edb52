"""examples/cbow.py and examples/skipgram.py, the PyTorch-style way in to jingu: one epoch on the
default novel's first chapter lowers each model's loss over the whole chapter, on the CPU and, where
CuPy sees one, on a GPU; the scripts run from the command line and refuse bad flags in one line."""

from __future__ import annotations

import importlib.util
import math
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import jingu

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param(
        "cuda",
        id="cuda",
        marks=[pytest.mark.gpu, pytest.mark.skipif(not jingu.cuda.is_available(), reason="CuPy finds no GPU")],
    ),
]


def _example(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import examples/<name>.py as the script sees it (examples/ first on sys.path, for `common`)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["cbow", "skipgram"])
def test_one_epoch_lowers_the_loss(name: str, device: str, monkeypatch: pytest.MonkeyPatch) -> None:
    example = _example(name, monkeypatch)
    before, after = example.main(epochs=1, device=device)
    vocab_size = len(example.load_chapter(example.NOVEL, example.MIN_COUNT)[1])  # 463 words
    assert abs(before - math.log(vocab_size)) < 0.3, before  # untrained, it guesses about uniformly
    # one epoch takes 0.45 (CBOW) and 1.1 (skip-gram) off it; a step of 0 or a wrong gradient would not
    assert after < before - 0.3, (before, after)


def test_same_seed_same_losses_on_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    cbow = _example("cbow", monkeypatch)
    assert cbow.main(epochs=1, device="cpu") == cbow.main(epochs=1, device="cpu")


def _script(name: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), *flags], capture_output=True, text=True, timeout=120
    )


def test_the_script_runs_from_the_command_line(test_data: Path) -> None:
    run = _script("skipgram", "--epochs", "1", "--device", "cpu", "--corpus", str(test_data / "tiny_corpus.txt"))
    assert run.returncode == 0, run.stderr
    before = re.fullmatch(r"\d+ examples on cpu; loss before training (\d+\.\d+)", run.stdout.splitlines()[1])
    after = re.fullmatch(r"epoch 1/1: loss (\d+\.\d+)", run.stdout.splitlines()[-1])
    assert before and after and float(after[1]) < float(before[1]), run.stdout


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--device", "tpu"], "argument --device: unknown device 'tpu'; use 'cpu', 'cuda' or 'cuda:N'"),
        (["--epochs", "0"], "--epochs must be at least 1, got 0"),
        (["--corpus", "no/such.txt"], "--corpus no/such.txt: no such file"),
    ],
)
def test_bad_flags_exit_2_with_one_line(flags: list[str], message: str) -> None:
    run = _script("cbow", *flags)
    assert run.returncode == 2 and run.stderr.strip().splitlines()[-1].endswith(message), run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""


@pytest.mark.skipif(jingu.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_a_gpu_says_what_to_do_in_one_line() -> None:
    run = _script("cbow", "--device", "cuda")
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("cbow.py: error: argument --device: device 'cuda:0' was asked for but CuPy")
    assert "'cpu'" in last


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"hello world\nhello world\n", "no Chinese word appears 2 times in its first chapter"),
     ("西游记".encode("gb18030"), "not UTF-8 text (byte 0)")],
)
def test_an_unusable_corpus_exits_2_with_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "novel.txt").write_bytes(content)
    run = _script("skipgram", "--corpus", str(tmp_path / "novel.txt"), "--device", "cpu")
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert message in run.stderr.strip().splitlines()[-1]
