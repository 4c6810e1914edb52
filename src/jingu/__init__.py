"""jingu: a small autograd library on NumPy, and on CuPy where an NVIDIA GPU is present.

PyTorch-shaped: ``Tensor``, ``Function`` for custom ops, ``nn``, ``optim``, ``data``, ``save``/``load``.
Importing it prints nothing and does not import CuPy.
"""

from numpy import float16, float32, float64, int32, int64

from jingu import cuda
from jingu.cuda import get_device as device  # PyTorch's spelling: jingu.device("cuda:0") -> "cuda:0", checked
from jingu.autograd import Function, enable_grad, is_grad_enabled, no_grad
from jingu.ops import (
    abs,
    clip,
    concatenate,
    exp,
    log,
    logsigmoid,
    matmul,
    max,
    mean,
    min,
    relu,
    reshape,
    sigmoid,
    sqrt,
    squeeze,
    stack,
    sum,
    tanh,
    transpose,
    unsqueeze,
)
from jingu.random import default_generator, manual_seed
from jingu.serialization import load, save
from jingu.sparse import RowSparse
from jingu.tensor import Tensor

from jingu import data, nn, optim, testing  # noqa: E402  (after the core they build on)

__version__ = "0.1.0"


def tensor(data: object, requires_grad: bool = False, dtype: object = None, device: object = None) -> Tensor:
    """Same as ``Tensor(...)``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def zeros(*shape: int, dtype: object = float32, device: object = None, requires_grad: bool = False) -> Tensor:
    import numpy as _np

    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    return Tensor(_np.zeros(shape, dtype=dtype), requires_grad=requires_grad, device=device)


def ones(*shape: int, dtype: object = float32, device: object = None, requires_grad: bool = False) -> Tensor:
    import numpy as _np

    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    return Tensor(_np.ones(shape, dtype=dtype), requires_grad=requires_grad, device=device)


__all__ = [
    "Function",
    "RowSparse",
    "Tensor",
    "abs",
    "clip",
    "concatenate",
    "cuda",
    "data",
    "default_generator",
    "device",
    "enable_grad",
    "exp",
    "float16",
    "float32",
    "float64",
    "int32",
    "int64",
    "is_grad_enabled",
    "load",
    "log",
    "logsigmoid",
    "manual_seed",
    "matmul",
    "max",
    "mean",
    "min",
    "nn",
    "no_grad",
    "ones",
    "optim",
    "relu",
    "reshape",
    "save",
    "sigmoid",
    "sqrt",
    "squeeze",
    "stack",
    "sum",
    "tanh",
    "tensor",
    "testing",
    "transpose",
    "unsqueeze",
    "zeros",
]
