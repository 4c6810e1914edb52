"""Embedding, EmbeddingBag and RowSparse: forward, gradients (dense and row-sparse), padding."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import jingu
from jingu.sparse import RowSparse, scatter_add_rows
from jingu.testing import gradcheck

F = jingu.nn.functional


def _dense(g: Any) -> np.ndarray:
    return jingu.cuda.as_numpy(g.to_dense() if isinstance(g, RowSparse) else g.data)


def _bag_reference(idx: np.ndarray, w: np.ndarray, mode: str, pad: int | None, psw: np.ndarray | None) -> np.ndarray:
    out = np.zeros((idx.shape[0], w.shape[1]))
    for b, row in enumerate(idx):
        total, count = np.zeros(w.shape[1]), 0
        for j, i in enumerate(row):
            if pad is not None and i == pad:
                continue
            total += w[i] * (1.0 if psw is None else psw[b, j])
            count += 1
        out[b] = total / max(count, 1) if mode == "mean" else total
    return out


def test_scatter_add_rows_matches_add_at(rng: np.random.Generator) -> None:
    idx = rng.integers(0, 7, size=50)
    vals = rng.normal(size=(50, 3))
    expected = np.zeros((7, 3))
    np.add.at(expected, idx, vals)
    np.testing.assert_allclose(scatter_add_rows(idx, vals, 7), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("id_dtype", [np.int32, np.int64])
def test_weighted_bag_sum_and_scatter(device: str, dtype: Any, id_dtype: Any, rng: np.random.Generator) -> None:
    """The embedding-bag primitives (one CUDA kernel each on a GPU) against a loop; zero weights add nothing."""
    from jingu.kernels import bag_sum

    table = rng.normal(size=(9, 5)).astype(dtype)
    ids = rng.integers(0, 9, size=(40, 3)).astype(id_dtype)
    ids[:, 0] = 4  # one row hit by every example: the atomics collide
    weights = rng.normal(size=(40, 3)).astype(dtype)
    weights[::3, 1] = 0.0
    x = rng.normal(size=(40, 5)).astype(dtype)
    expected_sum = np.zeros((40, 5))
    expected_scatter = np.zeros((9, 5))
    for b in range(40):
        for s in range(3):
            expected_sum[b] += weights[b, s] * table[ids[b, s]]
            expected_scatter[ids[b, s]] += weights[b, s] * x[b]
    put = lambda a: jingu.cuda.to_device(a, device)  # noqa: E731
    got_sum = bag_sum(put(table), put(ids), put(weights), slots=3)
    got_scatter = RowSparse.product(put(ids).reshape(-1), put(x), (9, 5), weights=put(weights).reshape(-1), slots=3).to_dense()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert got_sum.dtype == dtype and got_scatter.dtype == dtype
    np.testing.assert_allclose(jingu.cuda.as_numpy(got_sum), expected_sum, rtol=tol, atol=tol)
    np.testing.assert_allclose(jingu.cuda.as_numpy(got_scatter), expected_scatter, rtol=tol, atol=tol)


def test_bag_kernels_in_csr_layout(device: str, rng: np.random.Generator) -> None:
    """Bags of different sizes (one empty) given by row pointers: sum and scatter against a loop."""
    from jingu.kernels import bag_scatter, bag_sum

    weight = rng.normal(size=(6, 4))
    indptr = np.array([0, 2, 2, 5, 6])
    ids = rng.integers(0, 6, size=6)
    entry_weights = rng.normal(size=6)
    x = rng.normal(size=(4, 4))
    expected_sum, expected_scatter = np.zeros((4, 4)), np.zeros((6, 4))
    for b in range(4):
        for e in range(indptr[b], indptr[b + 1]):
            expected_sum[b] += entry_weights[e] * weight[ids[e]]
            expected_scatter[ids[e]] += -0.5 * entry_weights[e] * x[b]
    put = lambda a: jingu.cuda.to_device(a, device)  # noqa: E731
    got_sum = bag_sum(put(weight), put(ids), put(entry_weights), indptr=put(indptr))
    out = put(np.zeros((6, 4)))
    bag_scatter(out, put(ids), put(x), put(entry_weights), indptr=put(indptr), alpha=-0.5)
    np.testing.assert_allclose(jingu.cuda.as_numpy(got_sum), expected_sum, rtol=1e-12)
    np.testing.assert_allclose(jingu.cuda.as_numpy(out), expected_scatter, rtol=1e-12)


def test_rowsparse_coalesce_add_dense(device: str, rng: np.random.Generator) -> None:
    idx = jingu.cuda.to_device(np.array([3, 1, 3, 0, 1]), device)
    vals = jingu.cuda.to_device(rng.normal(size=(5, 2)), device)
    g = RowSparse(idx, vals, (5, 2))
    dense = _dense(g)
    expected = np.zeros((5, 2))
    np.add.at(expected, jingu.cuda.as_numpy(idx), jingu.cuda.as_numpy(vals))
    np.testing.assert_allclose(dense, expected)
    c = g.coalesce()
    np.testing.assert_array_equal(jingu.cuda.as_numpy(c.indices), [0, 1, 3])
    np.testing.assert_allclose(jingu.cuda.as_numpy(c.values), expected[[0, 1, 3]])
    both = g + g
    assert isinstance(both, RowSparse) and both.indices.shape[0] == 10
    np.testing.assert_allclose(_dense(both), 2 * expected)
    np.testing.assert_allclose(jingu.cuda.as_numpy(g + jingu.cuda.to_device(np.ones((5, 2)), device)), expected + 1)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("padding_idx", [None, 0])
def test_embedding_forward_and_grad(
    device: str, make: Any, rng: np.random.Generator, sparse: bool, padding_idx: Any
) -> None:
    w = make(rng.normal(size=(6, 3)), requires_grad=True)
    idx = np.array([[0, 2, 2], [5, 0, 2]])  # repeated rows and padding
    out = F.embedding(idx, w, padding_idx=padding_idx, sparse=sparse)
    np.testing.assert_allclose(out.numpy(), w.numpy()[idx])
    gy = rng.normal(size=out.shape)
    out.backward(jingu.cuda.to_device(gy, device))
    assert isinstance(w.grad, RowSparse) == sparse
    expected = np.zeros((6, 3))
    np.add.at(expected, idx, gy)
    if padding_idx is not None:
        expected[padding_idx] = 0
    np.testing.assert_allclose(_dense(w.grad), expected)


@pytest.mark.parametrize("sparse", [False, True])
def test_embedding_gradcheck(make: Any, rng: np.random.Generator, sparse: bool) -> None:
    w = make(rng.normal(size=(5, 3)), requires_grad=True)
    idx = np.array([[1, 1, 4], [0, 1, 3]])  # repeated rows
    # (the padding row is read but gets no gradient by design, so it is checked in the test above)
    assert gradcheck(lambda t: F.embedding(idx, t, sparse=sparse) * 2.0, [w])


def test_embedding_module_padding_and_sparse(device: str) -> None:
    jingu.manual_seed(0)
    emb = jingu.nn.Embedding(10, 4, padding_idx=0, sparse=True).to(device)
    assert np.all(emb.weight.numpy()[0] == 0)
    out = emb(np.array([0, 3, 3, 7]))
    out.sum().backward()
    g = emb.weight.grad
    assert isinstance(g, RowSparse)
    c = g.coalesce()
    np.testing.assert_array_equal(jingu.cuda.as_numpy(c.indices), [3, 7])
    np.testing.assert_allclose(jingu.cuda.as_numpy(c.values), [[2.0] * 4, [1.0] * 4])


def test_embedding_index_errors(make: Any) -> None:
    w = make(np.zeros((4, 2)), requires_grad=True)
    with pytest.raises(IndexError, match="4 rows"):
        F.embedding(np.array([1, 4]), w)
    with pytest.raises(TypeError, match="integers"):
        F.embedding(np.array([1.0]), w)


def test_from_pretrained_freezes(rng: np.random.Generator) -> None:
    table = rng.normal(size=(4, 3)).astype(np.float32)
    emb = jingu.nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad
    np.testing.assert_array_equal(emb(np.array([2])).numpy(), table[[2]])
    assert not emb(np.array([2])).requires_grad
    trainable = jingu.nn.Embedding.from_pretrained(table, freeze=False)
    assert trainable.weight.requires_grad
    table[0] = 99  # a copy was taken
    assert trainable.weight.numpy()[0, 0] != 99


@pytest.mark.parametrize("mode", ["mean", "sum"])
@pytest.mark.parametrize("padding_idx", [None, 0])
@pytest.mark.parametrize("sparse", [False, True])
def test_embedding_bag_2d(
    device: str, make: Any, rng: np.random.Generator, mode: str, padding_idx: Any, sparse: bool
) -> None:
    w_np = rng.normal(size=(7, 3))
    idx = np.array([[1, 2, 2, 0], [0, 0, 0, 0], [6, 5, 1, 1], [3, 0, 4, 4]])  # a bag of only padding
    w = make(w_np, requires_grad=True)
    out = F.embedding_bag(idx, w, mode=mode, padding_idx=padding_idx, sparse=sparse)
    np.testing.assert_allclose(out.numpy(), _bag_reference(idx, w_np, mode, padding_idx, None), rtol=1e-12)
    if padding_idx is not None:
        np.testing.assert_array_equal(out.numpy()[1], 0)
    assert gradcheck(lambda t: F.embedding_bag(idx, t, mode=mode, padding_idx=padding_idx, sparse=sparse), [w])
    w.grad = None
    out = F.embedding_bag(idx, w, mode=mode, padding_idx=padding_idx, sparse=sparse)
    out.sum().backward()
    if sparse:
        assert isinstance(w.grad, RowSparse)
        touched = sorted({int(i) for i in idx.ravel() if i != padding_idx})
        np.testing.assert_array_equal(jingu.cuda.as_numpy(w.grad.coalesce().indices), touched)
    if padding_idx is not None:
        np.testing.assert_array_equal(_dense(w.grad)[padding_idx], 0)


def test_embedding_bag_offsets_matches_2d(make: Any, rng: np.random.Generator) -> None:
    w_np = rng.normal(size=(6, 2))
    flat = np.array([1, 2, 3, 0, 5, 5, 4])
    offsets = np.array([0, 3, 3, 5])  # bags: [1,2,3], [], [0,5], [5,4]
    w = make(w_np, requires_grad=True)
    out = F.embedding_bag(flat, w, offsets=offsets, mode="mean", padding_idx=0)
    expected = np.stack([w_np[[1, 2, 3]].mean(0), np.zeros(2), w_np[5], w_np[[5, 4]].mean(0)])
    np.testing.assert_allclose(out.numpy(), expected)
    assert gradcheck(lambda t: F.embedding_bag(flat, t, offsets=offsets, mode="sum", padding_idx=0), [w])


def test_embedding_bag_per_sample_weights(make: Any, rng: np.random.Generator) -> None:
    w_np = rng.normal(size=(5, 3))
    idx = np.array([[1, 2, 0], [4, 4, 3]])
    psw_np = rng.uniform(0.5, 1.5, size=idx.shape)
    w, psw = make(w_np, requires_grad=True), make(psw_np, requires_grad=True)
    out = F.embedding_bag(idx, w, mode="sum", per_sample_weights=psw, padding_idx=0)
    np.testing.assert_allclose(out.numpy(), _bag_reference(idx, w_np, "sum", 0, psw_np))
    assert gradcheck(
        lambda a, b: F.embedding_bag(idx, a, mode="sum", per_sample_weights=b, padding_idx=0, sparse=True), [w, psw]
    )


def test_embedding_bag_module_and_errors(device: str) -> None:
    bag = jingu.nn.EmbeddingBag(5, 2, mode="sum", sparse=True).to(device)
    out = bag(np.array([[1, 2], [3, 3]]))
    assert out.shape == (2, 2)
    with pytest.raises(ValueError, match="offsets"):
        bag(np.array([1, 2]))
    with pytest.raises(ValueError, match="mode"):
        F.embedding_bag(np.array([[1]]), bag.weight, mode="max")
    with pytest.raises(ValueError, match="per_sample_weights needs mode='sum'"):
        F.embedding_bag(np.array([[1]]), bag.weight, mode="mean", per_sample_weights=np.ones((1, 1)))


def test_rowsparse_parts_behave_like_one_gradient(device: str, rng: np.random.Generator) -> None:
    to = lambda a: jingu.cuda.to_device(a, device)  # noqa: E731
    a = RowSparse(to(np.array([2, 0])), to(rng.normal(size=(2, 3))), (4, 3))
    b = RowSparse(to(np.array([0, 3, 0])), to(rng.normal(size=(3, 3))), (4, 3))
    total = a + b
    assert len(total) == 5
    expected = _dense(a) + _dense(b)
    np.testing.assert_allclose(_dense(total), expected)
    c = total.coalesce()
    np.testing.assert_array_equal(jingu.cuda.as_numpy(c.indices), [0, 2, 3])
    np.testing.assert_allclose(jingu.cuda.as_numpy(c.values), expected[[0, 2, 3]])
    np.testing.assert_allclose(_dense(total * 2.0), 2 * expected)
    np.testing.assert_array_equal(jingu.cuda.as_numpy(total.indices), [2, 0, 0, 3, 0])  # joined on demand
    assert total.values.shape == (5, 3)
    with pytest.raises(ValueError, match="shapes"):
        a + RowSparse(to(np.array([0])), to(np.ones((1, 3))), (5, 3))


def test_two_lookups_into_one_sparse_table_accumulate(device: str, rng: np.random.Generator) -> None:
    emb = jingu.nn.Embedding(6, 2, sparse=True, dtype=np.float64).to(device)
    (emb(np.array([1, 2])).sum() + 2 * emb(np.array([[2, 5]])).sum()).backward()
    g = emb.weight.grad.coalesce()
    np.testing.assert_array_equal(jingu.cuda.as_numpy(g.indices), [1, 2, 5])
    np.testing.assert_allclose(jingu.cuda.as_numpy(g.values), [[1, 1], [3, 3], [2, 2]])
    dense_too = emb(np.array([1])) * jingu.Tensor(np.ones(2), device=device)
    (emb.weight * 1.0).sum().backward()  # a dense gradient meets the sparse one: densified
    assert not isinstance(emb.weight.grad, RowSparse)
    assert dense_too.shape == (1, 2)


@pytest.mark.parametrize("num_rows", [10, 10_000_000])  # lookup table, and np.unique for huge tables
def test_unique_inverse_matches_np_unique(num_rows: int, rng: np.random.Generator) -> None:
    from jingu.sparse import unique_inverse

    rows = rng.integers(0, 10, size=40) * (num_rows // 10)
    uniq, inverse = unique_inverse(rows, num_rows)
    expected_uniq, expected_inverse = np.unique(rows, return_inverse=True)
    np.testing.assert_array_equal(uniq, expected_uniq)
    np.testing.assert_array_equal(inverse, expected_inverse.reshape(-1))


def test_rowsparse_product_parts_match_their_rows(device: str, rng: np.random.Generator) -> None:
    """Lazy parts (CSR layout, fixed slots) and a plain part: dense, coalesced, add_to, scaling, casts."""
    put = lambda a: jingu.cuda.to_device(a, device)  # noqa: E731
    x_csr, x_slot = rng.normal(size=(3, 4)), rng.normal(size=(2, 4))
    indptr = np.array([0, 2, 2, 5])  # example 1 has no entries
    ids_csr, w_csr = np.array([1, 6, 6, 0, 1]), rng.normal(size=5)
    ids_slot, w_slot = np.array([[2, 6, 6], [0, 3, 2]]), rng.normal(size=(2, 3))
    plain_ids, plain_values = np.array([5, 1]), rng.normal(size=(2, 4))
    expected = np.zeros((7, 4))
    for b in range(3):
        for k in range(indptr[b], indptr[b + 1]):
            expected[ids_csr[k]] += w_csr[k] * x_csr[b]
    for b in range(2):
        for s in range(3):
            expected[ids_slot[b, s]] += w_slot[b, s] * x_slot[b]
    np.add.at(expected, plain_ids, plain_values)

    g = (
        RowSparse.product(put(ids_csr), put(x_csr), (7, 4), weights=put(w_csr), indptr=put(indptr))
        + RowSparse.product(put(ids_slot.reshape(-1)), put(x_slot), (7, 4), weights=put(w_slot.reshape(-1)), slots=3)
        + RowSparse(put(plain_ids), put(plain_values), (7, 4))
    )
    assert len(g) == 5 + 6 + 2
    np.testing.assert_allclose(_dense(g), expected, rtol=1e-12)
    coal = g.coalesce()
    touched = sorted(set(ids_csr) | set(ids_slot.ravel()) | set(plain_ids))
    np.testing.assert_array_equal(jingu.cuda.as_numpy(coal.indices), touched)
    np.testing.assert_allclose(jingu.cuda.as_numpy(coal.values), expected[touched], rtol=1e-12)
    values_rows = np.zeros((7, 4))
    np.add.at(values_rows, jingu.cuda.as_numpy(g.indices), jingu.cuda.as_numpy(g.values))  # materialized rows
    np.testing.assert_allclose(values_rows, expected, rtol=1e-12)
    table = put(np.ones((7, 4)))
    g.add_to(table, -0.5)  # an SGD step of lr 0.5, in place
    np.testing.assert_allclose(jingu.cuda.as_numpy(table), 1.0 - 0.5 * expected, rtol=1e-12)
    np.testing.assert_allclose(_dense(g * 2.0), 2 * expected, rtol=1e-12)
    np.testing.assert_allclose(_dense(-g), -expected, rtol=1e-12)
    single = g.astype(np.float32)
    assert single.dtype == np.float32 and _dense(single).dtype == np.float32
    np.testing.assert_allclose(_dense(single), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jingu.cuda.as_numpy(g + put(np.ones((7, 4)))), 1 + expected, rtol=1e-12)
    if device == "cpu":
        np.testing.assert_allclose(np.ones((7, 4)) + g, 1 + expected, rtol=1e-12)  # NumPy defers to RowSparse


def test_rowsparse_product_rejects_inconsistent_parts() -> None:
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="do not fill 2 examples of 3 slots"):
        RowSparse.product(np.arange(5), x, (4, 3), slots=3)
    with pytest.raises(ValueError, match="weights"):
        RowSparse.product(np.arange(2), x, (4, 3), weights=np.ones(3))
    with pytest.raises(ValueError, match=r"x must be \(examples, 3\)"):
        RowSparse.product(np.arange(2), np.ones((2, 5)), (4, 3))
    with pytest.raises(TypeError, match="integers"):
        RowSparse(np.array([0.5]), np.ones((1, 3)), (4, 3))
    with pytest.raises(ValueError, match="C-contiguous"):
        RowSparse(np.array([1]), np.ones((1, 3)), (4, 3)).add_to(np.ones((3, 4)).T)
