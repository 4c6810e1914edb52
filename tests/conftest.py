"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (holds Snakefile, config/, data/, workflow/)."""
    return REPO


@pytest.fixture(scope="session")
def test_data() -> Path:
    """tests/data: tiny corpora and other fixtures."""
    return TEST_DATA


@pytest.fixture(scope="session")
def zipf_pairs(tmp_path_factory) -> Path:
    """A folder with a synthetic Zipf-like corpus (600 sentences over 40 words), its vocab.tsv,
    chars.tsv and both pairs files (window 3, seed 1, row groups of 500): small enough to train in milliseconds."""
    import numpy as np  # noqa: PLC0415

    from w2v.data.chars import char_table, write_char_table  # noqa: PLC0415
    from w2v.data.pairs import write_pairs  # noqa: PLC0415
    from w2v.data.vocab import load_vocab, make_vocab  # noqa: PLC0415

    root = tmp_path_factory.mktemp("zipf_pairs")
    rng = np.random.default_rng(0)
    words = [f"词{i}" for i in range(40)]
    p = 1 / np.arange(1, 41)
    lines = [" ".join(rng.choice(words, size=rng.integers(1, 12), p=p / p.sum())) for _ in range(600)]
    (root / "tokens.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    make_vocab(root / "tokens.txt", root / "vocab.tsv", min_count=1)
    write_char_table(char_table(load_vocab(root / "vocab.tsv")), root / "chars.tsv")
    write_pairs(root / "tokens.txt", load_vocab(root / "vocab.tsv"), root / "cbow.parquet",
                root / "skipgram.parquet", window=3, seed=1, row_group_size=500)
    return root


@pytest.fixture
def fake_gpu(monkeypatch):
    """jingu's CuPy paths on a fake CuPy (tests/jingu/fake_cupy.py) that counts kernel launches and
    host syncs: (the fake module, its counters)."""
    import sys  # noqa: PLC0415

    sys.path.insert(0, str(Path(__file__).parent / "jingu"))
    import fake_cupy  # noqa: PLC0415

    return fake_cupy, fake_cupy.install(monkeypatch)


class _FakeDevice:
    """cupy.cuda.Device stand-in usable as a context manager."""

    def __init__(self, *args):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def synchronize(self):
        pass


@pytest.fixture
def fake_cuda(fake_gpu, monkeypatch):
    """The fake CuPy as one visible GPU, so that `train.device: cuda` trains through the device
    pipeline end to end on the CPU: (the fake module, its counters)."""
    import sys  # noqa: PLC0415
    import types  # noqa: PLC0415

    cupy = sys.modules["cupy"]
    monkeypatch.setattr(cupy, "cuda", types.SimpleNamespace(
        Device=_FakeDevice, runtime=types.SimpleNamespace(getDeviceCount=lambda: 1), compiler=cupy.cuda.compiler))
    return fake_gpu
