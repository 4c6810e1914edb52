"""Bag kernels on CuPy arrays: one elementwise kernel each (PyTorch's embedding_bag with per-sample
weights), no ``(entries, d)`` temporary, no sort and no host sync.

The kernels handle the fixed-slots layout (entry e in bag e / S). Zero weights are skipped, so
padding slots weighted zero cost no memory traffic and no atomics on the padding row. The CSR
layout, other dtypes, and a kernel CuPy cannot build fall back to ``cupyx.scipy.sparse`` products
and ``add.at``.
"""

from __future__ import annotations

from typing import Any

from jingu import cuda

# y[b, j] = sum over the entries e of bag b of weights[e] * weight[ids[e], j].
_BAG_SUM = (
    "raw T weight, raw I ids, raw T weights, int64 slots, int64 dim",
    "T y",
    """
    const long long b = i / dim, j = i - b * dim;
    T acc = 0;
    for (long long e = b * slots; e < (b + 1) * slots; ++e) {
        const T we = weights[e];
        if (we != (T)0) acc += we * weight[(long long)ids[e] * dim + j];
    }
    y = acc;
    """,
)
# out[ids[e], j] += alpha * weights[e] * x[e / slots, j]; `weights` is not read when `weighted` is 0.
_BAG_SCATTER = (
    "raw I ids, raw T weights, raw T x, int64 slots, int64 dim, int32 weighted, float64 alpha",
    "raw T out",
    """
    const long long e = i / dim;  // the entry; i and n are CuPy's names
    const T we = (T)alpha * (weighted ? weights[e] : (T)1);
    if (we != (T)0) {
        const long long j = i - e * dim;
        atomicAdd(&out[(long long)ids[e] * dim + j], we * x[(e / slots) * dim + j]);
    }
    """,
)


def _contiguous(a: Any) -> Any:
    return a if a.flags.c_contiguous else cuda.get_array_module(a).ascontiguousarray(a)


def bag_sum(weight: Any, ids: Any, weights: Any, indptr: Any, slots: int) -> Any:
    xp = cuda.get_array_module(weight)
    n_entries, dim = ids.shape[0], weight.shape[1]
    if weights is None:
        weights = xp.ones(n_entries, dtype=weight.dtype)
    if indptr is None:
        bags = n_entries // slots
        if weight.dtype.char in "fd" and weights.dtype == weight.dtype:
            out = xp.empty((bags, dim), dtype=weight.dtype)
            args = (_contiguous(weight), _contiguous(ids), _contiguous(weights), slots, dim, out)
            if cuda.run_kernel("bag_sum", _BAG_SUM, *args) is not None:
                return out
        rows = xp.take(weight, ids.reshape(bags, slots), axis=0)
        return xp.matmul(weights.reshape(bags, 1, slots), rows)[:, 0]
    sp = cuda.get_sparse_module(xp)
    return xp.asarray(sp.csr_matrix((weights, ids, indptr), shape=(indptr.shape[0] - 1, weight.shape[0])) @ weight)


def bag_scatter(out: Any, rows: Any, x: Any, weights: Any, indptr: Any, slots: int, alpha: float) -> None:
    from jingu.kernels import bag_of_entries  # noqa: PLC0415  (the package imports this module)

    xp = cuda.get_array_module(out)
    n_entries, dim = rows.shape[0], out.shape[1]
    weights_ok = weights is None or weights.dtype == out.dtype
    if indptr is None and out.dtype.char in "fd" and x.dtype == out.dtype and weights_ok:
        x = _contiguous(x)
        w = x if weights is None else _contiguous(weights)  # unread when unweighted
        args = (_contiguous(rows), w, x, slots, dim, int(weights is not None), float(alpha), out)
        if cuda.run_kernel("bag_scatter", _BAG_SCATTER, *args, size=n_entries * dim) is not None:
            return
    values = x if indptr is None and slots == 1 else x[bag_of_entries(n_entries, indptr, slots, xp)]
    if weights is not None:
        values = values * weights[:, None]
    xp.add.at(out, rows, values * alpha if alpha != 1 else values)  # CuPy: an atomic scatter kernel
