"""Embedding lookups: ``embedding`` (rows of a table) and ``embedding_bag`` (sums/means of rows).

Their weight gradient is a ``RowSparse`` when ``sparse=True`` (only the touched rows), else a dense
table built with a sparse-matrix scatter-add. ``embedding_bag`` is one CSR (batch x vocab) matrix
times the table, so forward and backward are single sparse products.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jingu import cuda
from jingu.autograd import Function
from jingu.cuda import get_array_module, get_sparse_module
from jingu.sparse import RowSparse, scatter_add_rows


def _check_indices(indices: Any, num_rows: int, what: str) -> None:
    """Raise unless ``indices`` are integers in ``[0, num_rows)``.

    The range check reads the indices on the host, so it runs only where that costs nothing: on
    NumPy arrays (host indices are checked before they are copied to the GPU). On indices already on
    a GPU it would force a device->host sync per lookup, so it is skipped there (an out-of-range
    index then wraps around, as in ``cupy.take``) unless ``jingu.cuda.check_device_indices`` is True.
    """
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{what}: indices must be integers, got dtype {indices.dtype}")
    if not indices.size or not (get_array_module(indices) is np or cuda.check_device_indices):
        return
    low, high = int(indices.min()), int(indices.max())
    if low < 0 or high >= num_rows:
        raise IndexError(
            f"{what}: index out of range: indices span [{low}, {high}] but the table has {num_rows} rows"
        )


class Embedding(Function):
    """``weight[indices]``; the padding row gets no gradient."""

    def forward(self, weight: Any, indices: Any = None, padding_idx: Any = None, sparse: bool = False) -> Any:
        self.meta = (weight.shape, indices, padding_idx, sparse)
        return get_array_module(weight).take(weight, indices, axis=0)  # faster than weight[indices]

    def backward(self, gy: Any) -> Any:
        shape, indices, padding_idx, sparse = self.meta
        flat_idx = indices.reshape(-1)
        values = gy.reshape(flat_idx.shape[0], *shape[1:])
        if padding_idx is not None:
            keep = flat_idx != padding_idx
            flat_idx, values = flat_idx[keep], values[keep]
        if sparse:
            return RowSparse(flat_idx, values, shape)
        return scatter_add_rows(flat_idx, values, shape[0])


def bag_matrix(
    indices: Any,
    num_rows: int,
    offsets: Any = None,
    mode: str = "mean",
    padding_idx: Any = None,
    per_sample_weights: Any = None,
    dtype: Any = np.float32,
) -> Any:
    """The CSR (bags x num_rows) matrix A with ``A @ weight`` = the bag sums or means."""
    xp = get_array_module(indices)
    sp = get_sparse_module(xp)
    if indices.ndim == 2:
        n_bags, width = indices.shape
        cols = indices.reshape(-1)
        indptr = xp.arange(0, n_bags * width + 1, max(width, 1), dtype=xp.int64)
        if width == 0:
            indptr = xp.zeros(n_bags + 1, dtype=xp.int64)
    else:
        cols = indices
        offsets = xp.asarray(offsets, dtype=xp.int64)
        indptr = xp.concatenate([offsets, xp.asarray([cols.shape[0]], dtype=xp.int64)])
        n_bags = offsets.shape[0]
    data = (
        xp.ones(cols.shape[0], dtype=dtype)
        if per_sample_weights is None
        else per_sample_weights.reshape(-1).astype(dtype, copy=True)
    )
    if padding_idx is not None:
        keep = cols != padding_idx
        cum = xp.concatenate([xp.zeros(1, dtype=xp.int64), xp.cumsum(keep, dtype=xp.int64)])
        indptr = cum[indptr]
        cols, data = cols[keep], data[keep]
    if mode == "mean":
        counts = xp.diff(indptr)
        scale = 1.0 / xp.maximum(counts, 1).astype(dtype)
        data = data * scale[bag_of_entries(indptr, cols.shape[0])]
    index_dtype = xp.int32 if cols.shape[0] < 2**31 - 1 else xp.int64
    return sp.csr_matrix((data, cols.astype(index_dtype), indptr.astype(index_dtype)), shape=(n_bags, num_rows))


def bag_of_entries(indptr: Any, nnz: int) -> Any:
    """For each of ``nnz`` entries, the bag (row) it falls in, given CSR row pointers."""
    xp = get_array_module(indptr)
    return xp.searchsorted(indptr, xp.arange(nnz), side="right") - 1


class EmbeddingBag(Function):
    """Bag reductions of table rows; inputs ``(weight, per_sample_weights or None)``."""

    def forward(
        self,
        weight: Any,
        per_sample_weights: Any = None,
        indices: Any = None,
        offsets: Any = None,
        mode: str = "mean",
        padding_idx: Any = None,
        sparse: bool = False,
    ) -> Any:
        mat = bag_matrix(indices, weight.shape[0], offsets, mode, padding_idx, per_sample_weights, weight.dtype)
        self.meta = (mat, weight, indices, offsets, padding_idx, sparse)
        out = mat @ weight
        return out if isinstance(out, type(weight)) else get_array_module(weight).asarray(out)

    def backward(self, gy: Any) -> Any:
        mat, weight, indices, offsets, padding_idx, sparse = self.meta
        xp = get_array_module(gy)
        gw = gpsw = None
        if self.needs_input_grad[0]:
            if sparse:  # lazy: the optimizer scatters it (SGD straight into the table)
                gw = RowSparse.product(mat.indices, gy, weight.shape, weights=mat.data, indptr=mat.indptr)
            else:
                gw = mat.T @ gy
        if self.needs_input_grad[1]:
            flat = indices.reshape(-1)
            if indices.ndim == 2:
                bag_of = xp.arange(flat.shape[0]) // max(indices.shape[1], 1)
            else:
                indptr = xp.concatenate([xp.asarray(offsets, dtype=xp.int64), xp.asarray([flat.shape[0]])])
                bag_of = bag_of_entries(indptr, flat.shape[0])
            gpsw = (weight[flat] * gy[bag_of]).sum(axis=1)
            if padding_idx is not None:
                gpsw = gpsw * (flat != padding_idx)
            gpsw = gpsw.reshape(indices.shape)
        return gw, gpsw
