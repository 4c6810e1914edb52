"""The two primitives behind embedding bags and row-sparse gradients, one signature per backend.

Both work on a *bag layout*: entry e (of ``ids``, with weight ``weights[e]``, 1 when None) belongs
to bag b, where b = e // ``slots`` when ``indptr`` is None (a fixed number of entries per bag) and
the b with ``indptr[b] <= e < indptr[b + 1]`` otherwise (CSR row pointers).

- ``bag_sum(weight, ids, weights, indptr, slots)``: ``(bags, d)``, row b the weighted sum of the
  rows ``weight[ids[e]]`` of its entries (an embedding bag's forward).
- ``bag_scatter(out, rows, x, weights, indptr, slots, alpha)``: ``out[rows[e]] += alpha *
  weights[e] * x[b]`` for every entry e, in place (its backward, and a sparse SGD step when
  ``out`` is the parameter itself).

``host`` implements them with SciPy's compiled CSR/CSC kernels, ``device`` with CuPy kernels; the
functions here pick the backend from the arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jingu import cuda
from jingu.kernels import device, host


def bag_sum(weight: Any, ids: Any, weights: Any = None, indptr: Any = None, slots: int = 1) -> Any:
    """``(bags, d)`` weighted sums of rows of ``weight`` (see the module docstring)."""
    backend = host if cuda.get_array_module(weight) is np else device
    return backend.bag_sum(weight, ids.reshape(-1), None if weights is None else weights.reshape(-1), indptr, slots)


def bag_scatter(
    out: Any, rows: Any, x: Any, weights: Any = None, indptr: Any = None, slots: int = 1, alpha: float = 1.0
) -> None:
    """``out[rows[e]] += alpha * weights[e] * x[bag of e]`` in place (see the module docstring)."""
    backend = host if cuda.get_array_module(out) is np else device
    backend.bag_scatter(out, rows.reshape(-1), x, None if weights is None else weights.reshape(-1), indptr, slots, alpha)


def bag_of_entries(n: int, indptr: Any = None, slots: int = 1, xp: Any = np) -> Any:
    """The bag of each of ``n`` entries."""
    if indptr is None:
        return xp.arange(n) // slots
    if xp is np:
        return np.repeat(np.arange(indptr.shape[0] - 1), np.diff(indptr))
    return xp.searchsorted(indptr, xp.arange(n), side="right") - 1  # CuPy's repeat takes no counts array
