"""``gradcheck``: compare autograd gradients with float64 central differences."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from jingu import cuda
from jingu.sparse import RowSparse
from jingu.tensor import Tensor


def _dense(grad: Any) -> Any:
    if grad is None:
        return None
    if isinstance(grad, RowSparse):
        return grad.to_dense()
    return grad.data


def _scalar_loss(fn: Callable[..., Any], inputs: Sequence[Any], weights: Any) -> Any:
    """sum(fn(*inputs) * weights) as a float, without recording a graph."""
    from jingu.autograd import no_grad  # noqa: PLC0415

    with no_grad():
        out = fn(*inputs)
    outs = out if isinstance(out, tuple) else (out,)
    return sum(float((o.data * w).sum()) for o, w in zip(outs, weights))


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
    seed: int = 0,
) -> bool:
    """Check ``fn``'s gradients for every float64 input Tensor with ``requires_grad``.

    The output(s) are contracted with fixed random weights, so every output element matters.
    Returns True, or raises AssertionError naming the input, element and both values.
    """
    targets = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not targets:
        raise ValueError("gradcheck: no input Tensor has requires_grad=True")
    for t in targets:
        if t.dtype != np.float64:
            raise ValueError(f"gradcheck needs float64 inputs for accurate differences, got {t.dtype}")
    for t in targets:
        t.data = cuda.get_array_module(t.data).ascontiguousarray(t.data)
    for t in targets:
        t.data = cuda.get_array_module(t.data).ascontiguousarray(t.data)
    out = fn(*inputs)
    outs = out if isinstance(out, tuple) else (out,)
    rng = np.random.default_rng(seed)
    weights = [cuda.to_device(rng.uniform(0.5, 1.5, size=o.shape), o.device) for o in outs]
    for t in targets:
        t.grad = None
    total = None
    for o, w in zip(outs, weights):
        term = (o * Tensor(w)).sum()
        total = term if total is None else total + term
    total.backward()
    for n, t in enumerate(targets):
        analytic = _dense(t.grad)
        analytic = np.zeros(t.shape) if analytic is None else cuda.as_numpy(analytic)
        numeric = np.zeros(t.shape)
        flat = t.data.reshape(-1)
        for i in range(flat.shape[0]):
            orig = float(flat[i])
            flat[i] = orig + eps
            plus = _scalar_loss(fn, inputs, weights)
            flat[i] = orig - eps
            minus = _scalar_loss(fn, inputs, weights)
            flat[i] = orig
            numeric.reshape(-1)[i] = (plus - minus) / (2 * eps)
        if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
            err = np.abs(analytic - numeric)
            where = np.unravel_index(int(np.argmax(err)), t.shape) if t.shape else ()
            raise AssertionError(
                f"gradcheck failed for input {n} of shape {t.shape} at {where}: "
                f"autograd {analytic[where]!r} vs numerical {numeric[where]!r} (max error {err.max():.3g})"
            )
    return True
