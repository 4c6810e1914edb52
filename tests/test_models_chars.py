"""Character-aware input vectors (train.chars: cwe): forward against NumPy, float64 gradient checks,
the composed vectors the model exports, and the CuPy path on the fake CuPy."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import jingu
from jingu.testing import gradcheck
from w2v.data.chars import CharTable, cwe_composition
from w2v.training.models import CBOW, Init, SkipGram
from w2v.training.ops import DeviceBags, HostBags, context_mean, input_vectors, device_backend

TOKENS = ["<pad>", "孙悟空", "悟空", "天天", "猪", "八戒", "猪八戒"]
CHARS = CharTable(("悟", "空", "天", "孙", "八", "戒"), np.array([9, 9, 6, 5, 4, 4]))  # 猪 has none
COMP = cwe_composition(TOKENS, CHARS)
V, C, D = len(TOKENS), len(CHARS), 3
CONTEXT = np.array([[1, 2, 0, 3], [0, 0, 0, 4], [5, 0, 6, 6], [0, 0, 0, 0]])  # repeats, padding, none
WORDS = np.array([1, 4, 3, 6, 6])


def _table(seed):
    return np.random.default_rng(seed).normal(size=(V + C, D))


def _x(table):
    """Each word's input vector by the CWE formula, written out."""
    first = V
    out = np.zeros((V, D))
    for w, token in enumerate(TOKENS[1:], 1):
        rows = [first + CHARS.chars.index(c) for c in token if c in CHARS.chars]
        out[w] = 0.5 * table[w] + 0.5 * table[rows].mean(0) if rows else table[w]
    return out


def _bags(dtype=np.float64, xp=np):
    host = HostBags.create(COMP.rows, COMP.weights, "cpu", dtype)
    if xp is np:
        return host
    return DeviceBags(*(xp.asarray(a) for a in host))


def _t(a):
    return jingu.Tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


@pytest.mark.parametrize("exact", [True, False])
def test_composed_context_mean_is_the_mean_of_the_words_cwe_vectors(exact):
    table = _table(0)
    x = _x(table)
    got = context_mean(_t(table), CONTEXT, exact=exact, bags=_bags()).numpy()
    expected = np.stack([x[r[r != 0]].mean(0) if (r != 0).any() else np.zeros(D) for r in CONTEXT])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_composed_input_vectors_are_the_words_cwe_vectors():
    table = _table(1)
    np.testing.assert_allclose(input_vectors(_t(table), WORDS, _bags()).numpy(), _x(table)[WORDS], rtol=1e-12)


def test_composed_paths_pass_float64_gradient_checks():
    table = _t(_table(2))
    assert gradcheck(lambda t: context_mean(t, CONTEXT, exact=True, bags=_bags()), [table])
    table = _t(_table(3))
    assert gradcheck(lambda t: input_vectors(t, WORDS, _bags()), [table])
    grad = table.grad.to_dense() if isinstance(table.grad, jingu.RowSparse) else table.grad.data
    assert np.all(grad[0] == 0)  # padding never learns


def test_gensim_rule_hands_each_context_words_composition_the_full_error():
    table = _t(_table(4))
    gy = np.random.default_rng(5).normal(size=(len(CONTEXT), D))
    context_mean(table, CONTEXT, exact=False, bags=_bags()).backward(jingu.Tensor(gy))
    expected = np.zeros((V + C, D))
    for row, g in zip(CONTEXT, gy):
        for word in row[row != 0]:
            for r, w in zip(COMP.rows[word], COMP.weights[word]):
                expected[r] += w * g  # the word's whole error, not divided by the words of the row
    np.testing.assert_allclose(table.grad.to_dense(), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("model_cls", [CBOW, SkipGram])
def test_models_with_characters_pass_gradient_checks_and_export_composed_vectors(model_cls):
    net = model_cls(V, D, init=Init(dtype=np.float64, generator=np.random.default_rng(6)), composition=COMP)
    net.embed_out.data[...] = np.random.default_rng(7).normal(size=(V, D))
    negs = np.array([[2, 5], [4, 4], [1, 6], [3, 3]]) if model_cls is CBOW else np.array([[2, 5]] * 5)
    center = np.array([4, 1, 2, 5]) if model_cls is CBOW else np.array([2, 5, 1, 1, 4])
    context = CONTEXT if model_cls is CBOW else WORDS
    if model_cls is CBOW:
        net.gradient = "exact"  # the true gradient, for the numerical check
    assert gradcheck(lambda a, b: net(center, context, negs), [net.embed_in, net.embed_out])
    table = net.embed_in.numpy()
    assert table.shape == (V + C, D)
    np.testing.assert_allclose(net.vectors(), np.vstack([np.zeros(D), _x(table)[1:]]), rtol=1e-12)
    np.testing.assert_array_equal(net.char_vectors(), table[V:])


def test_word_rows_start_where_word_only_training_starts():
    """Character rows are drawn after the word rows, so the words' initial vectors do not depend on chars."""
    plain = CBOW(V, D, init=Init(generator=np.random.default_rng(8)))
    with_chars = CBOW(V, D, init=Init(generator=np.random.default_rng(8)), composition=COMP)
    np.testing.assert_array_equal(with_chars.embed_in.numpy()[:V], plain.embed_in.numpy())
    chars = with_chars.embed_in.numpy()[V:]
    assert np.all(np.abs(chars) <= 0.5 / D) and chars.std() > 0.01
    assert plain.char_vectors().shape == (0, D)


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed: the GPU tests cover its path")
@pytest.mark.parametrize("model_cls", [CBOW, SkipGram])
def test_device_path_matches_host_without_syncs(fake_gpu, model_cls):
    """The same code on the fake CuPy: same loss and table gradient as on the host, no host sync."""
    fake, counts = fake_gpu
    context = CONTEXT if model_cls is CBOW else WORDS
    center = np.array([4, 1, 2, 5]) if model_cls is CBOW else np.array([2, 5, 1, 1, 4])
    negs = np.array([[2, 5]] * len(center))
    results = []
    for xp in (np, fake):
        net = model_cls(V, D, init=Init(generator=np.random.default_rng(9)), composition=COMP)
        net.embed_out.data[...] = np.random.default_rng(10).normal(size=(V, D)).astype(np.float32)
        if xp is fake:  # on the "device": the tables and the composition, as `device="cuda"` puts them
            net.embed_in.data, net.embed_out.data = fake.asarray(net.embed_in.data), fake.asarray(net.embed_out.data)
            net.bags, net.backend = _bags(np.float32, fake), device_backend("cuda")
        counts.reset()
        loss = net(xp.asarray(center), xp.asarray(context), xp.asarray(negs))
        loss.backward()
        syncs = counts.syncs
        grad = net.embed_in.grad
        grad = grad.to_dense() if isinstance(grad, jingu.RowSparse) else grad.data
        results.append((float(np.asarray(loss.data)), np.asarray(grad), syncs))
    (host_loss, host_grad, _), (dev_loss, dev_grad, dev_syncs) = results
    assert dev_syncs == 0
    assert dev_loss == pytest.approx(host_loss, rel=1e-5)
    np.testing.assert_allclose(dev_grad, host_grad, rtol=1e-4, atol=1e-6)
    assert np.abs(host_grad[V:]).sum() > 0  # the characters learn
