"""A NumPy-backed stand-in for CuPy that counts kernel launches and device->host syncs.

On a GPU a small training step is bound by how many kernels it launches and how often the host
waits for the device, not by FLOPs. This module lets the CPU test suite see the CuPy code path of
jingu and count both: ``install(monkeypatch)`` puts fake ``cupy`` / ``cupyx`` modules in
``sys.modules``; arrays made with ``asarray`` are ``FakeArray`` (an ndarray subclass) and every
ufunc, reduction, gather, scatter, copy or fill on them counts as one launch; reading a value on the
host (``int()``, ``float()``, ``bool()``, ``.item()``, ``.get()``, ``asnumpy``) or ``unique`` (its
output size is data-dependent) counts as one sync. Views (reshape, slicing, broadcast_to) are free,
as on CuPy. Counts are approximate (CuPy may use several kernels for one call) but the same
convention is applied to jingu and to the hand-written step, so the two can be compared.
"""

from __future__ import annotations

import sys
import types
from collections import Counter
from typing import Any

import numpy as np

FREE = {
    "broadcast_to",
    "expand_dims",
    "swapaxes",
    "reshape",
    "squeeze",
    "transpose",
    "shape",
    "ndim",
    "result_type",
    "may_share_memory",
    "empty_like",
}


class Counts:
    """Launches and syncs seen since the last ``reset``, with a tally per operation name."""

    def __init__(self) -> None:
        self.launches = 0
        self.syncs = 0
        self.names: Counter[str] = Counter()

    def reset(self) -> None:
        self.__init__()

    def launch(self, name: str) -> None:
        self.launches += 1
        self.names[name] += 1

    def sync(self, name: str) -> None:
        self.syncs += 1
        self.names["SYNC " + name] += 1


COUNTS = Counts()


def _plain(x: Any) -> Any:
    if isinstance(x, FakeArray):
        return x.view(np.ndarray)
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x)
    if isinstance(x, dict):
        return {key: _plain(value) for key, value in x.items()}
    return x


def _fake(x: Any) -> Any:
    if isinstance(x, np.ndarray) and not isinstance(x, FakeArray):
        return x.view(FakeArray)
    if isinstance(x, np.generic):
        return np.asarray(x).view(FakeArray)  # CuPy reductions return 0-d arrays
    if isinstance(x, tuple):
        return tuple(_fake(v) for v in x)
    if isinstance(x, list):
        return [_fake(v) for v in x]
    return x


def _has_array(key: Any) -> bool:
    keys = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (np.ndarray, list)) for k in keys)


class FakeArray(np.ndarray):
    """An ndarray that counts what a CuPy array would launch or sync."""

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        COUNTS.launch(f"{ufunc.__name__}" + ("" if method == "__call__" else f".{method}"))
        if "out" in kwargs:
            kwargs["out"] = _plain(kwargs["out"])
        return _fake(getattr(ufunc, method)(*_plain(inputs), **kwargs))

    def __array_function__(self, func: Any, types_: Any, args: Any, kwargs: Any) -> Any:
        name = func.__name__
        if name == "unique":
            COUNTS.sync("unique")
        if name not in FREE:
            COUNTS.launch(name)
        return _fake(func(*_plain(args), **_plain(kwargs)))

    def __getitem__(self, key: Any) -> Any:
        key = _plain(key)
        if _has_array(key):
            COUNTS.launch("gather")
        return _fake(self.view(np.ndarray)[key])

    def __setitem__(self, key: Any, value: Any) -> None:
        COUNTS.launch("setitem")
        self.view(np.ndarray)[_plain(key)] = _plain(value)

    def astype(self, dtype: Any, copy: bool = True, **kwargs: Any) -> Any:
        if not copy and np.dtype(dtype) == self.dtype:
            return self
        COUNTS.launch("astype")
        return _fake(self.view(np.ndarray).astype(dtype, copy=copy, **kwargs))

    def copy(self, order: str = "C") -> Any:
        COUNTS.launch("copy")
        return _fake(self.view(np.ndarray).copy(order))

    def fill(self, value: Any) -> None:
        COUNTS.launch("fill")
        self.view(np.ndarray).fill(value)

    def _host(self, name: str) -> np.ndarray:
        COUNTS.sync(name)
        return self.view(np.ndarray)

    def __int__(self) -> int:
        return int(self._host("int"))

    def __float__(self) -> float:
        return float(self._host("float"))

    def __bool__(self) -> bool:
        return bool(self._host("bool"))

    def __index__(self) -> int:
        return self._host("index").__index__()

    def item(self, *args: Any) -> Any:
        return self._host("item").item(*args)

    def tolist(self) -> Any:
        return self._host("tolist").tolist()

    def get(self) -> np.ndarray:
        return self._host("get").copy()

    @property
    def device(self) -> Any:
        return types.SimpleNamespace(id=0)


def asarray(a: Any, dtype: Any = None) -> Any:
    if isinstance(a, FakeArray) and (dtype is None or np.dtype(dtype) == a.dtype):
        return a
    if isinstance(a, FakeArray):
        return a.astype(dtype)
    COUNTS.launch("host_to_device")
    return np.array(a, dtype=dtype).view(FakeArray)


def asnumpy(a: Any) -> np.ndarray:
    return a.get() if isinstance(a, FakeArray) else np.asarray(a)


def _creator(name: str, launches: bool) -> Any:
    make = getattr(np, name)

    def create(*args: Any, **kwargs: Any) -> Any:
        if launches:
            COUNTS.launch(name)
        return _fake(make(*_plain(args), **_plain(kwargs)))

    create.__name__ = name
    return create


def _module_getattr(name: str) -> Any:
    return getattr(np, name)  # dtypes, ufuncs (their calls count through FakeArray), functions


def _bag_sum(table: np.ndarray, ids: np.ndarray, weights: np.ndarray, slots: int, dim: int, y: np.ndarray) -> None:
    # the kernel reads `ids` and `weights` as raw flat arrays, `slots` entries a bag
    y[...] = np.matmul(weights.reshape(-1, 1, slots), table[ids.reshape(-1, slots)])[:, 0]


def _bag_scatter(ids: np.ndarray, weights: np.ndarray, x: np.ndarray, slots: int, dim: int, weighted: int,
                 alpha: float, out: np.ndarray) -> None:
    n = ids.size
    w = alpha * (weights.reshape(-1) if weighted else np.ones(n))
    np.add.at(out, ids.reshape(-1), w[:, None] * x.reshape(-1, dim)[np.arange(n) // slots])


class CompileException(Exception):
    """Stands in for ``cupy.cuda.compiler.CompileException``: a stand-in raising it models a kernel
    whose CUDA source the compiler rejects (CuPy compiles at the first launch)."""


# NumPy stand-ins for jingu's CuPy kernels (their CUDA source is only compiled on a GPU). Kernels
# with one plain output return it; those given their output write into it.
FUSED = {
    "jingu_logsigmoid": lambda x: -np.logaddexp(0, -x),
    "jingu_logsigmoid_grad": lambda gy, y: -gy * np.expm1(y),
    "jingu_bag_sum": _bag_sum,
    "jingu_bag_scatter": _bag_scatter,
}


class ElementwiseKernel:
    """Checks the parameter lists and argument dtypes, then runs the NumPy stand-in as ONE launch."""

    def __init__(self, in_params: str, out_params: str, operation: str, name: str) -> None:
        self.params = [p.split() for p in (in_params + "," + out_params).split(",")]
        self.n_in = len(in_params.split(","))
        assert len(out_params.split(",")) == 1 and operation.strip(), "one output and a body"
        self.impl = FUSED[name]
        self.name = name

    def __call__(self, *args: Any, size: int | None = None) -> Any:
        given_out = len(args) == self.n_in + 1
        assert len(args) == self.n_in or given_out, f"{self.name} takes {self.n_in} arguments, got {len(args)}"
        types_of: dict[str, set] = {}
        for param, arg in zip(self.params, args):
            ctype = param[-2]
            if ctype.isupper():  # a type placeholder binds one dtype
                types_of.setdefault(ctype, set()).add(np.asarray(arg).dtype)
            else:
                assert isinstance(arg, (int, float)), f"{self.name}: {param[-1]} takes a scalar"
        assert all(len(d) == 1 for d in types_of.values()), f"{self.name}: a type placeholder binds one dtype"
        no_plain_array = all(p[0] == "raw" or not p[-2].isupper() for p in self.params)
        assert (size is not None) == no_plain_array, f"{self.name}: size is needed exactly when no array is elementwise"
        COUNTS.launch(self.name)
        plain = [a.view(np.ndarray) if isinstance(a, np.ndarray) else a for a in args]
        if given_out:
            self.impl(*plain)
            return args[-1]
        out = self.impl(*plain)
        return np.ascontiguousarray(out, dtype=plain[0].dtype).view(FakeArray)


def install(monkeypatch: Any) -> Counts:
    """Put fake ``cupy`` and ``cupyx`` modules in ``sys.modules`` (undone by ``monkeypatch``)."""
    cupy = types.ModuleType("cupy")
    cupy.ndarray = FakeArray
    cupy.asarray = asarray
    cupy.array = asarray
    cupy.asnumpy = asnumpy
    for name in ("zeros", "ones", "full", "arange", "zeros_like", "ones_like", "full_like"):
        setattr(cupy, name, _creator(name, launches=True))
    cupy.empty = _creator("empty", launches=False)
    cupy.ElementwiseKernel = ElementwiseKernel
    cupy.__getattr__ = _module_getattr
    cupy.cuda = types.SimpleNamespace(
        Device=lambda *a: types.SimpleNamespace(synchronize=lambda: None, __enter__=None),
        runtime=types.SimpleNamespace(getDeviceCount=lambda: 0),
        compiler=types.SimpleNamespace(CompileException=CompileException),
    )
    cupyx = types.ModuleType("cupyx")  # no scatter_add: it is deprecated, jingu must not call it
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "cupyx", cupyx)
    import jingu.cuda  # noqa: PLC0415

    monkeypatch.setattr(jingu.cuda, "_kernels", {})  # kernels built for the fake stay with it
    COUNTS.reset()
    return COUNTS
