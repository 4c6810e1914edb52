"""Edges of word2vec's fused ops (`w2v.training.ops`) that the gradient checks in test_models.py do
not reach: float32 kept float32 on both backends, embedding gradients kept row-sparse, gradients
asked of one input only, the defaults, and empty batches. Each was a mutant that survived
`bash benchmarks/mutation.sh ops`."""

from __future__ import annotations

import numpy as np
import pytest

import jingu
from w2v.training import ops
from w2v.training.ops import HOST, SharedNegativeSampling, context_mean, device_backend, input_vectors

V, D = 7, 3
CONTEXT = np.array([[1, 2, 0, 2], [0, 0, 0, 5], [3, 0, 4, 6]])
CENTER = np.array([4, 1, 2])
NEGATIVES = np.array([[2, 5], [4, 4], [1, 6]])


@pytest.fixture(params=["cpu", "fake-cuda"])
def backend(request):
    """The backend training picks for the CPU, or for a GPU on the fake CuPy."""
    if request.param == "cpu":
        return HOST
    request.getfixturevalue("fake_cuda")
    return device_backend("cuda")


def _put(array, backend, dtype=None):
    array = np.asarray(array) if dtype is None else np.asarray(array, dtype=dtype)
    return jingu.cuda.to_device(array, backend.device)


def _tensor(array, backend, dtype=np.float32, grad=True):
    return jingu.Tensor(_put(array, backend, dtype), requires_grad=grad, device=backend.device)


def _bags(backend, dtype=np.float32):
    """Words 1..6 of two characters each (rows V + 0, V + 1), weights 0.5, word 0 (padding) empty."""
    rows = np.zeros((V, 2), dtype=np.int32)
    weights = np.zeros((V, 2))
    for word in range(1, V):
        rows[word] = [V + word % 2, V + (word + 1) % 2]
        weights[word] = 0.5
    return backend.bags.create(rows, weights, backend.device, dtype)


def _grad_values(t):
    g = t.grad
    return g.values if isinstance(g, jingu.RowSparse) else g.data


@pytest.mark.parametrize("gy", [1.0, 2.5])  # the unit gradient of loss.backward(), and another
@pytest.mark.parametrize("shared", [False, True])
def test_negative_sampling_keeps_float32_in_every_output_and_intermediate(backend, gy, shared, monkeypatch):
    seen = []
    real = ops._softplus
    monkeypatch.setattr(ops, "_softplus", lambda xp, x: seen.append(x.dtype) or real(xp, x))
    rng = np.random.default_rng(1)
    h, w = _tensor(rng.normal(size=(3, D)), backend), _tensor(rng.normal(size=(V, D)), backend)
    negatives = np.array([2, 5, 6]) if shared else NEGATIVES
    op = SharedNegativeSampling if shared else backend.negative_sampling
    loss = op.apply(h, w, targets=_put(CENTER, backend), negatives=_put(negatives, backend), scale=0.5)
    (loss * gy).backward()
    assert loss.data.dtype == np.float32 and seen and set(seen) == {np.dtype(np.float32)}
    assert h.grad.data.dtype == np.float32 and _grad_values(w).dtype == np.float32


@pytest.mark.parametrize("exact", [False, True])
def test_context_means_and_bags_keep_float32(backend, exact):
    w = _tensor(np.random.default_rng(2).normal(size=(V + 2, D)), backend)
    context = _put(CONTEXT, backend)
    outputs = [context_mean(w, context, exact=exact), context_mean(w, context, exact=exact, bags=_bags(backend)),
               input_vectors(w, _put(CENTER, backend), bags=_bags(backend)),
               _bags(backend).sum(w, context, scale=_put([1.0, 0.5, 2.0], backend, np.float64))]
    for out in outputs:
        assert out.data.dtype == np.float32
        out.sum().backward()
        assert _grad_values(w).dtype == np.float32
        w.grad = None


def test_embedding_gradients_stay_row_sparse(backend):
    """A table's gradient touches only the rows a batch used (the optimizers and Hogwild rely on it);
    a dense one would give the same numbers but update every row."""
    w = _tensor(np.random.default_rng(3).normal(size=(V + 2, D)), backend)
    context, center = _put(CONTEXT, backend), _put(CENTER, backend)
    for exact in (False, True):
        for bags in (None, _bags(backend)):
            for out in (context_mean(w, context, exact=exact, bags=bags), input_vectors(w, center, bags=bags)):
                out.sum().backward()
                assert isinstance(w.grad, jingu.RowSparse), (exact, bags, out)
                w.grad = None


def test_defaults_are_gensims_rule_and_a_negative_weight_of_one():
    w = _tensor(np.random.default_rng(4).normal(size=(V, D)), HOST, np.float64)
    context_mean(w, CONTEXT).sum().backward()
    default = w.grad.to_dense().copy()
    w.grad = None
    context_mean(w, CONTEXT, exact=False).sum().backward()
    np.testing.assert_array_equal(default, w.grad.to_dense())
    h = _tensor(np.random.default_rng(5).normal(size=(3, D)), HOST, np.float64)
    for op, negatives in ((HOST.negative_sampling, NEGATIVES), (SharedNegativeSampling, np.array([2, 5]))):
        plain = op.apply(h, w, targets=CENTER, negatives=negatives).item()
        assert plain == op.apply(h, w, targets=CENTER, negatives=negatives, scale=1.0).item()


@pytest.mark.parametrize("shared", [False, True])
def test_a_gradient_asked_of_one_input_only(shared):
    """The hidden layer's gradient without the table's (and the table's without the hidden layer's)
    equals that half of the full backward."""
    rng = np.random.default_rng(6)
    h_np, w_np = rng.normal(size=(3, D)), rng.normal(size=(V, D))
    negatives = np.array([2, 5]) if shared else NEGATIVES
    op = SharedNegativeSampling if shared else HOST.negative_sampling
    both_h, both_w = _tensor(h_np, HOST, np.float64), _tensor(w_np, HOST, np.float64)
    (op.apply(both_h, both_w, targets=CENTER, negatives=negatives, scale=0.7) * 2.0).backward()
    for h_grad in (True, False):
        h = _tensor(h_np, HOST, np.float64, grad=h_grad)
        w = _tensor(w_np, HOST, np.float64, grad=not h_grad)
        (op.apply(h, w, targets=CENTER, negatives=negatives, scale=0.7) * 2.0).backward()
        if h_grad:
            assert w.grad is None
            np.testing.assert_allclose(h.grad.data, both_h.grad.data, rtol=1e-12)
        else:
            assert h.grad is None
            np.testing.assert_allclose(w.grad.to_dense(), both_w.grad.to_dense(), rtol=1e-12)


def test_the_group_count_message_for_ungrouped_negatives():
    h, w = _tensor(np.ones((5, D)), HOST), _tensor(np.ones((V, D)), HOST)
    with pytest.raises(ValueError, match=r"^5 examples in groups of 1 need 5 rows of negatives, got 4$"):
        HOST.negative_sampling.apply(h, w, targets=np.ones(5, dtype=np.int64), negatives=np.ones((4, 2), dtype=np.int64))


def test_an_empty_batch_of_bags_is_empty(backend):
    w = _tensor(np.ones((V + 2, D)), backend)
    for bags_sum in (_bags(backend).sum(w, _put(np.zeros((0, 4), dtype=np.int64), backend)),
                     _bags(backend).sum(w, _put(np.zeros((0, 4), dtype=np.int64), backend),
                                        scale=_put(np.zeros(0), backend))):
        assert bags_sum.shape == (0, D)


def test_rows_without_words_sum_to_zeros():
    """(n, 0) word ids on the host: every row an empty bag, zeros (the CSR offsets have no last slot
    to read). On a GPU jingu's fixed-width bags cannot take a width of 0 (training never makes one)."""
    w = _tensor(np.ones((V + 2, D)), HOST)
    for scale in (None, np.array([1.0, 2.0, 3.0])):
        out = _bags(HOST).sum(w, np.zeros((3, 0), dtype=np.int64), scale=scale)
        np.testing.assert_array_equal(jingu.cuda.as_numpy(out.data), np.zeros((3, D), dtype=np.float32))
