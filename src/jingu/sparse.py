"""Row-sparse gradients and the fast scatter-add behind them.

An embedding lookup touches a few rows of a large table, so its gradient is kept as
``RowSparse(indices, values, shape)``: ``values[i]`` belongs to row ``indices[i]``; rows may repeat
(their values add up). Scatter-adds never use ``np.add.at`` (about 800 ns per index here): on the CPU
they are a one-nonzero-per-column sparse matrix times the values (about 60 ns per index), on the GPU
``cupyx.scatter_add``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jingu import cuda


def scatter_add_rows(indices: Any, values: Any, num_rows: int) -> Any:
    """Dense ``(num_rows, *tail)`` array with ``values[i]`` added into row ``indices[i]``.

    ``values.shape`` is ``indices.shape + tail``; rows may repeat.
    """
    xp = cuda.get_array_module(values)
    tail = values.shape[indices.ndim :]
    indices = indices.reshape(-1)
    n = indices.shape[0]
    flat = values.reshape(n, -1)
    if xp is np:
        import scipy.sparse  # noqa: PLC0415

        ones = np.ones(n, dtype=flat.dtype)
        mat = scipy.sparse.csc_matrix(
            (ones, indices.astype(np.int64, copy=False), np.arange(n + 1)),
            shape=(num_rows, n),
        )
        out = mat @ np.ascontiguousarray(flat)
        return np.asarray(out).reshape((num_rows, *tail))
    import cupyx  # noqa: PLC0415

    out = xp.zeros((num_rows, flat.shape[1]), dtype=flat.dtype)
    cupyx.scatter_add(out, indices, flat)
    return out.reshape((num_rows, *tail))


def unique_rows(indices: Any, values: Any, num_rows: int) -> tuple[Any, Any]:
    """Sum the values of repeated rows: return (sorted unique indices, their summed values)."""
    xp = cuda.get_array_module(indices, values)
    uniq, inverse = xp.unique(indices, return_inverse=True)
    summed = scatter_add_rows(inverse.reshape(-1), values, int(uniq.shape[0]))
    return uniq, summed


class RowSparse:
    """A gradient for a ``shape`` table that is zero except for the rows in ``indices``."""

    __slots__ = ("indices", "values", "shape", "_coalesced")
    is_sparse = True

    def __init__(self, indices: Any, values: Any, shape: tuple[int, ...], coalesced: bool = False) -> None:
        xp = cuda.get_array_module(indices, values)
        indices = xp.asarray(indices).reshape(-1).astype(xp.int64, copy=False)
        shape = tuple(int(s) for s in shape)
        n = indices.shape[0]
        values = values.reshape((n, *shape[1:]))
        self.indices = indices
        self.values = values
        self.shape = shape
        self._coalesced = coalesced

    @property
    def dtype(self) -> Any:
        return self.values.dtype

    @property
    def device(self) -> str:
        return cuda.device_of(self.values)

    @property
    def data(self) -> Any:
        """The dense array (for code that treats every gradient as a Tensor)."""
        return self.to_dense()

    def coalesce(self) -> "RowSparse":
        """Unique, sorted rows with their values summed."""
        if self._coalesced:
            return self
        uniq, summed = unique_rows(self.indices, self.values, self.shape[0])
        return RowSparse(uniq, summed, self.shape, coalesced=True)

    def to_dense(self) -> Any:
        """The full ``shape`` array (rows not listed are zero)."""
        return scatter_add_rows(self.indices, self.values, self.shape[0])

    def to(self, device: Any) -> "RowSparse":
        return RowSparse(
            cuda.to_device(self.indices, device), cuda.to_device(self.values, device), self.shape, self._coalesced
        )

    def __add__(self, other: Any) -> Any:
        """Sparse + sparse concatenates (cheap accumulation); sparse + dense gives dense."""
        if isinstance(other, RowSparse):
            if other.shape != self.shape:
                raise ValueError(f"cannot add RowSparse of shapes {self.shape} and {other.shape}")
            xp = cuda.get_array_module(self.values)
            return RowSparse(
                xp.concatenate([self.indices, other.indices]),
                xp.concatenate([self.values, other.values]),
                self.shape,
            )
        return add_into_dense(other, self)

    __radd__ = __add__

    def __mul__(self, scalar: float) -> "RowSparse":
        return RowSparse(self.indices, self.values * scalar, self.shape, self._coalesced)

    __rmul__ = __mul__

    def __neg__(self) -> "RowSparse":
        return self * -1

    def __repr__(self) -> str:
        return f"RowSparse(rows={self.indices.shape[0]}, shape={self.shape}, dtype={self.dtype})"


def add_into_dense(dense: Any, sparse: RowSparse) -> Any:
    """Return ``dense + sparse`` as a new dense array (``dense`` is not modified)."""
    if tuple(dense.shape) != sparse.shape:
        raise ValueError(f"cannot add RowSparse of shape {sparse.shape} to an array of shape {tuple(dense.shape)}")
    coal = sparse.coalesce()
    out = dense.copy()
    out[coal.indices] += coal.values
    return out
