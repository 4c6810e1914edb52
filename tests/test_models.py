"""CBOW / skip-gram models and their fused ops: forward against NumPy, float64 gradient checks."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import jingu
from jingu.nn import functional as F
from jingu.testing import gradcheck
from w2v.training.models import CBOW, Init, SkipGram
from w2v.errors import UserError
from w2v.training.registry import build_model
from w2v.training.ops import (DeviceNegativeSampling, NegativeSampling, ScaleGradient, SharedNegativeSampling,
                              context_mean)
from w2v.training.pipeline import pipeline_for

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


def _backend(device):
    """The ops' backend that training picks for `device`."""
    return pipeline_for(device).backend


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


def _dense_grad(t):
    """A table's gradient as a host array: row-sparse on the CPU, dense on a GPU."""
    g = t.grad
    return jingu.cuda.as_numpy(g.to_dense() if isinstance(g, jingu.RowSparse) else g.data)


@pytest.mark.parametrize("exact", [True, False])
def test_context_mean_forward(device, exact):
    w = np.random.default_rng(0).normal(size=(V, D))
    ours = context_mean(_t(w, device), _dev(CONTEXT, device), exact=exact)
    expected = np.stack([w[[1, 2, 2]].mean(0), w[[5]].mean(0), w[[3, 4, 6]].mean(0)])
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12)
    all_padding = context_mean(_t(w, device), _dev(np.zeros((2, 4), dtype=np.int64), device), exact=exact)
    assert np.all(all_padding.numpy() == 0)


def test_context_mean_exact_gradient(device):
    w = _t(np.random.default_rng(1).normal(size=(V, D)), device)
    ctx = _dev(CONTEXT, device)
    assert gradcheck(lambda w: context_mean(w, ctx, exact=True), [w])
    assert _dense_grad(w)[0].tolist() == [0.0] * D  # padding never gets a gradient


def test_scale_gradient_forward_and_gradient(device):
    x = _t(np.random.default_rng(13).normal(size=(3, D)), device)
    scale = _dev(np.array([[1.0], [2.0], [3.0]]), device)
    y = ScaleGradient.apply(x, scale=scale)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    (y * 1.5).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1.5 * np.array([[1.0], [2.0], [3.0]]) * np.ones((3, D)))


def test_context_mean_gensim_rule_gives_each_word_the_full_error(device):
    w = _t(np.random.default_rng(2).normal(size=(V, D)), device)
    ctx = _dev(CONTEXT, device)
    gy = np.random.default_rng(3).normal(size=(3, D))
    context_mean(w, ctx, exact=False).backward(jingu.Tensor(_dev(gy, device)))
    expected = np.zeros((V, D))
    for row, g in zip(CONTEXT, gy):
        for i in row[row != 0]:
            expected[i] += g  # not divided by the number of context words
    np.testing.assert_allclose(_dense_grad(w), expected, rtol=1e-12)


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
    op = SharedNegativeSampling if shared else _backend(device).negative_sampling
    loss = op.apply(h, w, targets=tg, negatives=ng, scale=scale)
    np.testing.assert_allclose(loss.item(), _ns_reference(h_np, w_np, CENTER, negatives, scale), rtol=1e-12)
    assert gradcheck(lambda h, w: op.apply(h, w, targets=tg, negatives=ng, scale=scale), [h, w])
    assert gradcheck(lambda h, w: op.apply(h, w, targets=tg, negatives=ng, scale=scale) * 2.5, [h, w])


@pytest.mark.parametrize("group", [2, 3, 4])
def test_grouped_negatives_equal_each_example_drawing_its_groups(device, group):
    """Examples in groups of `group` (the last one short when B is not a multiple) scored against
    their group's negatives: the loss and both gradients are those of per-example negatives that
    repeat the group's, and the gradients pass a float64 numerical check."""
    rng = np.random.default_rng(17)
    n = 7
    h_np, w_np = rng.normal(size=(n, D)), rng.normal(size=(V, D))
    targets = rng.integers(1, V, n)
    grouped = rng.integers(1, V, (-(-n // group), 2))
    repeated = np.repeat(grouped, group, axis=0)[:n]
    h, w = _t(h_np, device), _t(w_np, device)
    tg, ng = _dev(targets, device), _dev(grouped, device)
    op = _backend(device).negative_sampling
    loss = op.apply(h, w, targets=tg, negatives=ng, scale=0.7, group=group)
    np.testing.assert_allclose(loss.item(), _ns_reference(h_np, w_np, targets, repeated, 0.7), rtol=1e-12)
    loss.backward()
    h2, w2 = _t(h_np, device), _t(w_np, device)
    op.apply(h2, w2, targets=tg, negatives=_dev(repeated, device), scale=0.7).backward()
    np.testing.assert_allclose(h.grad.numpy(), h2.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(_dense_grad(w), _dense_grad(w2), rtol=1e-12)
    assert gradcheck(lambda h, w: op.apply(h, w, targets=tg, negatives=ng, scale=0.7, group=group) * 2.5,
                     [h, w])


def test_grouped_negatives_need_one_row_per_group():
    h, w = _t(np.ones((5, D)), "cpu"), _t(np.ones((V, D)), "cpu")
    with pytest.raises(ValueError, match="groups of 2 need 3 rows of negatives, got 2"):
        NegativeSampling.apply(h, w, targets=np.ones(5, dtype=np.int64), negatives=np.ones((2, 2), dtype=np.int64), group=2)


@pytest.mark.parametrize("loss", ["negative", "softmax"])
@pytest.mark.parametrize("gradient", ["word2vec", "exact"])
def test_cbow_model_loss_and_gradients(device, loss, gradient):
    model = CBOW(V, D, loss=loss, gradient=gradient,
                 init=Init(dtype=np.float64, backend=_backend(device), generator=np.random.default_rng(6)))
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
    if gradient == "exact":
        # The exact mode is a true gradient: both tables pass a numerical check.
        assert gradcheck(lambda a, b: model(tg, ctx, negs if loss == "negative" else None), [model.embed_in, out])
    else:
        # word2vec's rule: the output table gets the true gradient; the input rows get count x exact.
        assert gradcheck(lambda b: model(tg, ctx, negs if loss == "negative" else None), [out])


@pytest.mark.parametrize("loss", ["negative", "softmax"])
def test_skipgram_model_gradients(device, loss):
    model = SkipGram(V, D, loss=loss, init=Init(dtype=np.float64, backend=_backend(device), generator=np.random.default_rng(8)))
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
    with pytest.raises(ValueError, match="CBOW gradient"):
        CBOW(5, 2, gradient="sum")
    with pytest.raises(UserError, match="unknown model 'glove'; expected one of cbow, skipgram"):
        build_model("glove", 5, {"vector_size": 2})


def test_negative_sampling_cpu_path_in_chunks(monkeypatch):
    """The CPU forward computes the gradients chunk by chunk; several chunks and gy != 1 stay exact."""
    import w2v.training.ops as ops

    monkeypatch.setattr(ops.NegativeSampling, "chunk_rows", 3)  # one example (1 + 2 negatives) per chunk
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
    # Groups of two, one group per chunk, the last group short.
    monkeypatch.setattr(ops.NegativeSampling, "chunk_rows", 4)
    grouped = np.array([[2, 5], [4, 1]])
    repeated = np.repeat(grouped, 2, axis=0)[:3]
    loss = NegativeSampling.apply(h, w, targets=CENTER, negatives=grouped, scale=0.7, group=2)
    np.testing.assert_allclose(loss.item(), _ns_reference(h_np, w_np, CENTER, repeated, 0.7), rtol=1e-12)
    assert gradcheck(lambda h, w: NegativeSampling.apply(h, w, targets=CENTER, negatives=grouped, scale=0.7, group=2),
                     [h, w])


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
        rows = np.array([7, 0, 3, 3, 5, 8, 1])  # repeats: they add up
        values = rng.normal(size=(7, 3)).astype(np.float32)
        grad = jingu.RowSparse(rows, values, (9, 3))
        sparse_p.grad = grad
        dense_p.grad = jingu.Tensor(grad.to_dense())
        opt_s.step()
        opt_d.step()
    np.testing.assert_allclose(sparse_p.numpy(), dense_p.numpy(), rtol=1e-6, atol=1e-6)
    assert not np.allclose(sparse_p.numpy(), start)


NO_CUPY = pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed: the GPU tests cover its path")


def _host_and_device(fake, counts, fn, tables, gy):
    """Run `fn(*leaves)` and its backward with `gy` on host tables and on fake-CuPy copies.

    Returns host output, device output, host grads (dense), device grads and the device syncs.
    """
    host = [jingu.Tensor(t, requires_grad=True) for t in tables]
    out = fn(*host, xp=np)
    out.backward(jingu.Tensor(gy))
    host_grads = [g.to_dense() if isinstance(g, jingu.RowSparse) else g.data for g in (t.grad for t in host)]
    counts.reset()
    dev = [jingu.Tensor(fake.asarray(t), requires_grad=True) for t in tables]
    dev_out = fn(*dev, xp=fake)
    dev_out.backward(jingu.Tensor(fake.asarray(gy)))
    dev_grads = []
    for t in dev:
        assert isinstance(t.grad, jingu.RowSparse)  # lazy: the optimizer scatters it
        dev_grads.append(np.asarray(t.grad.to_dense()))  # one scatter kernel per part, no sort
    return out.data, np.asarray(dev_out.data), host_grads, dev_grads, counts


@NO_CUPY
@pytest.mark.parametrize("exact", [True, False])
def test_context_mean_device_path_matches_host_path_without_syncs(fake_gpu, exact):
    """The CuPy path (embedding-bag kernels over every slot, padding weighted zero) against the
    NumPy path (padding dropped)."""
    fake, counts = fake_gpu
    rng = np.random.default_rng(3)
    w = rng.normal(size=(12, 4)).astype(np.float32)
    ctx = rng.integers(0, 12, size=(9, 6))
    ctx[2] = 0  # a row of padding only
    ctx[5, :4] = 0
    gy = rng.normal(size=(9, 4)).astype(np.float32)

    def fn(weight, xp):
        ids = ctx if xp is np else fake.asarray(ctx)
        return context_mean(weight, ids, exact=exact)

    out, dev_out, (host_grad,), (dev_grad,), counts = _host_and_device(fake, counts, fn, [w], gy)
    assert counts.syncs == 0, counts.names
    assert counts.names["jingu_bag_sum"] == 1 and counts.names["jingu_bag_scatter"] == 1, counts.names
    np.testing.assert_allclose(dev_out, out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dev_grad, host_grad, rtol=1e-5, atol=1e-6)
    assert np.all(dev_grad[0] == 0)  # padding slots add nothing


@NO_CUPY
def test_negative_sampling_and_embedding_device_paths_match_host_without_syncs(fake_gpu):
    """Skip-gram's ops on fake CuPy: same loss and gradients as the host path, dense tables, no sync."""
    fake, counts = fake_gpu
    rng = np.random.default_rng(4)
    w_in, w_out = rng.normal(size=(10, 4)), rng.normal(size=(10, 4))
    context, center = np.array([3, 3, 7, 1, 9]), np.array([2, 5, 5, 8, 1])
    negatives = rng.integers(1, 10, size=(5, 3))

    def fn(a, b, xp):
        put = (lambda x: x) if xp is np else fake.asarray
        op = NegativeSampling if xp is np else DeviceNegativeSampling
        hidden = F.embedding(put(context), a, sparse=True)
        return op.apply(hidden, b, targets=put(center), negatives=put(negatives), scale=1.0)

    out, dev_out, host_grads, dev_grads, counts = _host_and_device(fake, counts, fn, [w_in, w_out], np.array(1.0))
    assert counts.syncs == 0, counts.names
    assert counts.names["jingu_bag_scatter"] == 2, counts.names  # one scatter kernel per table
    np.testing.assert_allclose(dev_out, out, rtol=1e-10)
    for dev_grad, host_grad in zip(dev_grads, host_grads):
        np.testing.assert_allclose(dev_grad, host_grad, rtol=1e-10, atol=1e-12)


def _bag_gradient(ids, weights, x, num_rows):
    """Dense table gradient of an embedding bag: row ids[b, s] gets weights[b, s] * x[b]."""
    grad = jingu.RowSparse.product(ids.reshape(-1), x, (num_rows, x.shape[1]), weights=weights.reshape(-1), slots=ids.shape[1])
    return grad.to_dense()


@NO_CUPY
def test_bag_kernels_fall_back_when_cupy_cannot_build_them(fake_gpu, monkeypatch, caplog):
    """A kernel that fails to compile is logged once; the fallback gives the same numbers."""
    fake, counts = fake_gpu
    from jingu.kernels import bag_sum  # noqa: PLC0415

    rng = np.random.default_rng(5)
    table, ids = rng.normal(size=(6, 3)), rng.integers(0, 6, size=(4, 2))
    weights, x = rng.normal(size=(4, 2)), rng.normal(size=(4, 3))
    expected_sum = np.einsum("bs,bsd->bd", weights, table[ids])
    expected_scatter = np.zeros((6, 3))
    np.add.at(expected_scatter, ids.reshape(-1), (weights[:, :, None] * x[:, None, :]).reshape(-1, 3))

    def broken(*args, **kwargs):
        raise fake.CompileException("nvrtc: error: identifier is undefined")

    monkeypatch.setattr(fake, "FUSED", {**fake.FUSED, "jingu_bag_sum": broken, "jingu_bag_scatter": broken})
    for _ in range(2):
        got_sum = bag_sum(fake.asarray(table), fake.asarray(ids), fake.asarray(weights), slots=2)
        got_scatter = _bag_gradient(fake.asarray(ids), fake.asarray(weights), fake.asarray(x), 6)
        np.testing.assert_allclose(np.asarray(got_sum), expected_sum, rtol=1e-12)
        np.testing.assert_allclose(np.asarray(got_scatter), expected_scatter, rtol=1e-12)
    assert sum("does not compile" in r.message for r in caplog.records) == 2  # once per kernel
    # The NumPy path of both gives the same numbers.
    np.testing.assert_allclose(bag_sum(table, ids, weights, slots=2), expected_sum, rtol=1e-12)
    np.testing.assert_allclose(_bag_gradient(ids, weights, x, 6), expected_scatter, rtol=1e-12)
