"""Elementwise ops with NumPy broadcasting; every backward undoes broadcasting with ``unbroadcast``."""

from __future__ import annotations

from typing import Any

import numpy as np

from jingu.autograd import Function
from jingu import cuda
from jingu.cuda import get_array_module

# One-kernel CuPy versions of ops that NumPy ufuncs would spread over several launches (on a GPU a
# small step is bound by launches, not FLOPs). Same formulas as the ufunc paths below.
_FUSED_SOURCE = {
    "logsigmoid": ("T x", "T y", "y = -(fmax(-x, (T)0) + log1p(exp(-fabs(x))))"),
    "logsigmoid_grad": ("T gy, T y", "T gx", "gx = -gy * expm1(y)"),
}


def _fused(name: str, *arrays: Any) -> Any:
    """Run the CuPy kernel ``name`` on float32/float64 arrays of one dtype; None means "use ufuncs"."""
    dtype = arrays[0].dtype
    if dtype.char not in "fd" or any(a.dtype != dtype for a in arrays[1:]):
        return None
    return cuda.run_kernel(name, _FUSED_SOURCE[name], *arrays)


def _shape(x: Any) -> tuple[int, ...]:
    return getattr(x, "shape", ())


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    ``grad`` may also be smaller than ``shape`` along some axes (see ``compact``): it is then
    broadcast back up, as a view.
    """
    if tuple(grad.shape) == tuple(shape):
        return grad
    lead = grad.ndim - len(shape)
    if lead > 0:
        grad = grad.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if tuple(grad.shape) != tuple(shape):
        grad = get_array_module(grad).broadcast_to(grad, shape)
    return grad


def compact(grad: Any) -> Any:
    """Turn a broadcast view (zero strides, e.g. from sum's backward) into its small base view.

    ``x[:, :, :1]`` broadcasts exactly like ``broadcast_to(x[:, :, :1], shape)`` but NumPy
    multiplies it about twice as fast, so products in backward work on the compact form.
    """
    strides = getattr(grad, "strides", None)
    if not strides or 0 not in strides:
        return grad
    return grad[tuple(slice(0, 1) if st == 0 and n > 1 else slice(None) for st, n in zip(strides, grad.shape))]


class Add(Function):
    def forward(self, a: Any, b: Any) -> Any:
        self.shapes = (_shape(a), _shape(b))
        return a + b

    def backward(self, gy: Any) -> Any:
        sa, sb = self.shapes
        return unbroadcast(gy, sa), unbroadcast(gy, sb)


class Sub(Function):
    def forward(self, a: Any, b: Any) -> Any:
        self.shapes = (_shape(a), _shape(b))
        return a - b

    def backward(self, gy: Any) -> Any:
        sa, sb = self.shapes
        gb = unbroadcast(-gy, sb) if self.needs_input_grad[1] else None
        return unbroadcast(gy, sa), gb


class Mul(Function):
    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        return a * b

    def backward(self, gy: Any) -> Any:
        a, b = self.saved_tensors
        gy = compact(gy)
        # the reduced (broadcast) side first: its full-size temporary is freed before the other exists
        gb = unbroadcast(gy * a, _shape(b)) if self.needs_input_grad[1] else None
        ga = unbroadcast(gy * b, _shape(a)) if self.needs_input_grad[0] else None
        return ga, gb


class Div(Function):
    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        return a / b

    def backward(self, gy: Any) -> Any:
        a, b = self.saved_tensors
        gy = compact(gy)
        ga = unbroadcast(gy / b, _shape(a)) if self.needs_input_grad[0] else None
        gb = unbroadcast(-gy * a / (b * b), _shape(b)) if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    def forward(self, x: Any) -> Any:
        return -x

    def backward(self, gy: Any) -> Any:
        return -gy


class Pow(Function):
    """``a ** b``; the gradient for ``b`` (when it is a Tensor) uses log(a), so needs a > 0."""

    def forward(self, a: Any, b: Any) -> Any:
        y = a**b
        self.save_for_backward(a, b, y)
        return y

    def backward(self, gy: Any) -> Any:
        a, b, y = self.saved_tensors
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(gy * b * a ** (b - 1), _shape(a))
        if self.needs_input_grad[1]:
            xp = get_array_module(a, b)
            gb = unbroadcast(gy * y * xp.log(a), _shape(b))
        return ga, gb


class Exp(Function):
    def forward(self, x: Any) -> Any:
        y = get_array_module(x).exp(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy: Any) -> Any:
        (y,) = self.saved_tensors
        return gy * y


class Log(Function):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return get_array_module(x).log(x)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved_tensors
        return gy / x


class Sqrt(Function):
    def forward(self, x: Any) -> Any:
        y = get_array_module(x).sqrt(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy: Any) -> Any:
        (y,) = self.saved_tensors
        return gy / (2 * y)


class Tanh(Function):
    def forward(self, x: Any) -> Any:
        y = get_array_module(x).tanh(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy: Any) -> Any:
        (y,) = self.saved_tensors
        return gy * (1 - y * y)


class Sigmoid(Function):
    """1 / (1 + exp(-x)), computed as 0.5 * (tanh(x / 2) + 1): no overflow for any x."""

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        y = xp.tanh(x * 0.5)
        y += 1
        y *= 0.5
        self.save_for_backward(y)
        return y

    def backward(self, gy: Any) -> Any:
        (y,) = self.saved_tensors
        return gy * y * (1 - y)


class LogSigmoid(Function):
    """log(sigmoid(x)) = -log(1 + exp(-x)), stable for large |x|."""

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        y = None if xp is np else _fused("logsigmoid", x)  # CuPy: 1 launch instead of 3
        if y is None:
            y = -xp.logaddexp(0, -x)
        self.save_for_backward(y)
        return y

    def backward(self, gy: Any) -> Any:
        (y,) = self.saved_tensors
        xp = get_array_module(y)
        # d/dx log(sigmoid(x)) = 1 - sigmoid(x) = -expm1(y)
        gx = None if xp is np else _fused("logsigmoid_grad", gy, y)
        return gy * -xp.expm1(y) if gx is None else gx


class Relu(Function):
    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        self.save_for_backward(x)
        return xp.maximum(x, 0)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved_tensors
        return gy * (x > 0)


class Clip(Function):
    """Clamp to [low, high] (either may be None); the gradient passes only inside the range."""

    def forward(self, x: Any, low: Any = None, high: Any = None) -> Any:
        xp = get_array_module(x)
        self.save_for_backward(x)
        self.bounds = (low, high)
        return xp.clip(x, low, high)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved_tensors
        low, high = self.bounds
        mask = True
        if low is not None:
            mask = x >= low
        if high is not None:
            mask = mask & (x <= high)
        return gy * mask


class Abs(Function):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return get_array_module(x).abs(x)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved_tensors
        return gy * get_array_module(x).sign(x)
