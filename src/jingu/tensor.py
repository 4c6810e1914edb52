"""``Tensor``: an array (NumPy or CuPy) plus what autograd needs to know about it.

The class is kept light (``__slots__``); its operators and math methods are bound in one table in
``jingu/ops/__init__.py`` so every op is visible in one place.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jingu import cuda


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) or hasattr(x, "__cuda_array_interface__")


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "_out_index", "__weakref__")
    __array_ufunc__ = None  # make NumPy defer to Tensor's reflected operators (ndarray + Tensor)
    __array_priority__ = 1000  # the same for CuPy
    is_sparse = False

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        python_float = isinstance(data, (float, list, tuple))
        if device is not None:
            data = cuda.to_device(data, device)
        elif not _is_array(data):
            data = np.asarray(data)
        if dtype is not None:
            data = data.astype(dtype, copy=False)
        elif python_float and data.dtype == np.float64:
            data = data.astype(np.float32)  # Python floats default to float32, as in PyTorch
        if requires_grad and data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {data.dtype}; "
                "create it with dtype=jingu.float32 (or float64)"
            )
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.grad_fn = None
        self._out_index = 0

    @classmethod
    def _make(cls, data: Any, grad_fn: Any, index: int) -> "Tensor":
        """Fast internal constructor for op outputs (no validation)."""
        t = object.__new__(Tensor)
        t.data = data
        t.grad = None
        t.requires_grad = grad_fn is not None
        t.grad_fn = grad_fn
        t._out_index = index
        return t

    # ---- properties -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def device(self) -> str:
        return "cpu" if isinstance(self.data, np.ndarray) else cuda.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(cuda.as_numpy(self.data), separator=", ", threshold=20)
        extra = ""
        if self.device != "cpu":
            extra += f", device='{self.device}'"
        if self.grad_fn is not None:
            extra += f", grad_fn={type(self.grad_fn).__name__}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"Tensor({body}, dtype={self.dtype}{extra})"

    def __bool__(self) -> bool:
        return bool(self.data)

    __hash__ = object.__hash__  # __eq__ is elementwise, identity stays the hash

    # ---- conversion -------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The values as a host NumPy array (copied from the GPU if needed)."""
        return cuda.as_numpy(self.data)

    def item(self) -> Any:
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        return self.data.reshape(()).item()

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def detach(self) -> "Tensor":
        """A new leaf sharing the data, cut from the graph."""
        return Tensor._make(self.data, None, 0)

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        if flag and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = flag
        return self

    def astype(self, dtype: Any) -> "Tensor":
        """A copy with another dtype, cut from the graph (use for index or mask tensors)."""
        return Tensor(self.data.astype(dtype))

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self, index: int = 0) -> "Tensor":
        return self.to(f"cuda:{index}")

    # ---- autograd ---------------------------------------------------------------------------
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) * grad into ``leaf.grad`` for every leaf that requires it."""
        from jingu.autograd import run_backward  # noqa: PLC0415 (autograd imports this module)

        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad and has no grad_fn")
        xp = cuda.get_array_module(self.data)
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a scalar output, this one has shape {self.shape}; "
                    "pass grad= with that shape (or reduce with .sum() / .mean() first)"
                )
            grad = xp.ones(self.shape, dtype=self.dtype)
        else:
            grad = grad.data if isinstance(grad, Tensor) else xp.asarray(grad, dtype=self.dtype)
            if tuple(grad.shape) != tuple(self.shape):
                raise ValueError(f"backward(): grad has shape {tuple(grad.shape)}, the tensor has {self.shape}")
        run_backward(self, grad, retain_graph=retain_graph)

    def zero_grad(self) -> None:
        self.grad = None
