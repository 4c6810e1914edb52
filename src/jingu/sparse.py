"""Row-sparse gradients and the fast scatter-adds behind them.

An embedding lookup touches a few rows of a large weight matrix, so its gradient is kept as a
``RowSparse``: a list of row contributions, added up only when something needs them. Each part is
one bag layout (``jingu.kernels`` defines it) read backwards: entry k adds ``weights[k] * x[b]`` to
row ``ids[k]``, b the bag of entry k. ``RowSparse(indices, values, shape)`` is the plain case (one
entry per value row, weight 1); an embedding bag's gradient is the general case, with no
``(entries, dim)`` temporary.

Every scatter is ``jingu.kernels.bag_scatter`` (SciPy's compiled CSC kernel on the CPU, an
atomic CuPy kernel on a GPU), accumulated into a destination that may be the parameter itself:
``add_to(weight, -lr)`` is a whole SGD step, with no unique rows, gather or write-back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jingu import cuda, kernels


class _Part:
    """One contribution of a ``RowSparse`` (see the module docstring)."""

    __slots__ = ("ids", "x", "weights", "slots", "indptr")

    def __init__(self, ids: Any, x: Any, weights: Any = None, slots: int = 1, indptr: Any = None) -> None:
        self.ids, self.x, self.weights, self.slots, self.indptr = ids, x, weights, slots, indptr

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def plain(self) -> bool:
        """True when ``x`` holds one row per entry, weight 1 (``x`` is then the values)."""
        return self.weights is None and self.slots == 1 and self.indptr is None

    def values(self) -> Any:
        """The ``(entries, width)`` rows this part adds (materialized)."""
        if self.indptr is None and self.slots == 1:
            rows = self.x
        else:
            rows = self.x[kernels.bag_of_entries(len(self), self.indptr, self.slots, cuda.get_array_module(self.x))]
        return rows if self.weights is None else rows * self.weights[:, None]

    def scatter(self, out: Any, rows: Any, alpha: float = 1.0) -> None:
        """``kernels.bag_scatter`` of this part into ``out`` at ``rows`` (which may repeat), in place."""
        kernels.bag_scatter(out, rows, self.x, self.weights, self.indptr, self.slots, alpha)

    def map(self, fn: Any) -> "_Part":
        """The same part with ``fn`` applied to each of its arrays (device moves, dtype casts)."""
        conv = lambda a: None if a is None else fn(a)  # noqa: E731
        return _Part(conv(self.ids), conv(self.x), conv(self.weights), self.slots, conv(self.indptr))


def scatter_add_rows(indices: Any, values: Any, num_rows: int) -> Any:
    """Dense ``(num_rows, *tail)`` array with ``values[i]`` added into row ``indices[i]``.

    ``values.shape`` is ``indices.shape + tail``; rows may repeat.
    """
    xp = cuda.get_array_module(values)
    tail = values.shape[indices.ndim :]
    indices = indices.reshape(-1)
    flat = values.reshape(indices.shape[0], -1)
    out = xp.zeros((num_rows, flat.shape[1]), dtype=flat.dtype)
    _Part(indices, flat).scatter(out, indices)
    return out.reshape((num_rows, *tail))


def unique_inverse(rows: Any, num_rows: int) -> tuple[Any, Any]:
    """Sorted unique ``rows`` and, per entry, the position of its row among them.

    On the CPU a position lookup over the ``num_rows`` rows (O(rows + n)) replaces ``np.unique``'s
    sort when ``num_rows`` is not much larger than the batch.
    """
    xp = cuda.get_array_module(rows)
    rows = rows.reshape(-1)
    if xp is not np or num_rows > 64 * rows.shape[0] + 65_536:
        uniq, inverse = xp.unique(rows, return_inverse=True)
        return uniq, inverse.reshape(-1)
    seen = np.zeros(num_rows, dtype=bool)
    seen[rows] = True
    uniq = np.flatnonzero(seen)
    # int32 positions when they fit: the scatter kernels take int32 indices, so no cast follows
    lookup = np.empty(num_rows, dtype=np.int32 if num_rows < 2**31 else np.int64)
    lookup[uniq] = np.arange(uniq.shape[0])
    return uniq, np.take(lookup, rows)


class RowSparse:
    """A gradient for a ``shape`` array that is zero except for some rows, kept as lazy parts.

    ``RowSparse(indices, values, shape)``: ``values[i]`` is added to row ``indices[i]`` (rows may
    repeat). ``RowSparse.product(...)`` holds an embedding bag's gradient without building its
    rows. Adding two gradients lists their parts (no copy); ``coalesce``, ``to_dense``,
    ``indices``/``values`` and ``add_to`` do the arithmetic.
    """

    __slots__ = ("_parts", "shape", "_coalesced")
    is_sparse = True
    __array_ufunc__ = None  # `ndarray + RowSparse` calls our __radd__ instead of adding per element

    def __init__(self, indices: Any, values: Any, shape: tuple[int, ...], coalesced: bool = False) -> None:
        xp = cuda.get_array_module(indices, values)
        indices = xp.asarray(indices).reshape(-1)
        if indices.dtype.kind not in "iu":
            raise TypeError(f"RowSparse indices must be integers, got dtype {indices.dtype}")
        shape = tuple(int(s) for s in shape)
        n = indices.shape[0]
        values = values.reshape(n, -1)
        self._parts = [_Part(indices, values)]
        self.shape = shape
        self._coalesced = coalesced

    @classmethod
    def product(
        cls, ids: Any, x: Any, shape: tuple[int, ...], weights: Any = None, slots: int = 1, indptr: Any = None
    ) -> "RowSparse":
        """The gradient of ``kernels.bag_sum`` for the output gradient ``x``, kept lazy (``ids`` and
        ``weights`` flat)."""
        shape = tuple(int(s) for s in shape)
        if x.ndim != 2 or x.shape[1] != int(np.prod(shape[1:])):
            raise ValueError(f"x must be (examples, {int(np.prod(shape[1:]))}), got {x.shape}")
        n_examples = x.shape[0] if indptr is None else indptr.shape[0] - 1
        if indptr is None and ids.shape[0] != n_examples * slots:
            raise ValueError(f"{ids.shape[0]} ids do not fill {n_examples} examples of {slots} slots")
        if weights is not None and weights.shape != ids.shape:
            raise ValueError(f"weights {weights.shape} and ids {ids.shape} differ")
        return cls._from_parts([_Part(ids.reshape(-1), x, weights, slots, indptr)], shape)

    @classmethod
    def _from_parts(cls, parts: list[_Part], shape: tuple[int, ...]) -> "RowSparse":
        out = object.__new__(cls)
        out._parts = parts
        out.shape = shape
        out._coalesced = False
        return out

    @property
    def _xp(self) -> Any:
        return cuda.get_array_module(self._parts[0].x)

    def _width(self) -> int:
        return int(np.prod(self.shape[1:]))

    def _joined(self) -> tuple[Any, Any]:
        """All parts as one plain part: (indices, values)."""
        if len(self._parts) > 1 or not self._parts[0].plain:
            xp = self._xp
            ids = [p.ids for p in self._parts]
            values = [p.values() for p in self._parts]
            joined = _Part(xp.concatenate(ids) if len(ids) > 1 else ids[0],
                           xp.concatenate(values) if len(values) > 1 else values[0])
            self._parts = [joined]
        part = self._parts[0]
        return part.ids, part.x.reshape((len(part), *self.shape[1:]))

    @property
    def indices(self) -> Any:
        """Row of each value (1-D; rows may repeat unless coalesced)."""
        return self._joined()[0]

    @property
    def values(self) -> Any:
        """One row of values per index, shape ``(len(indices), *shape[1:])``."""
        return self._joined()[1]

    @property
    def dtype(self) -> Any:
        return self._parts[0].x.dtype

    @property
    def device(self) -> str:
        return cuda.device_of(self._parts[0].x)

    @property
    def data(self) -> Any:
        """The dense array (for code that treats every gradient as a Tensor)."""
        return self.to_dense()

    def coalesce(self) -> "RowSparse":
        """Unique, sorted rows with their values summed."""
        if self._coalesced:
            return self
        xp = self._xp
        all_rows = xp.concatenate([p.ids for p in self._parts]) if len(self._parts) > 1 else self._parts[0].ids
        uniq, inverse = unique_inverse(all_rows, self.shape[0])
        summed = xp.zeros((uniq.shape[0], self._width()), dtype=self.dtype)
        start = 0
        for part in self._parts:
            part.scatter(summed, inverse[start : start + len(part)])
            start += len(part)
        return RowSparse(uniq, summed.reshape((uniq.shape[0], *self.shape[1:])), self.shape, coalesced=True)

    def add_to(self, dense: Any, alpha: float = 1.0) -> None:
        """``dense += alpha * self`` in place (``dense`` a C-contiguous array of this shape), one
        scatter per part: with the parameter and ``alpha = -lr``, a whole SGD step."""
        if tuple(dense.shape) != self.shape:
            raise ValueError(f"cannot add RowSparse of shape {self.shape} to an array of shape {tuple(dense.shape)}")
        if not dense.flags.c_contiguous:
            raise ValueError("add_to needs a C-contiguous destination")
        flat = dense.reshape(self.shape[0], -1)
        for part in self._parts:
            part.scatter(flat, part.ids, alpha)

    def to_dense(self) -> Any:
        """The full ``shape`` array (rows not listed are zero)."""
        out = self._xp.zeros((self.shape[0], self._width()), dtype=self.dtype)
        for part in self._parts:
            part.scatter(out, part.ids)
        return out.reshape(self.shape)

    def astype(self, dtype: Any) -> "RowSparse":
        if np.dtype(dtype) == self.dtype:
            return self
        out = RowSparse._from_parts([p.map(lambda a: a.astype(dtype) if a.dtype.kind == "f" else a) for p in self._parts], self.shape)
        out._coalesced = self._coalesced
        return out

    def to(self, device: Any) -> "RowSparse":
        out = RowSparse._from_parts([p.map(lambda a: cuda.to_device(a, device)) for p in self._parts], self.shape)
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
        parts = [
            _Part(p.ids, p.x * scalar, None, p.slots, p.indptr) if p.weights is None
            else _Part(p.ids, p.x, p.weights * scalar, p.slots, p.indptr)
            for p in self._parts
        ]
        out = RowSparse._from_parts(parts, self.shape)
        out._coalesced = self._coalesced
        return out

    __rmul__ = __mul__

    def __neg__(self) -> "RowSparse":
        return self * -1

    def __len__(self) -> int:
        return sum(len(p) for p in self._parts)

    def __repr__(self) -> str:
        return f"RowSparse(rows={len(self)}, shape={self.shape}, dtype={self.dtype})"


def add_into_dense(dense: Any, sparse: RowSparse) -> Any:
    """Return ``dense + sparse`` as a new dense array (``dense`` is not modified)."""
    if tuple(dense.shape) != sparse.shape:
        raise ValueError(f"cannot add RowSparse of shape {sparse.shape} to an array of shape {tuple(dense.shape)}")
    out = cuda.get_array_module(dense).array(dense, dtype=np.result_type(dense.dtype, sparse.dtype), order="C")
    sparse.add_to(out)
    return out
