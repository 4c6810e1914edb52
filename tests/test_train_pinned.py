"""Pinned vectors: training with one worker gives the vectors recorded in tests/data/pinned/.

Written before the character-aware models and the training redesign, so that a change to the
training code that alters what word-only training computes (draw order, schedule, update rule,
initialisation) fails here. The reference files hold the vectors of a small synthetic corpus; they
are compared with a tolerance far below what any such change moves (a change of BLAS summation
order moves float32 results by about 1e-7, a changed draw or step by far more than 1e-4).

The same cases are pinned on the device path too, run on the fake CuPy of tests/jingu/fake_cupy.py
(`*.fake-cuda.vec`): it differs from the host path in batch order and kernel choice, so it has
references of its own. Cases with characters (`chars: cwe`) pin the composed vectors. Recorded on
main at 9ad7c36, before the training redesign (issue 22).

To re-record after an intended change of behaviour: `W2V_REPIN=1 python -m pytest tests/test_train_pinned.py`
and say why in the commit.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from w2v.data.chars import char_table, write_char_table
from w2v.data.pairs import write_pairs
from helpers import train_files as train
from w2v.vectors import KeyedVectors
from w2v.data.vocab import load_vocab, make_vocab

PINNED = Path(__file__).parent / "data" / "pinned"

# The shipped choices that shape the computation: grouped negatives for both, large Adagrad batches
# for skip-gram; subsampling on, so the per-epoch keep draws are pinned too.
BASE = {"vector_size": 12, "epochs": 3, "sample": 1e-2, "batch_size": 64, "negative_group": 8, "seed": 5,
        "workers": 1, "shuffle_buffer": 500}
CASES = {
    "cbow": ("cbow", {}),
    "skipgram": ("skipgram", {"optimizer": "adagrad", "alpha": 0.25, "batch_size": 256}),
    "cbow-softmax": ("cbow", {"loss": "softmax", "cbow_gradient": "exact"}),
    "skipgram-shared": ("skipgram", {"shared_negatives": 8, "negative_group": 1}),
    "cbow-cwe": ("cbow", {"chars": "cwe", "min_char_count": 2, "optimizer": "adagrad", "alpha": 0.25}),
    "skipgram-cwe": ("skipgram", {"chars": "cwe", "min_char_count": 2}),
}
DEVICES = {"cpu": "", "fake-cuda": ".fake-cuda"}


def _corpus(root: Path) -> Path:
    """Sentences of words whose characters repeat across words (孙悟空 / 孙行者 share 孙)."""
    rng = np.random.default_rng(11)
    words = ["孙悟空", "孙行者", "猪八戒", "猪悟能", "沙僧", "唐僧", "师父", "妖精", "山", "水", "天天", "老师们",
             "说", "道", "行者", "八戒", "大圣", "菩萨", "观音", "如来"]
    weights = np.linspace(3.0, 1.0, len(words))
    weights /= weights.sum()
    lines = [" ".join(rng.choice(words, size=int(rng.integers(3, 12)), p=weights)) for _ in range(400)]
    path = root / "tokens.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("pinned")
    tokens = _corpus(root)
    make_vocab(tokens, root / "vocab.tsv", min_count=1)
    write_char_table(char_table(load_vocab(root / "vocab.tsv")), root / "chars.tsv")
    write_pairs(tokens, load_vocab(root / "vocab.tsv"), root / "cbow.parquet", root / "skipgram.parquet",
                window=3, seed=2, row_group_size=700)
    return {"vocab": root / "vocab.tsv", "cbow": root / "cbow.parquet", "skipgram": root / "skipgram.parquet"}


@pytest.fixture
def device(request) -> str:
    """"cpu", or "cuda" on the fake CuPy (a NumPy stand-in that runs jingu's device code)."""
    if request.param == "cpu":
        return "cpu"
    request.getfixturevalue("fake_cuda")
    return "cuda"


@pytest.mark.parametrize("device", sorted(DEVICES), indirect=True)
@pytest.mark.parametrize("case", sorted(CASES))
def test_one_worker_training_gives_the_pinned_vectors(corpus, tmp_path, case, device):
    model, overrides = CASES[case]
    history = train(model, corpus[model], corpus["vocab"], {**BASE, **overrides}, tmp_path / "v.vec",
                    tmp_path / "h.json", device=device)
    got = KeyedVectors.load_word2vec_format(tmp_path / "v.vec")
    reference = PINNED / f"{case}{DEVICES['cpu' if device == 'cpu' else 'fake-cuda']}.vec"
    if os.environ.get("W2V_REPIN"):
        reference.parent.mkdir(parents=True, exist_ok=True)
        reference.write_bytes((tmp_path / "v.vec").read_bytes())
    want = KeyedVectors.load_word2vec_format(reference)
    assert got.index_to_key == want.index_to_key
    np.testing.assert_allclose(got.vectors, want.vectors, rtol=0, atol=1e-5)
    assert len(history["epochs"]) == BASE["epochs"]
    if "cwe" in case:  # the characters' own vectors are pinned by the composed ones (each word mixes its row in)
        assert history["config"]["chars"] == "cwe"
