"""Training end to end through the Python API: learning, outputs, resume, guards, determinism."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from w2v.errors import UserError
from w2v.data.pairs import write_pairs
from w2v.config import check_train_settings as full_settings
from w2v.training.train import TrainingDiverged, write_vectors
from helpers import train_files as train
from w2v.vectors import KeyedVectors
from w2v.data.vocab import load_vocab, make_vocab

TOPICS = {
    "a": [f"甲{i}" for i in range(8)],
    "b": [f"乙{i}" for i in range(8)],
    "c": [f"丙{i}" for i in range(8)],
}
# 猫 and 狗 only ever appear among topic-a words; 鱼 among b; 鸟 among c.
SPECIAL = {"猫": "a", "狗": "a", "鱼": "b", "鸟": "c"}

# One worker: the determinism and resume tests compare vectors bit for bit.
FAST = {"vector_size": 16, "epochs": 4, "sample": 0.0, "batch_size": 64, "alpha": 0.05, "seed": 3, "workers": 1}


def synthetic_corpus(path: Path, sentences: int = 1500, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    specials = list(SPECIAL)
    lines = []
    for _ in range(sentences):
        word = specials[rng.integers(len(specials))]
        ctx = list(rng.choice(TOPICS[SPECIAL[word]], size=6))
        lines.append(" ".join(ctx[:3] + [word] + ctx[3:]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    """tokens.txt, vocab.tsv and both pairs files of the synthetic corpus."""
    root = tmp_path_factory.mktemp("train_corpus")
    tokens = synthetic_corpus(root / "tokens.txt")
    make_vocab(tokens, root / "vocab.tsv", min_count=1)
    write_pairs(tokens, load_vocab(root / "vocab.tsv"), root / "cbow.parquet", root / "skipgram.parquet",
                window=3, seed=1, row_group_size=1000)
    return {"root": root, "vocab": root / "vocab.tsv", "cbow": root / "cbow.parquet",
            "skipgram": root / "skipgram.parquet"}


def run(corpus, out: Path, model: str = "cbow", **settings) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    return train(model, corpus[model], corpus["vocab"], {**FAST, **settings}, out / "v.vec", out / "h.json",
                 checkpoint_path=settings.pop("_ckpt", None), device="cpu")


@pytest.mark.parametrize("model", ["cbow", "skipgram"])
def test_words_sharing_contexts_become_nearest_neighbours(corpus, tmp_path, model):
    run(corpus, tmp_path, model)
    kv = KeyedVectors.load_word2vec_format(tmp_path / "v.vec")
    assert kv.most_similar("猫", topn=1)[0][0] == "狗"
    assert kv.most_similar("狗", topn=1)[0][0] == "猫"
    assert kv.similarity("猫", "狗") > kv.similarity("猫", "鱼") + 0.2


def test_softmax_loss_learns_too(corpus, tmp_path):
    run(corpus, tmp_path, "cbow", loss="softmax", alpha=0.05, epochs=6)
    kv = KeyedVectors.load_word2vec_format(tmp_path / "v.vec")
    assert kv.most_similar("猫", topn=1)[0][0] == "狗"


def test_shared_negatives_and_exact_mean_learn(corpus, tmp_path):
    run(corpus, tmp_path, "cbow", shared_negatives=16, cbow_gradient="exact", alpha=0.1)
    kv = KeyedVectors.load_word2vec_format(tmp_path / "v.vec")
    assert kv.most_similar("猫", topn=1)[0][0] == "狗"


def test_history_follows_the_contract(corpus, tmp_path):
    history = run(corpus, tmp_path, "skipgram")
    on_disk = json.loads((tmp_path / "h.json").read_text(encoding="utf-8"))
    assert on_disk == json.loads(json.dumps(history))
    assert on_disk["model"] == "skipgram" and on_disk["device"] == "cpu"
    assert on_disk["config"]["window"] == 3 and on_disk["config"]["seed"] == 3
    assert on_disk["vocab_size"] == len(load_vocab(corpus["vocab"]))
    assert on_disk["n_tokens"] == 1500 * 7
    assert [e["epoch"] for e in on_disk["epochs"]] == [1, 2, 3, 4]
    for key in ("loss", "alpha", "words_per_sec", "seconds"):
        assert all(isinstance(e[key], float) for e in on_disk["epochs"])
    alphas = [e["alpha"] for e in on_disk["epochs"]]
    assert alphas == sorted(alphas, reverse=True) and alphas[0] < 0.05
    assert on_disk["epochs"][-1]["loss"] < on_disk["epochs"][0]["loss"]
    assert on_disk["final_loss"] == on_disk["epochs"][-1]["loss"]
    assert on_disk["train_seconds"] == pytest.approx(sum(e["seconds"] for e in on_disk["epochs"]))


def test_vec_loads_in_gensim_with_right_shape_and_values(corpus, tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    run(corpus, tmp_path, "cbow", epochs=1)
    vocab = load_vocab(corpus["vocab"])
    kv = gensim_models.KeyedVectors.load_word2vec_format(str(tmp_path / "v.vec"))
    assert kv.vectors.shape == (len(vocab) - 1, 16)
    assert kv.index_to_key == vocab.tokens[1:]  # padding excluded, vocabulary order kept
    # Values survive the text round trip bit for bit.
    vectors = np.random.default_rng(0).normal(size=(len(vocab), 16)).astype(np.float32)
    write_vectors(tmp_path / "w.vec", vocab.tokens, vectors)
    again = gensim_models.KeyedVectors.load_word2vec_format(str(tmp_path / "w.vec"))
    np.testing.assert_array_equal(again.vectors, vectors[1:])


def test_same_seed_same_vectors_other_seed_other_vectors(corpus, tmp_path):
    run(corpus, tmp_path / "a", "skipgram", epochs=2)
    run(corpus, tmp_path / "b", "skipgram", epochs=2)
    run(corpus, tmp_path / "c", "skipgram", epochs=2, seed=4)
    a, b, c = ((tmp_path / x / "v.vec").read_bytes() for x in "abc")
    assert a == b
    assert a != c


@pytest.mark.parametrize("model", ["cbow", "skipgram"])
def test_resume_gives_the_uninterrupted_vectors(corpus, tmp_path, model):
    run(corpus, tmp_path / "full", model)
    ckpt = tmp_path / "part" / "ckpt.npz"
    out = tmp_path / "part"
    out.mkdir()
    args = (model, corpus[model], corpus["vocab"], FAST, out / "v.vec", out / "h.json")
    first = train(*args, checkpoint_path=ckpt, device="cpu", stop_after=1)
    assert len(first["epochs"]) == 1 and ckpt.exists() and not (out / "v.vec").exists()
    train(*args, checkpoint_path=ckpt, device="cpu", stop_after=2)
    history = train(*args, checkpoint_path=ckpt, device="cpu")
    assert [e["epoch"] for e in history["epochs"]] == [1, 2, 3, 4]
    assert (out / "v.vec").read_bytes() == (tmp_path / "full" / "v.vec").read_bytes()
    assert not ckpt.exists()  # removed once the outputs are written


def test_checkpoint_of_other_settings_is_ignored(corpus, tmp_path):
    ckpt = tmp_path / "ckpt.npz"
    args = ("cbow", corpus["cbow"], corpus["vocab"])
    train(*args, FAST, tmp_path / "x.vec", tmp_path / "x.json", checkpoint_path=ckpt, device="cpu", stop_after=1)
    history = train(*args, {**FAST, "alpha": 0.02}, tmp_path / "v.vec", tmp_path / "h.json",
                    checkpoint_path=ckpt, device="cpu")
    assert len(history["epochs"]) == 4 and history["epochs"][0]["epoch"] == 1
    run(corpus, tmp_path / "ref", "cbow", alpha=0.02)
    assert (tmp_path / "v.vec").read_bytes() == (tmp_path / "ref" / "v.vec").read_bytes()


@pytest.mark.slow
def test_killed_cli_run_resumes_to_the_same_vectors(corpus, tmp_path):
    settings = {**FAST, "epochs": 60}
    run(corpus, tmp_path / "full", "cbow", epochs=60)
    ckpt, vec, hist = tmp_path / "ckpt.npz", tmp_path / "v.vec", tmp_path / "h.json"
    cmd = [sys.executable, "-m", "w2v", "train", "--model", "cbow", "--pairs", str(corpus["cbow"]),
           "--vocab", str(corpus["vocab"]), "--settings", json.dumps(settings), "--device", "cpu",
           "--checkpoint", str(ckpt), "--out-vec", str(vec), "--out-history", str(hist)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert ckpt.exists() and not vec.exists() and not hist.exists()
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "resuming cbow" in done.stderr
    assert vec.read_bytes() == (tmp_path / "full" / "v.vec").read_bytes()


def test_nan_guard_names_the_epoch_and_writes_nothing(corpus, tmp_path):
    with pytest.raises(TrainingDiverged, match=r"epoch 1.*lower train\.alpha"):
        run(corpus, tmp_path, "cbow", alpha=10, min_alpha=0.0)  # the schema's largest alpha
    assert not (tmp_path / "v.vec").exists() and not (tmp_path / "h.json").exists()


def test_cli_reports_divergence_without_traceback(corpus, tmp_path):
    cmd = [sys.executable, "-m", "w2v", "train", "--model", "skipgram", "--pairs", str(corpus["skipgram"]),
           "--vocab", str(corpus["vocab"]), "--settings", json.dumps({**FAST, "alpha": 10}),
           "--device", "cpu", "--out-vec", str(tmp_path / "v.vec"), "--out-history", str(tmp_path / "h.json")]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    assert done.returncode == 2
    assert "error: training diverged in epoch 1" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "v.vec").exists()


def test_bad_inputs_are_user_errors(corpus, tmp_path):
    with pytest.raises(UserError, match="needs cbow-pairs-1"):
        train("cbow", corpus["skipgram"], corpus["vocab"], FAST, tmp_path / "v", tmp_path / "h", device="cpu")
    other = tmp_path / "vocab.tsv"
    lines = corpus["vocab"].read_text(encoding="utf-8").splitlines()
    lines[-1] = lines[-1].rsplit("\t", 1)[0] + "\t1"  # a valid vocabulary, but another one
    other.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(UserError, match="another vocabulary"):
        train("cbow", corpus["cbow"], other, FAST, tmp_path / "v", tmp_path / "h", device="cpu")
    with pytest.raises(UserError, match="unknown train setting"):
        full_settings({"learning_rate": 0.1})
    with pytest.raises(UserError, match="min_alpha"):
        full_settings({"alpha": 0.01, "min_alpha": 0.1})
    with pytest.raises(UserError, match="does not exist"):
        train("cbow", tmp_path / "none.parquet", corpus["vocab"], FAST, tmp_path / "v", tmp_path / "h")


def test_cli_rejects_bad_settings_json(corpus, tmp_path):
    cmd = [sys.executable, "-m", "w2v", "train", "--model", "cbow", "--pairs", str(corpus["cbow"]),
           "--vocab", str(corpus["vocab"]), "--settings", "{epochs: 2}",
           "--out-vec", str(tmp_path / "v.vec"), "--out-history", str(tmp_path / "h.json")]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 2 and "--settings is not valid JSON" in done.stderr


@pytest.mark.gpu
@pytest.mark.skipif(not __import__("jingu").cuda.is_available(), reason="CuPy finds no GPU")
@pytest.mark.parametrize("model", ["cbow", "skipgram"])
def test_cuda_training_learns_and_resumes(corpus, tmp_path, model, monkeypatch):
    args = (model, corpus[model], corpus["vocab"], FAST)
    ckpt = tmp_path / "ckpt.npz"
    train(*args, tmp_path / "v.vec", tmp_path / "h.json", checkpoint_path=ckpt, device="cuda", stop_after=2)
    history = train(*args, tmp_path / "v.vec", tmp_path / "h.json", checkpoint_path=ckpt, device="cuda")
    assert history["device"] == "cuda:0" and len(history["epochs"]) == 4
    kv = KeyedVectors.load_word2vec_format(tmp_path / "v.vec")
    assert kv.most_similar("猫", topn=1)[0][0] == "狗"
    # Masks and negatives are counter-based (the same ids on both devices); the GPU shuffles by
    # sorting random keys, which the CPU reproduces with argsort_permutation. Same draws: nearly the same
    # vectors, up to float32 summation order.
    from w2v.training import sampling

    monkeypatch.setattr(sampling, "permutation", sampling.argsort_permutation)
    run(corpus, tmp_path / "cpu", model)
    a, b = kv.vectors.ravel(), KeyedVectors.load_word2vec_format(tmp_path / "cpu" / "v.vec").vectors.ravel()
    assert float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) > 0.99


def test_row_adagrad_matches_its_formula():
    from w2v.training.optim import RowAdagrad

    import jingu

    w0 = np.arange(12, dtype=np.float64).reshape(4, 3) / 10
    w = jingu.Tensor(w0.copy(), requires_grad=True)
    opt = RowAdagrad([w], lr=0.5)
    g1 = np.array([[1.0, 2.0, 2.0], [0.5, 0.5, 0.5]])
    w.grad = jingu.RowSparse(np.array([3, 1]), g1, (4, 3), coalesced=True)
    opt.step()
    acc = np.zeros(4)
    acc[[3, 1]] = (g1**2).mean(1)
    expected = w0.copy()
    expected[[3, 1]] -= 0.5 / np.sqrt(acc[[3, 1]] + 1e-8)[:, None] * g1
    np.testing.assert_allclose(w.numpy(), expected)
    dense = np.ones((4, 3))
    w.grad = jingu.Tensor(dense)
    opt.step()
    acc += 1.0
    expected -= 0.5 / np.sqrt(acc + 1e-8)[:, None] * dense
    np.testing.assert_allclose(w.numpy(), expected)
    assert np.all(w.numpy()[[0, 2]] != w0[[0, 2]])


def test_adagrad_large_batches_learn_and_resume(corpus, tmp_path):
    big = {"optimizer": "adagrad", "batch_size": 1024, "alpha": 0.1, "epochs": 8}
    run(corpus, tmp_path / "full", "cbow", **big)
    kv = KeyedVectors.load_word2vec_format(tmp_path / "full" / "v.vec")
    assert kv.most_similar("猫", topn=1)[0][0] == "狗"
    ckpt, out = tmp_path / "ckpt.npz", tmp_path / "part"
    out.mkdir()
    args = ("cbow", corpus["cbow"], corpus["vocab"], {**FAST, **big}, out / "v.vec", out / "h.json")
    train(*args, checkpoint_path=ckpt, device="cpu", stop_after=2)
    train(*args, checkpoint_path=ckpt, device="cpu")
    assert (out / "v.vec").read_bytes() == (tmp_path / "full" / "v.vec").read_bytes()


@pytest.mark.parametrize("model", ["cbow", "skipgram"])
def test_two_workers_learn_the_whole_epoch_on_a_global_schedule(corpus, tmp_path, model):
    one = run(corpus, tmp_path / "one", model)
    two = run(corpus, tmp_path / "two", model, workers=2)
    kv = KeyedVectors.load_word2vec_format(tmp_path / "two" / "v.vec")
    assert kv.most_similar("猫", topn=1)[0][0] == "狗"
    assert kv.similarity("猫", "狗") > kv.similarity("猫", "鱼") + 0.2
    for a, b in zip(one["epochs"], two["epochs"]):  # both workers' parts count (windows differ by seed)
        assert abs(a["examples"] - b["examples"]) < 0.05 * a["examples"]
    # The rate decays over the progress of both workers: it ends at min_alpha, not halfway.
    assert two["epochs"][-1]["alpha"] < 2 * 1e-4
    assert two["epochs"][1]["alpha"] == pytest.approx(FAST["alpha"] / 2, rel=0.05)
    assert not multiprocessing.active_children()


def test_two_workers_resume_from_the_epoch_checkpoint(corpus, tmp_path):
    ckpt, out = tmp_path / "ckpt.npz", tmp_path / "out"
    out.mkdir()
    args = ("cbow", corpus["cbow"], corpus["vocab"], {**FAST, "workers": 2}, out / "v.vec", out / "h.json")
    first = train(*args, checkpoint_path=ckpt, device="cpu", stop_after=2)
    assert len(first["epochs"]) == 2 and ckpt.exists() and not (out / "v.vec").exists()
    history = train(*args, checkpoint_path=ckpt, device="cpu")
    assert [e["epoch"] for e in history["epochs"]] == [1, 2, 3, 4]
    kv = KeyedVectors.load_word2vec_format(out / "v.vec")
    assert kv.most_similar("猫", topn=1)[0][0] == "狗"
    assert not ckpt.exists()


def test_an_optimizer_with_lazy_state_trains_alone_but_not_with_two_workers(corpus, tmp_path, monkeypatch):
    # Its state, made at the first step, would stay private to each worker: refused before any fork.
    import jingu
    from w2v.training import train as train_module

    class LazyCountingSGD(jingu.optim.Optimizer):
        def __init__(self, params, lr):
            super().__init__(params, {"lr": lr})

        def step(self):
            for group in self.param_groups:
                for p, g in self._grads(group):
                    self.state.setdefault(p, {}).setdefault("steps", np.zeros(1))[0] += 1
                    if isinstance(g, jingu.RowSparse):
                        g.add_to(p.data, -group["lr"])
                    else:
                        p.data -= group["lr"] * g

    monkeypatch.setattr(train_module, "make_optimizer", lambda name, params, lr, **kwargs: LazyCountingSGD(params, lr=lr))
    run(corpus, tmp_path / "one", "cbow", epochs=1)
    assert (tmp_path / "one" / "v.vec").exists()
    with pytest.raises(TypeError, match="train.workers > 1 shares .*LazyCountingSGD makes its state lazily"):
        run(corpus, tmp_path / "two", "cbow", workers=2, epochs=1)
    assert not (tmp_path / "two" / "v.vec").exists()
    assert not multiprocessing.active_children()


def test_two_workers_stop_on_divergence_and_write_nothing(corpus, tmp_path):
    with pytest.raises(TrainingDiverged, match=r"epoch 1"):
        run(corpus, tmp_path, "cbow", workers=2, alpha=10.0, min_alpha=0.0)
    assert not (tmp_path / "v.vec").exists()
    assert not multiprocessing.active_children()


def test_row_adagrad_dense_updates_match_the_sparse_ones():
    """The device pipeline's choice (scatter the gradient into a dense array) steps as coalescing does."""
    from w2v.training.optim import RowAdagrad

    import jingu

    w0 = np.random.default_rng(3).normal(size=(6, 4))
    tables = [jingu.Tensor(w0.copy(), requires_grad=True) for _ in range(2)]
    opts = [RowAdagrad([tables[0]], lr=0.3), RowAdagrad([tables[1]], lr=0.3, dense=True)]
    rows, values = np.array([4, 1, 4]), np.random.default_rng(4).normal(size=(3, 4))  # row 4 twice
    for _ in range(3):
        for table, opt in zip(tables, opts):
            table.grad = jingu.RowSparse(rows, values, (6, 4))
            opt.step()
    np.testing.assert_allclose(tables[1].numpy(), tables[0].numpy(), rtol=1e-12)
    assert np.all(tables[0].numpy()[[0, 2, 3, 5]] == w0[[0, 2, 3, 5]])
