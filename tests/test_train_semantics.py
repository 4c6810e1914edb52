"""What `train(...)` actually feeds the model, recorded by spies on the loop: each epoch's examples
(that epoch's subsampling and shrinking windows, written out from their definitions here), each
epoch's shuffle and negatives, the learning rate of every step, and every setting reaching the
vectors. The helpers have their own tests (test_train_sampling.py); these check the loop uses them."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import w2v.training.train as train_mod
import w2v.training.loop as loop_mod
from w2v.data.pairs import read_pairs_metadata, write_pairs
from helpers import train_files as train
from w2v.training import sampling
from w2v.data.vocab import load_vocab

# sample 1e-2 subsamples the frequent half of the Zipf vocabulary (keep probability down to ~0.25).
BASE = {"vector_size": 8, "epochs": 3, "batch_size": 64, "sample": 1e-2, "alpha": 0.05, "min_alpha": 0.002,
        "negative": 4, "workers": 1, "shuffle_buffer": 700, "seed": 5}


class Recorder:
    """Spies on `train`: the batches of every `epoch_batches` call (one call per epoch, in order) and
    the learning rate of every optimizer step."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.epochs: list[list[tuple]] = []
        self.lrs: list[float] = []
        real_batches, real_optimizer = loop_mod.epoch_batches, train_mod.make_optimizer

        def batches(*args, **kwargs):
            record: list[tuple] = []
            self.epochs.append(record)
            for batch in real_batches(*args, **kwargs):
                negs = None if batch.negatives is None else np.array(batch.negatives)
                record.append((np.array(batch.center), np.array(batch.context), batch.progress, negs))
                yield batch

        def optimizer(name, params, lr, **kwargs):
            opt = real_optimizer(name, params, lr, **kwargs)
            step = opt.step

            def spied_step():
                self.lrs.append(opt.param_groups[0]["lr"])
                return step()

            opt.step = spied_step
            return opt

        monkeypatch.setattr(loop_mod, "epoch_batches", batches)
        monkeypatch.setattr(train_mod, "make_optimizer", optimizer)

    def examples(self, epoch: int) -> Counter:
        """The (center, context) examples the loop trained on in `epoch`."""
        return Counter(_key(c, x) for center, context, _, _ in self.epochs[epoch] for c, x in zip(center, context))

    def sequence(self, epoch: int) -> list:
        return [_key(c, x) for center, context, _, _ in self.epochs[epoch] for c, x in zip(center, context)]

    def negatives(self, epoch: int) -> np.ndarray:
        return np.concatenate([negs.reshape(-1) for *_, negs in self.epochs[epoch]])


def _key(center, context) -> tuple:
    return int(center), (tuple(context.tolist()) if np.ndim(context) else int(context))


def run(root: Path, model: str, out: Path, pairs: Path | None = None, **settings) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    return train(model, pairs or root / f"{model}.parquet", root / "vocab.tsv", {**BASE, **settings},
                 out / "v.vec", out / "h.json", device="cpu")


def expected_examples(model: str, pairs: Path, counts: np.ndarray, sample: float, seed: int, epoch: int) -> Counter:
    """The examples word2vec keeps in `epoch`, from the definitions: the occurrence at position p of
    word w survives subsampling when u_keep(p) < keep_prob[w] (gensim's formula); a context at
    offset o is inside the window of a center at p when |o| <= 1 + floor(u_window(p) * window); u_*
    are the counter-based uniforms of (seed, epoch). A CBOW row keeps its surviving context slots
    (0 elsewhere) and needs its center and at least one slot."""
    table = pq.read_table(pairs)
    window = read_pairs_metadata(pairs)["window"]
    keep_prob = sampling.keep_probabilities(counts, sample)
    pos, center = table["position"].to_numpy(), table["center"].to_numpy()

    def u(positions, stream):
        return sampling.uniform(positions, sampling.stream_key(seed, epoch, stream))

    b = np.floor(u(pos, sampling.STREAM_WINDOW) * window).astype(np.int64) + 1
    center_kept = u(pos, sampling.STREAM_KEEP) < keep_prob[center]
    if model == "skipgram":
        ctx, off = table["context"].to_numpy(), table["offset"].to_numpy().astype(np.int64)
        ok = center_kept & (np.abs(off) <= b) & (u(pos + off, sampling.STREAM_KEEP) < keep_prob[ctx])
        return Counter(zip(center[ok].tolist(), ctx[ok].tolist()))
    ctx = table["context"].combine_chunks().flatten().to_numpy().reshape(len(table), 2 * window)
    offs = np.r_[-window:0, 1 : window + 1]
    slot = (ctx != 0) & (np.abs(offs) <= b[:, None])
    slot &= u(pos[:, None] + offs, sampling.STREAM_KEEP) < keep_prob[ctx]
    ok = center_kept & slot.any(axis=1)
    return Counter(zip(center[ok].tolist(), map(tuple, np.where(slot, ctx, 0)[ok].tolist())))


@pytest.fixture(scope="module")
def window_one(zipf_pairs, tmp_path_factory) -> Path:
    """Pairs of the Zipf corpus with window 1: every pair is inside every shrunk window, so without
    subsampling each epoch trains on the same examples and only the shuffle and negatives differ."""
    root = tmp_path_factory.mktemp("window_one")
    shutil.copy(zipf_pairs / "vocab.tsv", root / "vocab.tsv")
    write_pairs(zipf_pairs / "tokens.txt", load_vocab(zipf_pairs / "vocab.tsv"), root / "cbow.parquet",
                root / "skipgram.parquet", window=1, seed=1, row_group_size=500)
    return root


@pytest.mark.parametrize("model", ["cbow", "skipgram"])
def test_each_epoch_trains_on_that_epochs_subsampled_windowed_examples(zipf_pairs, tmp_path, monkeypatch, model):
    spy = Recorder(monkeypatch)
    run(zipf_pairs, model, tmp_path)
    counts = load_vocab(zipf_pairs / "vocab.tsv").counts
    pairs = zipf_pairs / f"{model}.parquet"
    expected = [expected_examples(model, pairs, counts, BASE["sample"], BASE["seed"], e) for e in range(3)]
    unsampled = expected_examples(model, pairs, counts, 0.0, BASE["seed"], 0)
    # The check can fail: subsampling drops many examples, and each epoch keeps other ones.
    assert sum(expected[0].values()) < 0.7 * sum(unsampled.values())
    assert expected[0] != expected[1] != expected[2]
    assert len(spy.epochs) == 3
    for epoch in range(3):
        assert spy.examples(epoch) == expected[epoch], f"epoch {epoch}"


@pytest.mark.parametrize("model", ["cbow", "skipgram"])
def test_each_epoch_has_its_own_shuffle_and_negatives(window_one, tmp_path, monkeypatch, model):
    spy = Recorder(monkeypatch)
    run(window_one, model, tmp_path, sample=0.0)
    in_file_order = sorted(spy.sequence(0))
    for a, b in ((0, 1), (1, 2), (0, 2)):
        assert spy.examples(a) == spy.examples(b)  # window 1, no subsampling: the same examples
        assert spy.sequence(a) != spy.sequence(b), f"epochs {a} and {b} are shuffled alike"
        negs_a, negs_b = spy.negatives(a), spy.negatives(b)
        assert negs_a.shape == negs_b.shape
        assert np.mean(negs_a == negs_b) < 0.3, f"epochs {a} and {b} draw the same negatives"
    assert spy.sequence(0) != in_file_order


@pytest.mark.parametrize("ns_exponent", [0.75, 0.0, 1.0])
def test_negatives_follow_the_unigram_distribution_to_ns_exponent(zipf_pairs, tmp_path, monkeypatch, ns_exponent):
    spy = Recorder(monkeypatch)
    run(zipf_pairs, "skipgram", tmp_path, ns_exponent=ns_exponent, negative=8)
    counts = load_vocab(zipf_pairs / "vocab.tsv").counts.astype(np.float64)
    draws = np.concatenate([spy.negatives(e) for e in range(3)])
    assert draws.size > 100_000 and draws.min() >= 1  # padding is never a negative
    freq = np.bincount(draws, minlength=len(counts))[1:] / draws.size
    weights = counts[1:] ** ns_exponent
    np.testing.assert_allclose(freq, weights / weights.sum(), atol=0.006)


@pytest.mark.parametrize("optimizer", ["sgd", "adagrad"])
def test_learning_rate_decays_linearly_from_alpha_to_min_alpha(zipf_pairs, tmp_path, monkeypatch, optimizer):
    spy = Recorder(monkeypatch)
    history = run(zipf_pairs, "cbow", tmp_path, optimizer=optimizer)
    alpha, min_alpha, epochs = BASE["alpha"], BASE["min_alpha"], BASE["epochs"]
    rows = pq.ParquetFile(zipf_pairs / "cbow.parquet").metadata.num_rows
    progress = [p for epoch in spy.epochs for _, _, p, _ in epoch]
    done = np.concatenate([[0.0], np.cumsum(progress)[:-1]])  # source rows before each step
    assert len(spy.lrs) == len(progress) > 50
    expected = alpha - (alpha - min_alpha) * done / (rows * epochs)
    np.testing.assert_allclose(spy.lrs, expected, rtol=1e-9)
    assert spy.lrs[0] == alpha
    assert spy.lrs[-1] == pytest.approx(min_alpha, abs=(alpha - min_alpha) * max(progress) / (rows * epochs))
    ends = np.cumsum([len(e) for e in spy.epochs]) - 1
    assert [e["alpha"] for e in history["epochs"]] == [spy.lrs[i] for i in ends]


@pytest.mark.parametrize(
    "model, key, value",
    [
        ("skipgram", "negative", 2),
        ("skipgram", "ns_exponent", 0.0),
        ("skipgram", "sample", 1e-3),
        ("skipgram", "alpha", 0.02),
        ("skipgram", "min_alpha", 0.04),
        ("skipgram", "batch_size", 32),
        ("skipgram", "shared_negatives", 8),
        ("skipgram", "negative_group", 4),
        ("cbow", "negative_group", 4),
        ("skipgram", "optimizer", "adagrad"),
        ("skipgram", "shuffle_buffer", 300),
        ("skipgram", "seed", 6),
        ("cbow", "cbow_gradient", "exact"),
        ("cbow", "loss", "softmax"),
    ],
)
def test_every_setting_reaches_the_vectors(zipf_pairs, tmp_path, model, key, value):
    run(zipf_pairs, model, tmp_path / "base", epochs=1)
    run(zipf_pairs, model, tmp_path / "other", epochs=1, **{key: value})
    base, other = ((tmp_path / d / "v.vec").read_bytes() for d in ("base", "other"))
    assert base != other


def test_same_settings_give_the_same_vectors(zipf_pairs, tmp_path):
    """The baseline of the test above: only the changed setting made the difference."""
    run(zipf_pairs, "skipgram", tmp_path / "a", epochs=1)
    run(zipf_pairs, "skipgram", tmp_path / "b", epochs=1)
    assert (tmp_path / "a" / "v.vec").read_bytes() == (tmp_path / "b" / "v.vec").read_bytes()


@pytest.mark.parametrize("shared, group", [(0, 1), (16, 1), (0, 8)])
def test_an_example_costs_one_plus_negative_terms_also_with_shared_negatives(zipf_pairs, tmp_path, shared, group):
    """Output vectors start at zero, so until training moves them every term of the loss is log 2.
    With a vanishing learning rate an example costs (1 + negative) log 2, also when the batch shares
    `shared_negatives` draws (their terms are scaled by negative / shared_negatives) or a group of
    examples shares its `negative` draws."""
    history = run(zipf_pairs, "skipgram", tmp_path, epochs=1, alpha=1e-9, min_alpha=0.0, shared_negatives=shared,
                  negative_group=group)
    assert history["epochs"][0]["loss"] == pytest.approx((1 + BASE["negative"]) * np.log(2), rel=1e-4)
