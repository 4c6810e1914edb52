"""Every op as a function on Tensors, and THE table that binds operators and methods to Tensor."""

from __future__ import annotations

from typing import Any

import numpy as np

from jingu import cuda
from jingu.ops import elementwise as E
from jingu.ops import reduce as R
from jingu.ops import shape as S
from jingu.tensor import Tensor


def _unwrap_key(key: Any) -> Any:
    if isinstance(key, Tensor):
        return key.data
    if isinstance(key, tuple):
        return tuple(k.data if isinstance(k, Tensor) else k for k in key)
    if isinstance(key, list):
        return cuda.get_array_module(*key).asarray(key) if key else key
    return key


def _axis(axis: Any, dim: Any) -> Any:
    return dim if axis is None else axis


# ---- functions (also exported as jingu.<name>) ------------------------------------------------
def add(a: Any, b: Any) -> Tensor:
    return E.Add.apply(a, b)


def sub(a: Any, b: Any) -> Tensor:
    return E.Sub.apply(a, b)


def mul(a: Any, b: Any) -> Tensor:
    return E.Mul.apply(a, b)


def div(a: Any, b: Any) -> Tensor:
    return E.Div.apply(a, b)


def neg(x: Any) -> Tensor:
    return E.Neg.apply(x)


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 (mirrors the operator)
    return E.Pow.apply(a, b)


def exp(x: Any) -> Tensor:
    return E.Exp.apply(x)


def log(x: Any) -> Tensor:
    return E.Log.apply(x)


def sqrt(x: Any) -> Tensor:
    return E.Sqrt.apply(x)


def tanh(x: Any) -> Tensor:
    return E.Tanh.apply(x)


def sigmoid(x: Any) -> Tensor:
    return E.Sigmoid.apply(x)


def logsigmoid(x: Any) -> Tensor:
    return E.LogSigmoid.apply(x)


def relu(x: Any) -> Tensor:
    return E.Relu.apply(x)


def abs(x: Any) -> Tensor:  # noqa: A001
    return E.Abs.apply(x)


def clip(x: Any, low: Any = None, high: Any = None) -> Tensor:
    """Clamp values to [low, high]; either bound may be None."""
    return E.Clip.apply(x, low=low, high=high)


def sum(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:  # noqa: A001
    return R.Sum.apply(x, axis=_axis(axis, dim), keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:
    return R.Mean.apply(x, axis=_axis(axis, dim), keepdims=keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:  # noqa: A001
    return R.Max.apply(x, axis=_axis(axis, dim), keepdims=keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:  # noqa: A001
    return R.Min.apply(x, axis=_axis(axis, dim), keepdims=keepdims)


def matmul(a: Any, b: Any) -> Tensor:
    return S.MatMul.apply(a, b)


def reshape(x: Any, *shape: Any) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return S.Reshape.apply(x, shape=shape)


def transpose(x: Any, *axes: Any) -> Tensor:
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    return S.Transpose.apply(x, axes=axes or None)


def getitem(x: Any, key: Any) -> Tensor:
    key = _unwrap_key(key)
    xp = cuda.get_array_module(x)
    if xp is not np:  # index arrays follow the data onto its device
        key = (
            tuple(xp.asarray(k) if isinstance(k, np.ndarray) else k for k in key)
            if isinstance(key, tuple)
            else (xp.asarray(key) if isinstance(key, np.ndarray) else key)
        )
    return S.GetItem.apply(x, key=key)


def concatenate(tensors: Any, axis: int = 0) -> Tensor:
    return S.Concatenate.apply(*tensors, axis=axis)


def stack(tensors: Any, axis: int = 0) -> Tensor:
    return S.Stack.apply(*tensors, axis=axis)


def unsqueeze(x: Tensor, axis: int) -> Tensor:
    shape = list(x.shape)
    shape.insert(axis % (len(shape) + 1), 1)
    return reshape(x, tuple(shape))


def squeeze(x: Tensor, axis: Any = None) -> Tensor:
    shape = x.shape
    if axis is None:
        new = tuple(n for n in shape if n != 1)
    else:
        axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
        new = tuple(n for i, n in enumerate(shape) if i not in axes)
    return reshape(x, new)


def to(x: Tensor, device: Any) -> Tensor:
    """The tensor on ``device`` (itself if already there); differentiable."""
    dev = cuda.canonical_device(device)
    if dev == x.device:
        return x
    return S.ToDevice.apply(x, device=dev)


def _compare(op: str) -> Any:
    def compare(a: Tensor, b: Any) -> Tensor:
        other = b.data if isinstance(b, Tensor) else b
        return Tensor._make(getattr(a.data, op)(other), None, 0)

    compare.__name__ = op
    return compare


def _float(x: Tensor, dtype: Any) -> Tensor:
    return S.Cast.apply(x, dtype=dtype) if x.dtype != dtype else x


# ---- THE operator/method table -----------------------------------------------------------------
TENSOR_METHODS: dict[str, Any] = {
    "__add__": add,
    "__radd__": lambda a, b: add(b, a),
    "__sub__": sub,
    "__rsub__": lambda a, b: sub(b, a),
    "__mul__": mul,
    "__rmul__": lambda a, b: mul(b, a),
    "__truediv__": div,
    "__rtruediv__": lambda a, b: div(b, a),
    "__pow__": pow,
    "__rpow__": lambda a, b: pow(b, a),
    "__matmul__": matmul,
    "__rmatmul__": lambda a, b: matmul(b, a),
    "__neg__": neg,
    "__getitem__": getitem,
    "__lt__": _compare("__lt__"),
    "__le__": _compare("__le__"),
    "__gt__": _compare("__gt__"),
    "__ge__": _compare("__ge__"),
    "__eq__": _compare("__eq__"),
    "__ne__": _compare("__ne__"),
    "exp": exp,
    "log": log,
    "sqrt": sqrt,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "logsigmoid": logsigmoid,
    "relu": relu,
    "abs": abs,
    "clip": clip,
    "sum": sum,
    "mean": mean,
    "max": max,
    "min": min,
    "matmul": matmul,
    "reshape": reshape,
    "view": reshape,
    "transpose": transpose,
    "unsqueeze": unsqueeze,
    "squeeze": squeeze,
    "to": to,
    "float": lambda x: _float(x, "float32"),
    "double": lambda x: _float(x, "float64"),
    "T": property(lambda x: transpose(x)),
}

for _name, _impl in TENSOR_METHODS.items():
    setattr(Tensor, _name, _impl)
