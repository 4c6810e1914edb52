"""The autograd core: ``Function`` (one subclass per op), the backward engine and ``no_grad``.

A ``Function`` works on raw arrays (NumPy or CuPy): ``forward(*arrays, **static)`` returns an array
or a tuple of arrays, ``backward(*grads)`` returns one gradient per positional input (an array, a
``RowSparse`` or None). ``apply`` wraps this for Tensors and records the graph when any input needs
a gradient and grad mode is on. The engine walks the graph iteratively, highest generation first,
so a chain of any length never hits Python's recursion limit.
"""

from __future__ import annotations

import heapq
import itertools
import sys
from typing import Any

import numpy as np

from jingu import cuda
from jingu.sparse import RowSparse, add_into_dense
from jingu.tensor import Tensor

_grad_enabled = True


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()``."""
    return _grad_enabled


class _GradMode:
    """Context manager (and decorator) that sets grad mode and restores it on exit."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.prev = True

    def __enter__(self) -> None:
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = self.enabled

    def __exit__(self, *exc: Any) -> None:
        global _grad_enabled
        _grad_enabled = self.prev

    def __call__(self, func: Any) -> Any:
        enabled = self.enabled

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _GradMode(enabled):
                return func(*args, **kwargs)

        wrapper.__name__ = getattr(func, "__name__", "wrapper")
        wrapper.__doc__ = getattr(func, "__doc__", None)
        return wrapper


def no_grad() -> _GradMode:
    """Disable graph recording: ``with jingu.no_grad(): ...`` (also a decorator)."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Re-enable graph recording inside a ``no_grad`` block."""
    return _GradMode(True)


def _check_devices(cls: type, arrays: list[Any]) -> None:
    """Raise if the array inputs live on more than one device."""
    first = None
    for a in arrays:
        if a is None or isinstance(a, (int, float, bool, np.generic)):
            continue
        if not hasattr(a, "shape"):
            continue
        dev = "cpu" if isinstance(a, np.ndarray) else cuda.device_of(a)
        if first is None:
            first = dev
        elif dev != first:
            raise RuntimeError(
                f"{cls.__name__}: tensors on different devices: {first} and {dev}; "
                "move them to one device with .to(device)"
            )


class Function:
    """Base class of every differentiable op; subclass it and implement forward/backward."""

    generation = 0
    needs_input_grad: tuple[bool, ...] = ()

    def forward(self, *arrays: Any, **static: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def backward(self, *grads: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.backward is not implemented")

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays needed by backward; they are freed after backward unless retain_graph."""
        self.saved_tensors = arrays

    @classmethod
    def apply(cls, *inputs: Any, **static: Any) -> Any:
        """Run the op on Tensors or plain arrays/scalars; return Tensor(s), recording the graph."""
        fn = cls()
        arrays = []
        needs = []
        record = False
        gen = 0
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x.data)
                needs.append(x.requires_grad)
                if x.requires_grad:
                    record = True
                    creator = x.grad_fn
                    if creator is not None and creator.generation >= gen:
                        gen = creator.generation + 1
            else:
                arrays.append(x)
                needs.append(False)
        if len(arrays) > 1 and "cupy" in sys.modules:  # without CuPy every array is on the CPU
            _check_devices(cls, arrays)
        record = record and _grad_enabled
        fn.needs_input_grad = tuple(needs) if record else (False,) * len(inputs)
        out = fn.forward(*arrays, **static)
        if isinstance(out, np.generic):  # NumPy reductions return scalars; keep every .data an array
            out = np.asarray(out)
        if not record:
            if isinstance(out, tuple):
                return tuple(Tensor._make(o, None, 0) for o in out)
            return Tensor._make(out, None, 0)
        fn.generation = gen
        fn.inputs = tuple([_edge(x) if need else None for x, need in zip(inputs, needs)])
        fn._grads = None
        fn._freed = False
        if isinstance(out, tuple):
            fn._out_meta = tuple((o.shape, o.dtype) for o in out)
            return tuple(Tensor._make(o, fn, i) for i, o in enumerate(out))
        fn._out_meta = ((out.shape, out.dtype),)
        return Tensor._make(out, fn, 0)

    def _release(self) -> None:
        self.saved_tensors = None
        self.inputs = None
        self._freed = True


def _edge(x: Tensor) -> Any:
    """What backward needs of an input: the leaf itself, or (creator, output index, shape, dtype).

    Holding the creator instead of the Tensor lets an intermediate array be freed as soon as no
    op saved it for backward, which keeps the peak memory of a step close to hand-written code.
    """
    if x.grad_fn is None:
        return x
    return (x.grad_fn, x._out_index, x.data.shape, x.data.dtype)


def _accumulate(old: Any, new: Any) -> Any:
    """Add two gradients without modifying either (they may be shared with other nodes)."""
    if old is None:
        return new
    if isinstance(old, RowSparse):
        return old + new if isinstance(new, RowSparse) else add_into_dense(new, old)
    if isinstance(new, RowSparse):
        return add_into_dense(old, new)
    return old + new


def _store_leaf_grad(leaf: Tensor, g: Any) -> None:
    old = leaf.grad
    if old is None:
        if not isinstance(g, RowSparse) and 0 in getattr(g, "strides", ()):
            g = cuda.get_array_module(g).ascontiguousarray(g)  # a broadcast view: give it its own memory
        leaf.grad = g if isinstance(g, RowSparse) else Tensor._make(g, None, 0)
        return
    old_g = old if isinstance(old, RowSparse) else old.data
    total = _accumulate(old_g, g)
    leaf.grad = total if isinstance(total, RowSparse) else Tensor._make(total, None, 0)


def _checked_grad(fn: Function, i: int, shape: tuple[int, ...], dtype: Any, g: Any) -> Any:
    """Validate a gradient's shape and bring its dtype to the input's."""
    if g.shape != shape and tuple(g.shape) != tuple(shape):
        raise RuntimeError(
            f"{type(fn).__name__}.backward returned a gradient of shape {tuple(g.shape)} for input {i} of shape {tuple(shape)}"
        )
    return g if g.dtype == dtype else g.astype(dtype)


def _dense_output_grads(fn: Function, grads: list[Any]) -> list[Any]:
    """A multi-output op's output gradients, dense, with zeros for outputs that got none."""
    xp = None
    for k, g in enumerate(grads):
        if isinstance(g, RowSparse):
            grads[k] = g.to_dense()
        if grads[k] is not None:
            xp = cuda.get_array_module(grads[k])
    for k, g in enumerate(grads):
        if g is None:
            shape, dtype = fn._out_meta[k]
            grads[k] = (xp or np).zeros(shape, dtype=dtype)
    return grads


_FREED_MSG = (
    "trying to backward through the graph a second time (its saved arrays were freed by the first "
    "backward); call .backward(retain_graph=True) the first time if you need to backward twice"
)


def run_backward(root: Tensor, grad: Any, retain_graph: bool = False) -> None:
    """Propagate ``grad`` (same shape as ``root``) back to every leaf that requires a gradient."""
    if root.grad_fn is None:
        _store_leaf_grad(root, grad)
        return
    counter = itertools.count()
    start = root.grad_fn
    if start._freed:
        raise RuntimeError(_FREED_MSG)
    start._grads = [None] * len(start._out_meta)
    start._grads[root._out_index] = grad
    heap = [(-start.generation, next(counter), start)]
    queued = {start}
    while heap:
        fn = heapq.heappop(heap)[2]
        if fn._freed:
            raise RuntimeError(_FREED_MSG)
        grads = fn._grads
        fn._grads = None
        if len(grads) == 1:  # the usual single-output op: its one gradient is always set
            g = grads[0]
            in_grads = fn.backward(g.to_dense() if isinstance(g, RowSparse) else g)
        else:
            in_grads = fn.backward(*_dense_output_grads(fn, grads))
        del grads
        if not retain_graph:
            fn.saved_tensors = None  # free saved arrays before the gradients flow on
        inputs = fn.inputs
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        if len(in_grads) != len(inputs):
            raise RuntimeError(
                f"{type(fn).__name__}.backward returned {len(in_grads)} gradients for {len(inputs)} inputs"
            )
        for i, edge in enumerate(inputs):
            g = in_grads[i]
            if edge is None or g is None:
                continue
            if type(edge) is not tuple:  # a leaf Tensor
                _store_leaf_grad(edge, _checked_grad(fn, i, edge.data.shape, edge.data.dtype, g))
                continue
            prev, index, shape, dtype = edge
            g = _checked_grad(fn, i, shape, dtype, g)
            if prev._freed:
                raise RuntimeError(_FREED_MSG)
            if prev._grads is None:
                prev._grads = [None] * len(prev._out_meta)
            old = prev._grads[index]
            prev._grads[index] = g if old is None else _accumulate(old, g)
            if prev not in queued:
                queued.add(prev)
                heapq.heappush(heap, (-prev.generation, next(counter), prev))
        if not retain_graph:
            fn._release()
