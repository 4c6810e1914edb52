"""Reductions: sum, mean, max over ``axis`` (None, an int or a tuple) with ``keepdims``."""

from __future__ import annotations

from typing import Any

from jingu.autograd import Function
from jingu.cuda import get_array_module


def _norm_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim if ndim else 0 for a in axes)


def _expand(gy: Any, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Any:
    """Reshape a reduced gradient so it broadcasts back over ``shape``."""
    if not keepdims:
        kept = list(shape)
        for a in _norm_axes(axis, len(shape)):
            kept[a] = 1
        gy = gy.reshape(kept)
    return gy


class Sum(Function):
    def forward(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        self.meta = (x.shape, axis, keepdims)
        return x.sum(axis=axis, keepdims=keepdims)

    def backward(self, gy: Any) -> Any:
        shape, axis, keepdims = self.meta
        xp = get_array_module(gy)
        return xp.broadcast_to(_expand(gy, shape, axis, keepdims), shape)


class Mean(Function):
    def forward(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        self.meta = (x.shape, axis, keepdims)
        y = x.mean(axis=axis, keepdims=keepdims)
        self.count = x.size // max(y.size, 1) if x.size else 1
        return y

    def backward(self, gy: Any) -> Any:
        shape, axis, keepdims = self.meta
        xp = get_array_module(gy)
        return xp.broadcast_to(_expand(gy / self.count, shape, axis, keepdims), shape)


class Max(Function):
    """Maximum; ties share the gradient equally (as d/dx of NumPy's amax is undefined there)."""

    reduction = "max"

    def forward(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        y = getattr(x, self.reduction)(axis=axis, keepdims=True)
        self.save_for_backward(x, y)
        self.meta = (x.shape, axis, keepdims)
        return y if keepdims else getattr(x, self.reduction)(axis=axis)

    def backward(self, gy: Any) -> Any:
        x, y = self.saved_tensors
        shape, axis, keepdims = self.meta
        mask = x == y
        count = mask.sum(axis=axis, keepdims=True)
        return mask * (_expand(gy, shape, axis, keepdims) / count)


class Min(Max):
    """Minimum; ties share the gradient equally."""

    reduction = "min"
