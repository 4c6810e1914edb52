"""Embedding lookups: ``embedding`` (rows of a weight matrix) and ``embedding_bag`` (sums/means of rows).

Their weight gradient is a ``RowSparse`` when ``sparse=True`` (only the touched rows), else a dense
array built with one scatter-add. ``embedding_bag``'s forward and backward are one bag kernel each
(``jingu.kernels``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from jingu import cuda, kernels
from jingu.autograd import Function
from jingu.cuda import get_array_module
from jingu.sparse import RowSparse, scatter_add_rows


def _check_indices(indices: Any, num_rows: int, what: str) -> None:
    """Raise unless ``indices`` are integers in ``[0, num_rows)``; the range of indices on a GPU is
    checked only with ``jingu.cuda.check_device_indices`` (why: see there), else an out-of-range one
    wraps around, as in ``cupy.take``."""
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{what}: indices must be integers, got dtype {indices.dtype}")
    if not indices.size or not (get_array_module(indices) is np or cuda.check_device_indices):
        return
    low, high = int(indices.min()), int(indices.max())
    if low < 0 or high >= num_rows:
        raise IndexError(
            f"{what}: index out of range: indices span [{low}, {high}] but the weight has {num_rows} rows"
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


class BagLayout(NamedTuple):
    """One embedding bag's arguments to the bag kernels (the layout is defined in ``jingu.kernels``)."""

    ids: Any
    weights: Any
    indptr: Any
    slots: int


def bag_layout(indices: Any, offsets: Any, mode: str, padding_idx: Any, per_sample_weights: Any, dtype: Any) -> BagLayout:
    """The entries of each bag, the mean's 1/count and the per-sample weights folded into one weight.

    On NumPy, padding entries are dropped (a CSR layout: fewer rows to read). On a GPU they stay,
    weighted zero, so that no mask has to be read back to the host; the kernels skip them.
    """
    xp = get_array_module(indices)
    flat = indices.reshape(-1)
    if indices.ndim == 2:
        n_bags, slots = indices.shape
        indptr = None
    else:
        n_bags, slots = offsets.shape[0], 1
        indptr = xp.concatenate([offsets, xp.asarray([flat.shape[0]], dtype=offsets.dtype)])
    weights = None if per_sample_weights is None else per_sample_weights.reshape(-1).astype(dtype, copy=False)
    keep = None if padding_idx is None else flat != padding_idx
    if keep is not None and xp is np:  # CSR without the padding entries
        index = np.int32 if flat.shape[0] < 2**31 else np.int64
        kept_before = np.zeros(flat.shape[0] + 1, dtype=index)  # kept entries before each entry
        np.cumsum(keep, dtype=index, out=kept_before[1:])
        starts = np.arange(n_bags + 1) * slots if indptr is None else indptr  # each bag's first entry
        indptr = np.take(kept_before, starts)
        counts = np.diff(indptr)
        flat = np.compress(keep, flat)  # faster than flat[keep]
        weights = None if weights is None else np.compress(keep, weights)
        if mode == "mean":  # one repeat is cheaper than a per-entry gather here
            inv = np.repeat((1.0 / np.maximum(counts, 1)).astype(dtype), counts)
            weights = inv if weights is None else weights * inv
        return BagLayout(flat, weights, indptr, 1)
    counts = None  # entries per bag that count for the mean; None: all `slots` of every bag
    if keep is not None:
        if indptr is None:
            counts = xp.count_nonzero(keep.reshape(n_bags, slots), axis=1)
        else:
            kept_before = xp.concatenate([xp.zeros(1, dtype=xp.int64), xp.cumsum(keep, dtype=xp.int64)])
            counts = kept_before[indptr[1:]] - kept_before[indptr[:-1]]
    elif indptr is not None:
        counts = xp.diff(indptr)
    if keep is not None:  # padding on a GPU: weight zero
        weights = keep.astype(dtype) if weights is None else weights * keep
    if mode == "mean":
        if counts is None:
            inv = xp.full(flat.shape[0], 1.0 / max(slots, 1), dtype=dtype)
        else:
            per_bag = (1.0 / xp.maximum(counts, 1)).astype(dtype)
            inv = per_bag[kernels.bag_of_entries(flat.shape[0], indptr, slots, xp)]
        weights = inv if weights is None else weights * inv
    return BagLayout(flat, weights, indptr, slots)


class EmbeddingBag(Function):
    """Sums or means of rows of ``weight`` per bag; inputs ``(weight, per_sample_weights or None)``.

    Forward is one ``kernels.bag_sum``; the weight's gradient is a lazy ``RowSparse.product``, made
    dense unless ``sparse``.
    """

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
        layout = bag_layout(indices, offsets, mode, padding_idx, per_sample_weights, weight.dtype)
        self.meta = (layout, weight if self.needs_input_grad[1] else None, weight.shape, indices, offsets,
                     padding_idx, sparse)
        return kernels.bag_sum(weight, layout.ids, layout.weights, layout.indptr, layout.slots)

    def backward(self, gy: Any) -> Any:
        layout, weight, shape, indices, offsets, padding_idx, sparse = self.meta
        xp = get_array_module(gy)
        gw = gpsw = None
        if self.needs_input_grad[0]:
            gw = RowSparse.product(layout.ids, gy, shape, weights=layout.weights, slots=layout.slots,
                                   indptr=layout.indptr)
            if not sparse:
                gw = gw.to_dense()
        if self.needs_input_grad[1]:  # d bag / d per_sample_weights[e] = weight[indices[e]] (mode sum)
            flat = indices.reshape(-1)
            if indices.ndim == 2:
                bag_of = kernels.bag_of_entries(flat.shape[0], None, max(indices.shape[1], 1), xp)
            else:
                indptr = xp.concatenate([offsets, xp.asarray([flat.shape[0]], dtype=offsets.dtype)])
                bag_of = kernels.bag_of_entries(flat.shape[0], indptr, 1, xp)
            gpsw = (weight[flat] * gy[bag_of]).sum(axis=1)
            if padding_idx is not None:
                gpsw = gpsw * (flat != padding_idx)
            gpsw = gpsw.reshape(indices.shape)
        return gw, gpsw
