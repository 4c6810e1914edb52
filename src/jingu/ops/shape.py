"""Shape ops: reshape, transpose, indexing, concatenate, stack, matmul, device moves."""

from __future__ import annotations

from typing import Any

import numpy as np

from jingu import cuda
from jingu.autograd import Function
from jingu.cuda import get_array_module
from jingu.ops.elementwise import unbroadcast
from jingu.sparse import scatter_add_rows


class Reshape(Function):
    def forward(self, x: Any, shape: tuple[int, ...] = ()) -> Any:
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, gy: Any) -> Any:
        return gy.reshape(self.in_shape)


class Transpose(Function):
    def forward(self, x: Any, axes: Any = None) -> Any:
        self.axes = axes
        return x.transpose(axes) if axes is not None else x.T

    def backward(self, gy: Any) -> Any:
        if self.axes is None:
            return gy.T
        inverse = tuple(np.argsort([a % gy.ndim for a in self.axes]))
        return gy.transpose(inverse)


def _is_int_array(k: Any) -> bool:
    return hasattr(k, "dtype") and k.dtype.kind in "iu"


class GetItem(Function):
    """``x[key]`` for slices, integers, integer arrays and boolean masks."""

    def forward(self, x: Any, key: Any = None) -> Any:
        self.meta = (x.shape, x.dtype, key)
        return x[key]

    def backward(self, gy: Any) -> Any:
        shape, dtype, key = self.meta
        xp = get_array_module(gy)
        if _is_int_array(key) and getattr(key, "ndim", 0) >= 1:
            # rows gathered (maybe repeated): a fast scatter-add, never np.add.at
            return scatter_add_rows(key % shape[0] if shape[0] else key, gy, shape[0])
        keys = key if isinstance(key, tuple) else (key,)
        lead = shape[: len(keys)]
        if len(keys) <= len(shape) and 0 not in lead and all(_is_int_array(k) for k in keys):
            # x[rows, cols, ...]: flatten the indexed leading axes (negative indices wrap, as in the
            # forward), then the same fast scatter-add
            flat = xp.ravel_multi_index(tuple(xp.broadcast_arrays(*keys)), lead, mode="wrap")
            size = 1
            for n in lead:
                size *= n
            return scatter_add_rows(flat, gy, size).reshape(shape)
        gx = xp.zeros(shape, dtype=dtype)
        advanced = [k for k in keys if hasattr(k, "dtype") or isinstance(k, list)]
        mask_only = len(advanced) == 1 and getattr(getattr(advanced[0], "dtype", None), "kind", "") == "b"
        if not advanced or mask_only:
            gx[key] = gy  # basic indexing and masks never repeat an element
        else:
            xp.add.at(gx, key, gy)  # rare mix of index arrays and slices (CuPy: an atomic scatter)
        return gx


class Concatenate(Function):
    def forward(self, *xs: Any, axis: int = 0) -> Any:
        xp = get_array_module(*xs)
        self.axis = axis
        self.sizes = [x.shape[axis] for x in xs]
        return xp.concatenate(xs, axis=axis)

    def backward(self, gy: Any) -> Any:
        xp = get_array_module(gy)
        splits = np.cumsum(self.sizes)[:-1].tolist()
        return tuple(xp.split(gy, splits, axis=self.axis))


class Stack(Function):
    def forward(self, *xs: Any, axis: int = 0) -> Any:
        xp = get_array_module(*xs)
        self.axis = axis
        self.n = len(xs)
        return xp.stack(xs, axis=axis)

    def backward(self, gy: Any) -> Any:
        xp = get_array_module(gy)
        return tuple(xp.take(gy, i, axis=self.axis) for i in range(self.n))


def _matmul_check(a: Any, b: Any) -> None:
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner_b:
        raise ValueError(
            f"matmul: shape mismatch {tuple(a.shape)} @ {tuple(b.shape)}: "
            f"inner dimensions {a.shape[-1]} and {inner_b} differ"
        )


class MatMul(Function):
    """``a @ b`` with NumPy semantics (1-D operands, batched and broadcast leading dims)."""

    def forward(self, a: Any, b: Any) -> Any:
        _matmul_check(a, b)
        self.save_for_backward(a, b)
        return a @ b

    def backward(self, gy: Any) -> Any:
        a, b = self.saved_tensors
        xp = get_array_module(gy)
        if a.ndim == 1 and b.ndim == 1:
            return gy * b, gy * a
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = gy
        if a.ndim == 1:
            g = xp.expand_dims(g, -2)
        if b.ndim == 1:
            g = xp.expand_dims(g, -1)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(g @ xp.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = unbroadcast(xp.swapaxes(a2, -1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb


class ToDevice(Function):
    """Move to another device; the gradient moves back."""

    def forward(self, x: Any, device: str = "cpu") -> Any:
        self.source = cuda.device_of(x)
        return cuda.to_device(x, device)

    def backward(self, gy: Any) -> Any:
        return cuda.to_device(gy, self.source)


class Cast(Function):
    """Change a float dtype; the gradient is cast back."""

    def forward(self, x: Any, dtype: Any = None) -> Any:
        self.source = x.dtype
        return x.astype(dtype)

    def backward(self, gy: Any) -> Any:
        return gy.astype(self.source)
