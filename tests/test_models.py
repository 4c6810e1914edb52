"""CBOW / skip-gram models and their fused ops: forward against NumPy, float64 gradient checks."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import jingu
from jingu.nn import functional as F
from jingu.testing import gradcheck
from w2v.models import CBOW, SkipGram, build_model
from w2v.training.ops import ContextMean, NegativeSampling, RowGather, row_sum, unique_inverse

DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=[pytest.mark.gpu, pytest.mark.skipif(not jingu.cuda.is_available(), reason="CuPy finds no GPU")],
    ),
]

V, D = 7, 3
CONTEXT = np.array([[1, 2, 0, 2], [0, 0, 0, 5], [3, 0, 4, 6]])  # repeated id, padding, full row
CENTER = np.array([4, 1, 2])


def _t(array, device, grad=True):
    return jingu.Tensor(np.asarray(array, dtype=np.float64), requires_grad=grad, device=device)


def _dev(array, device):
    return jingu.cuda.to_device(np.asarray(array), device)


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


def test_unique_inverse_and_row_sum_match_numpy(device):
    ids = _dev(np.array([5, 1, 5, 0, 1, 5]), device)
    uniq, inv = unique_inverse(ids, 8)
    assert jingu.cuda.as_numpy(uniq).tolist() == [0, 1, 5]
    assert jingu.cuda.as_numpy(uniq)[jingu.cuda.as_numpy(inv)].tolist() == [5, 1, 5, 0, 1, 5]
    values = np.arange(12, dtype=np.float64).reshape(6, 2)
    grad = row_sum(ids, _dev(values, device), 8, (8, 2))
    dense = np.zeros((8, 2))
    for i, row in zip([5, 1, 5, 0, 1, 5], values):
        dense[i] += row
    np.testing.assert_allclose(jingu.cuda.as_numpy(grad.to_dense()), dense)
    assert len(set(jingu.cuda.as_numpy(grad.indices).tolist())) == grad.indices.shape[0]


def test_context_mean_forward_matches_embedding_bag(device):
    w = np.random.default_rng(0).normal(size=(V, D))
    ctx = _dev(CONTEXT, device)
    ours = ContextMean.apply(_t(w, device), context=ctx, padding_idx=0, exact=True)
    bag = F.embedding_bag(ctx, _t(w, device), mode="mean", padding_idx=0)
    np.testing.assert_allclose(ours.numpy(), bag.numpy(), rtol=1e-12)
    expected = np.stack([w[[1, 2, 2]].mean(0), w[[5]].mean(0), w[[3, 4, 6]].mean(0)])
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12)


def test_context_mean_exact_gradient(device):
    w = _t(np.random.default_rng(1).normal(size=(V, D)), device)
    ctx = _dev(CONTEXT, device)
    assert gradcheck(lambda w: ContextMean.apply(w, context=ctx, padding_idx=0, exact=True), [w])
    assert w.grad.to_dense()[0].tolist() == [0.0] * D  # padding never gets a gradient


def test_context_mean_gensim_rule_gives_each_word_the_full_error(device):
    w = _t(np.random.default_rng(2).normal(size=(V, D)), device)
    ctx = _dev(CONTEXT, device)
    gy = np.random.default_rng(3).normal(size=(3, D))
    ContextMean.apply(w, context=ctx, padding_idx=0, exact=False).backward(_dev(gy, device))
    expected = np.zeros((V, D))
    for row, g in zip(CONTEXT, gy):
        for i in row[row != 0]:
            expected[i] += g  # not divided by the number of context words
    np.testing.assert_allclose(jingu.cuda.as_numpy(w.grad.to_dense()), expected, rtol=1e-12)


def test_row_gather_forward_and_gradient(device):
    w = _t(np.random.default_rng(4).normal(size=(V, D)), device)
    ids = _dev(np.array([3, 1, 3, 6]), device)
    np.testing.assert_allclose(RowGather.apply(w, ids=ids).numpy(), w.numpy()[[3, 1, 3, 6]])
    assert gradcheck(lambda w: RowGather.apply(w, ids=ids), [w])


def _ns_reference(h, w, targets, negatives, scale):
    def logsig(x):
        return -np.logaddexp(0, -x)

    pos = (h * w[targets]).sum(1)
    if negatives.ndim == 2:
        neg = np.einsum("bd,bkd->bk", h, w[negatives])
    else:
        neg = h @ w[negatives].T
    return -logsig(pos).sum() - scale * logsig(-neg).sum()


@pytest.mark.parametrize("shared", [False, True])
def test_negative_sampling_forward_and_gradients(device, shared):
    rng = np.random.default_rng(5)
    h_np, w_np = rng.normal(size=(3, D)), rng.normal(size=(V, D))
    negatives = np.array([2, 5, 2, 6]) if shared else np.array([[2, 5], [4, 4], [1, 6]])
    scale = 0.5 if shared else 1.0
    h, w = _t(h_np, device), _t(w_np, device)
    tg, ng = _dev(CENTER, device), _dev(negatives, device)
    loss = NegativeSampling.apply(h, w, targets=tg, negatives=ng, scale=scale)
    np.testing.assert_allclose(loss.item(), _ns_reference(h_np, w_np, CENTER, negatives, scale), rtol=1e-12)
    assert gradcheck(lambda h, w: NegativeSampling.apply(h, w, targets=tg, negatives=ng, scale=scale), [h, w])


@pytest.mark.parametrize("loss", ["negative", "softmax"])
@pytest.mark.parametrize("cbow_mean", ["gensim", "exact"])
def test_cbow_model_loss_and_gradients(device, loss, cbow_mean):
    model = CBOW(V, D, loss=loss, cbow_mean=cbow_mean, dtype=np.float64, device=device,
                 generator=np.random.default_rng(6))
    out = model.embed_out if loss == "negative" else model.output.weight
    out.data[...] = _dev(np.random.default_rng(7).normal(size=(V, D)), device)  # zeros would hide bugs
    negs = _dev(np.array([[2, 5], [4, 4], [1, 6]]), device)
    ctx, tg = _dev(CONTEXT, device), _dev(CENTER, device)
    w_in = model.embed_in.numpy()
    h = np.stack([w_in[r[r != 0]].mean(0) for r in CONTEXT])
    if loss == "negative":
        expected = _ns_reference(h, out.numpy(), CENTER, np.array([[2, 5], [4, 4], [1, 6]]), 1.0)
    else:
        logits = h @ out.numpy().T
        expected = -(logits[np.arange(3), CENTER] - np.log(np.exp(logits).sum(1))).sum()
    value = model(tg, ctx, negs if loss == "negative" else None)
    np.testing.assert_allclose(value.item(), expected, rtol=1e-10)
    if cbow_mean == "exact":
        # The exact mode is a true gradient: both tables pass a numerical check.
        assert gradcheck(lambda a, b: model(tg, ctx, negs if loss == "negative" else None), [model.embed_in, out])
    else:
        # gensim's rule: the output table gets the true gradient; the input rows get count x exact.
        assert gradcheck(lambda b: model(tg, ctx, negs if loss == "negative" else None), [out])


@pytest.mark.parametrize("loss", ["negative", "softmax"])
def test_skipgram_model_gradients(device, loss):
    model = SkipGram(V, D, loss=loss, dtype=np.float64, device=device, generator=np.random.default_rng(8))
    out = model.embed_out if loss == "negative" else model.output.weight
    out.data[...] = _dev(np.random.default_rng(9).normal(size=(V, D)), device)
    ctx, tg = _dev(np.array([3, 3, 6]), device), _dev(CENTER, device)
    negs = _dev(np.array([[2, 5], [4, 4], [1, 6]]), device) if loss == "negative" else None
    assert gradcheck(lambda a, b: model(tg, ctx, negs), [model.embed_in, out])


def test_init_follows_word2vec():
    model = build_model("cbow", 50, {"vector_size": 10}, generator=np.random.default_rng(0))
    w = model.embed_in.numpy()
    assert w.dtype == np.float32 and np.all(w[0] == 0)
    assert np.all(np.abs(w[1:]) <= 0.5 / 10) and w[1:].std() > 0.01
    assert np.all(model.embed_out.numpy() == 0)
    # Same generator seed, same initial vectors.
    again = build_model("cbow", 50, {"vector_size": 10}, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(w, again.embed_in.numpy())


def test_bad_model_arguments_raise():
    with pytest.raises(ValueError, match="loss"):
        CBOW(5, 2, loss="hierarchical")
    with pytest.raises(ValueError, match="cbow_mean"):
        CBOW(5, 2, cbow_mean="sum")
    with pytest.raises(ValueError, match="unknown model"):
        build_model("glove", 5, {"vector_size": 2})


def test_negative_sampling_fused_cpu_path_in_chunks(monkeypatch):
    """The CPU forward computes the gradients chunk by chunk; several chunks and gy != 1 stay exact."""
    import w2v.training.ops as ops

    monkeypatch.setattr(ops, "FUSED_CHUNK_ROWS", 3)  # one example (1 + 2 negatives) per chunk
    rng = np.random.default_rng(11)
    h_np, w_np = rng.normal(size=(3, D)), rng.normal(size=(V, D))
    negatives = np.array([[2, 5], [4, 4], [1, 6]])
    h, w = _t(h_np, "cpu"), _t(w_np, "cpu")
    loss = NegativeSampling.apply(h, w, targets=CENTER, negatives=negatives, scale=0.7)
    np.testing.assert_allclose(loss.item(), _ns_reference(h_np, w_np, CENTER, negatives, 0.7), rtol=1e-12)
    assert gradcheck(lambda h, w: NegativeSampling.apply(h, w, targets=CENTER, negatives=negatives, scale=0.7) * 2.5, [h, w])
    # Without input gradients (no_grad) the forward gives the same loss.
    with jingu.no_grad():
        again = NegativeSampling.apply(h, w, targets=CENTER, negatives=negatives, scale=0.7)
    assert again.item() == loss.item()


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sparse_sgd_step_in_chunks_matches_dense(monkeypatch, momentum):
    """jingu's SGD updates sparse rows in cache-sized chunks on the CPU: same result as dense."""
    import jingu.optim.optimizer as optimizer

    monkeypatch.setattr(optimizer, "SPARSE_CHUNK_ROWS", 2)
    rng = np.random.default_rng(12)
    start = rng.normal(size=(9, 3)).astype(np.float32)
    sparse_p = jingu.nn.Parameter(start.copy())
    dense_p = jingu.nn.Parameter(start.copy())
    opt_s = jingu.optim.SGD([sparse_p], lr=0.1, momentum=momentum)
    opt_d = jingu.optim.SGD([dense_p], lr=0.1, momentum=momentum)
    for step in range(2):
        rows = np.array([7, 0, 3, 3, 5, 8, 1])  # repeats: the optimizer coalesces them
        values = rng.normal(size=(7, 3)).astype(np.float32)
        grad = jingu.RowSparse(rows, values, (9, 3))
        sparse_p.grad = grad
        dense_p.grad = jingu.Tensor(grad.to_dense())
        opt_s.step()
        opt_d.step()
    np.testing.assert_allclose(sparse_p.numpy(), dense_p.numpy(), rtol=1e-6, atol=1e-6)
    assert not np.allclose(sparse_p.numpy(), start)


@pytest.mark.parametrize("kind", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_product_kernel_matches_scipy(kind, dtype):
    """The direct SciPy-kernel product equals scipy's matrix product; other index types fall back."""
    import scipy.sparse

    from w2v.training.ops import sparse_product

    rng = np.random.default_rng(13)
    shape = (4, 6)
    major = shape[0] if kind == "csr" else shape[1]
    minor = shape[1] if kind == "csr" else shape[0]
    counts = np.array([2, 0, 3, 1, 2, 1])[:major]
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    indices = rng.integers(0, minor, size=indptr[-1]).astype(np.int32)  # repeats allowed: they add up
    data = rng.normal(size=indptr[-1]).astype(dtype)
    dense = rng.normal(size=(shape[1], 5)).astype(dtype)
    matrix = (scipy.sparse.csr_matrix if kind == "csr" else scipy.sparse.csc_matrix)((data, indices, indptr), shape=shape)
    expected = matrix @ dense
    got = sparse_product(kind, shape, indptr, indices, data, dense)
    assert got.dtype == dtype and got.shape == (4, 5)
    np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)
    fallback = sparse_product(kind, shape, indptr.astype(np.int64), indices.astype(np.int64), data, dense)
    np.testing.assert_allclose(fallback, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed: the GPU tests cover its path")
@pytest.mark.parametrize("exact", [True, False])
def test_context_mean_device_path_matches_host_path_without_syncs(monkeypatch, exact):
    """The CuPy path (dense gather, no mask) against the NumPy path (sparse matrix), via fake CuPy."""
    sys.path.insert(0, str(Path(__file__).parent / "jingu"))
    import fake_cupy  # noqa: PLC0415

    rng = np.random.default_rng(3)
    w = rng.normal(size=(12, 4)).astype(np.float32)
    ctx = rng.integers(0, 12, size=(9, 6))
    ctx[2] = 0  # a row of padding only
    ctx[5, :4] = 0
    gy = rng.normal(size=(9, 4)).astype(np.float32)

    host_weight = jingu.Tensor(w, requires_grad=True)
    host = ContextMean.apply(host_weight, context=ctx, padding_idx=0, exact=exact)
    host.backward(jingu.Tensor(gy))
    counts = fake_cupy.install(monkeypatch)
    import scipy.sparse  # noqa: PLC0415

    fake_sparse = types.ModuleType("cupyx.scipy.sparse")  # SciPy on the fake arrays' NumPy data
    fake_sparse.csr_matrix = lambda arrays, shape: scipy.sparse.csr_matrix(fake_cupy._plain(arrays), shape=shape)
    fake_sparse.csc_matrix = lambda arrays, shape: scipy.sparse.csc_matrix(fake_cupy._plain(arrays), shape=shape)
    fake_scipy = types.ModuleType("cupyx.scipy")
    fake_scipy.sparse = fake_sparse
    monkeypatch.setattr(sys.modules["cupyx"], "scipy", fake_scipy, raising=False)
    monkeypatch.setitem(sys.modules, "cupyx.scipy", fake_scipy)
    monkeypatch.setitem(sys.modules, "cupyx.scipy.sparse", fake_sparse)
    dev_w, dev_ctx = fake_cupy.asarray(w), fake_cupy.asarray(ctx)
    counts.reset()
    weight = jingu.Tensor(dev_w, requires_grad=True)
    out = ContextMean.apply(weight, context=dev_ctx, padding_idx=0, exact=exact)
    assert counts.syncs == 0, counts.names  # the forward never waits for the device
    out.backward(jingu.Tensor(fake_cupy.asarray(gy)))
    np.testing.assert_allclose(np.asarray(out.data), host.data, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(weight.grad.to_dense()), host_weight.grad.to_dense(), rtol=1e-5, atol=1e-6)
