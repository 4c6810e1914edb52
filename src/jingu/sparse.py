"""Row-sparse gradients and the fast scatter-add behind them.

An embedding lookup touches a few rows of a large table, so its gradient is kept as
``RowSparse(indices, values, shape)``: ``values[i]`` belongs to row ``indices[i]``; rows may repeat
(their values add up). Scatter-adds never use ``np.add.at`` (about 800 ns per index here): on the CPU
they are a one-nonzero-per-column sparse matrix times the values (about 60 ns per index), on the GPU
``cupy.add.at`` (one atomic scatter kernel; ``cupyx.scatter_add`` is deprecated).
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
    out = xp.zeros((num_rows, flat.shape[1]), dtype=flat.dtype)
    xp.add.at(out, indices, flat)  # CuPy: an atomic scatter kernel (NumPy's add.at is never used)
    return out.reshape((num_rows, *tail))


def unique_inverse(rows: Any, num_rows: int) -> tuple[Any, Any]:
    """Sorted unique ``rows`` and, per entry, the position of its row among them.

    On the CPU a lookup table over the ``num_rows`` rows (O(rows + n)) replaces ``np.unique``'s sort
    when the table is not much larger than the batch.
    """
    xp = cuda.get_array_module(rows)
    rows = rows.reshape(-1)
    if xp is not np or num_rows > 64 * rows.shape[0] + 65_536:
        uniq, inverse = xp.unique(rows, return_inverse=True)
        return uniq, inverse.reshape(-1)
    seen = np.zeros(num_rows, dtype=bool)
    seen[rows] = True
    uniq = np.flatnonzero(seen)
    lookup = np.empty(num_rows, dtype=np.int64)
    lookup[uniq] = np.arange(uniq.shape[0])
    return uniq, lookup[rows]


def _scatter_parts(parts: list[tuple[Any, Any]], rows_of: list[Any], num_rows: int) -> Any:
    """Sum the scatter-adds of several (indices, values) parts into one dense array."""
    out = None
    for (_, values), rows in zip(parts, rows_of):
        term = scatter_add_rows(rows, values, num_rows)
        if out is None:
            out = term
        else:
            out += term
    return out


class RowSparse:
    """A gradient for a ``shape`` table that is zero except for the rows in ``indices``.

    Accumulation (``a + b``) only lists the parts; they are joined lazily, so adding the gradients of
    two lookups into the same table copies nothing.
    """

    __slots__ = ("_parts", "shape", "_coalesced")
    is_sparse = True

    def __init__(self, indices: Any, values: Any, shape: tuple[int, ...], coalesced: bool = False) -> None:
        xp = cuda.get_array_module(indices, values)
        indices = xp.asarray(indices).reshape(-1).astype(xp.int64, copy=False)
        shape = tuple(int(s) for s in shape)
        n = indices.shape[0]
        values = values.reshape((n, *shape[1:]))
        self._parts = [(indices, values)]
        self.shape = shape
        self._coalesced = coalesced

    @classmethod
    def _from_parts(cls, parts: list[tuple[Any, Any]], shape: tuple[int, ...]) -> "RowSparse":
        out = object.__new__(cls)
        out._parts = parts
        out.shape = shape
        out._coalesced = False
        return out

    def _joined(self) -> tuple[Any, Any]:
        if len(self._parts) > 1:
            xp = cuda.get_array_module(self._parts[0][1])
            self._parts = [(xp.concatenate([i for i, _ in self._parts]), xp.concatenate([v for _, v in self._parts]))]
        return self._parts[0]

    @property
    def indices(self) -> Any:
        """Row of each value (1-D int64; rows may repeat)."""
        return self._joined()[0]

    @property
    def values(self) -> Any:
        """One row of values per index, shape ``(len(indices), *shape[1:])``."""
        return self._joined()[1]

    @property
    def dtype(self) -> Any:
        return self._parts[0][1].dtype

    @property
    def device(self) -> str:
        return cuda.device_of(self._parts[0][1])

    @property
    def data(self) -> Any:
        """The dense array (for code that treats every gradient as a Tensor)."""
        return self.to_dense()

    def coalesce(self) -> "RowSparse":
        """Unique, sorted rows with their values summed."""
        if self._coalesced:
            return self
        xp = cuda.get_array_module(self._parts[0][1])
        all_rows = xp.concatenate([i for i, _ in self._parts]) if len(self._parts) > 1 else self._parts[0][0]
        uniq, inverse = unique_inverse(all_rows, self.shape[0])
        bounds = [0]
        for i, _ in self._parts:
            bounds.append(bounds[-1] + i.shape[0])
        rows_of = [inverse[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        summed = _scatter_parts(self._parts, rows_of, int(uniq.shape[0]))
        return RowSparse(uniq, summed, self.shape, coalesced=True)

    def to_dense(self) -> Any:
        """The full ``shape`` array (rows not listed are zero)."""
        return _scatter_parts(self._parts, [i for i, _ in self._parts], self.shape[0])

    def to(self, device: Any) -> "RowSparse":
        parts = [(cuda.to_device(i, device), cuda.to_device(v, device)) for i, v in self._parts]
        out = RowSparse._from_parts(parts, self.shape)
        out._coalesced = self._coalesced
        return out

    def __add__(self, other: Any) -> Any:
        """Sparse + sparse lists both (cheap accumulation); sparse + dense gives dense."""
        if isinstance(other, RowSparse):
            if other.shape != self.shape:
                raise ValueError(f"cannot add RowSparse of shapes {self.shape} and {other.shape}")
            return RowSparse._from_parts(self._parts + other._parts, self.shape)
        return add_into_dense(other, self)

    __radd__ = __add__

    def __mul__(self, scalar: float) -> "RowSparse":
        out = RowSparse._from_parts([(i, v * scalar) for i, v in self._parts], self.shape)
        out._coalesced = self._coalesced
        return out

    __rmul__ = __mul__

    def __neg__(self) -> "RowSparse":
        return self * -1

    def __len__(self) -> int:
        return sum(int(i.shape[0]) for i, _ in self._parts)

    def __repr__(self) -> str:
        return f"RowSparse(rows={len(self)}, shape={self.shape}, dtype={self.dtype})"


def add_into_dense(dense: Any, sparse: RowSparse) -> Any:
    """Return ``dense + sparse`` as a new dense array (``dense`` is not modified)."""
    if tuple(dense.shape) != sparse.shape:
        raise ValueError(f"cannot add RowSparse of shape {sparse.shape} to an array of shape {tuple(dense.shape)}")
    coal = sparse.coalesce()
    out = dense.copy()
    out[coal.indices] += coal.values
    return out
