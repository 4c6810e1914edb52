"""What training hands the user: results/{model}.vec holds the INPUT embeddings (never the output
side), and Hogwild workers train one set of tables (every parameter and optimizer array shared).

The learning tests elsewhere cannot tell the two tables apart: words sharing contexts become
neighbours in either. These compare the written file with the trained model's tables.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import in_forked_worker

import w2v.training.train
from w2v.training.registry import build_model
from w2v.training.train import make_optimizer
from helpers import train_files as train
from w2v.training.hogwild import share_training_state
from w2v.vectors import KeyedVectors
from w2v.data.vocab import load_vocab

BASE = {"vector_size": 8, "epochs": 2, "sample": 0.0, "batch_size": 32, "seed": 5, "workers": 1}
CASES = [("cbow", "negative"), ("skipgram", "negative"), ("cbow", "softmax"), ("skipgram", "softmax")]


@pytest.fixture()
def captured(monkeypatch) -> dict:
    """The model and optimizer `train` builds, kept for the test to inspect after the run."""
    seen: dict = {}

    def build(*args, **kwargs):
        seen["net"] = build_model(*args, **kwargs)
        return seen["net"]

    def optimizer(*args, **kwargs):
        seen["opt"] = make_optimizer(*args, **kwargs)
        return seen["opt"]

    monkeypatch.setattr(w2v.training.train, "build_model", build)
    monkeypatch.setattr(w2v.training.train, "make_optimizer", optimizer)
    return seen


def output_table(net) -> np.ndarray:
    return net.embed_out.data if net.loss == "negative" else net.output.weight.data


def run(zipf_pairs, tmp_path, model: str, **settings) -> KeyedVectors:
    train(model, zipf_pairs / f"{model}.parquet", zipf_pairs / "vocab.tsv", {**BASE, **settings},
          tmp_path / "v.vec", tmp_path / "h.json", device="cpu")
    return KeyedVectors.load_word2vec_format(tmp_path / "v.vec")


@pytest.mark.parametrize(("model", "loss"), CASES)
def test_written_vectors_are_the_trained_input_table(zipf_pairs, tmp_path, captured, model, loss):
    kv = run(zipf_pairs, tmp_path, model, loss=loss)
    net = captured["net"]
    assert kv.index_to_key == load_vocab(zipf_pairs / "vocab.tsv").tokens[1:]
    np.testing.assert_array_equal(kv.vectors, net.embed_in.data[1:])
    assert output_table(net).shape == net.embed_in.data.shape  # so the comparison below could match
    assert not np.allclose(kv.vectors, output_table(net)[1:], atol=1e-3)


@pytest.mark.parametrize(("model", "loss"), CASES)
def test_written_vectors_keep_the_input_initialisation_when_barely_trained(zipf_pairs, tmp_path, model, loss):
    # Without looking inside: input vectors start uniform in +-0.5/dim, output vectors at zero, so
    # after steps of 1e-6 the written table must still look uniform in +-0.5/dim.
    kv = run(zipf_pairs, tmp_path, model, loss=loss, alpha=1e-6, min_alpha=0.0, epochs=1)
    half = 0.5 / BASE["vector_size"]
    assert np.abs(kv.vectors).max() <= half * 1.01
    assert kv.vectors.std() == pytest.approx(2 * half / np.sqrt(12), rel=0.15)


@pytest.mark.parametrize("optimizer", ["sgd", "adagrad"])
@pytest.mark.parametrize(("model", "loss"), CASES)
def test_workers_write_into_every_table_and_optimizer_array(model, loss, optimizer):
    net = build_model(model, 7, {"vector_size": 3, "loss": loss}, generator=np.random.default_rng(0))
    opt = make_optimizer(optimizer, net.parameters(), 0.1)
    share_training_state(net, opt)
    arrays = [p.data for p in net.parameters()]
    arrays += [v for state in opt.state.values() for v in state.values() if isinstance(v, np.ndarray)]
    before = [a.copy() for a in arrays]

    def add_one():
        for a in arrays:
            a += 1.0

    in_forked_worker(add_one)
    assert len(arrays) == (4 if optimizer == "adagrad" else 2)  # input and output tables (+ accumulators)
    for a, b in zip(arrays, before, strict=True):
        np.testing.assert_array_equal(a, b + 1.0)


@pytest.mark.parametrize("model", ["cbow", "skipgram"])
def test_two_workers_train_one_output_table(zipf_pairs, tmp_path, captured, model):
    # Both workers' updates must land in the parent's output table: with a private copy per worker
    # the parent's table would take only its own half of the epoch's updates.
    run(zipf_pairs, tmp_path / "one", model, epochs=1)
    one = np.linalg.norm(output_table(captured["net"]))
    run(zipf_pairs, tmp_path / "two", model, epochs=1, workers=2)
    two = np.linalg.norm(output_table(captured["net"]))
    assert two == pytest.approx(one, rel=0.1)  # measured: 0.96-1.02 shared, 0.73-0.81 private
