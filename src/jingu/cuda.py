"""Device switch: pick the array module (NumPy or CuPy) and move arrays between devices.

CuPy is imported only when a CUDA device is asked for, so importing jingu never touches the GPU.
Devices are plain strings: ``"cpu"``, ``"cuda"`` (= ``"cuda:0"``) and ``"cuda:N"``; ``get_device``
(also ``jingu.device``) checks one and says what is missing.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import numpy as np

# Range-check integer indices that already live on a GPU (embedding lookups, class targets)? Doing
# so reads them back to the host: one device->host sync per call, which dominates a small training
# step. Host (NumPy) indices are always checked, before they are copied to the device.
check_device_indices = False

logger = logging.getLogger(__name__)
_NO_CUPY = (
    "CuPy is not installed; install the gpu extra (`pip install -e '.[gpu]'` for CUDA 13, "
    "`'.[gpu-cuda12]'` for CUDA 12) or use device='cpu'"
)
_kernels: dict[str, Any] = {}  # name -> compiled ElementwiseKernel, or False once building it failed


def _cupy(required: bool = True) -> Any:
    """Import CuPy on first use; return None (or raise) when it is missing."""
    try:
        import cupy  # noqa: PLC0415 (lazy on purpose)
    except ImportError as exc:
        if required:
            raise RuntimeError(f"a CUDA device was requested but {_NO_CUPY}") from exc
        return None
    return cupy


def device_count() -> int:
    """How many NVIDIA GPUs CuPy sees: 0 without CuPy, a driver or a device."""
    cp = _cupy(required=False)
    if cp is None:
        return 0
    try:
        return int(cp.cuda.runtime.getDeviceCount())
    except Exception:  # noqa: BLE001 (no driver, no device: all mean "none")
        return 0


def is_available() -> bool:
    """True when CuPy is installed and sees at least one NVIDIA GPU."""
    return device_count() > 0


def get_array_module(*xs: Any) -> Any:
    """Return ``cupy`` if any argument (array or Tensor) lives on a GPU, else ``numpy``."""
    cp = sys.modules.get("cupy")
    if cp is not None:
        for x in xs:
            if isinstance(x, cp.ndarray) or isinstance(getattr(x, "data", None), cp.ndarray):
                return cp
    return np


def get_sparse_module(xp: Any) -> Any:
    """Return ``scipy.sparse`` for NumPy, ``cupyx.scipy.sparse`` for CuPy."""
    if xp is np:
        import scipy.sparse  # noqa: PLC0415

        return scipy.sparse
    import cupyx.scipy.sparse  # noqa: PLC0415

    return cupyx.scipy.sparse


def canonical_device(device: Any) -> str:
    """Normalize ``"cpu"``, ``"cuda"``, ``"cuda:N"`` (or None = cpu) to ``"cpu"`` / ``"cuda:N"``."""
    if device is None:
        return "cpu"
    name = str(device).strip().lower()
    if name == "cpu":
        return "cpu"
    if name == "cuda":
        return "cuda:0"
    if name.startswith("cuda:") and name[5:].isdigit():
        return name
    raise ValueError(f"unknown device {device!r}; use 'cpu', 'cuda' or 'cuda:N'")


def get_device(device: Any = None) -> str:
    """``device`` ("cpu", "cuda", "cuda:N"; None = "cpu") as jingu's device string, checked to exist.

    Unlike ``canonical_device`` it asks CuPy, so that PyTorch-style code
    (``jingu.device("cuda:0" if jingu.cuda.is_available() else "cpu")``) learns of a missing GPU
    where it picks the device, in one RuntimeError that says what to install or choose instead.
    """
    dev = canonical_device(device)
    if dev == "cpu":
        return dev
    if _cupy(required=False) is None:
        raise RuntimeError(f"device {dev!r} was asked for but {_NO_CUPY}")
    count, index = device_count(), int(dev.split(":")[1])
    if count == 0:
        raise RuntimeError(f"device {dev!r} was asked for but CuPy finds no usable NVIDIA GPU "
                           "(no driver or no device); use 'cpu'")
    if index >= count:
        raise RuntimeError(f"device {dev!r} was asked for but CuPy finds {count} GPU(s); "
                           f"use 'cuda:0' to 'cuda:{count - 1}' or 'cpu'")
    return dev


def device_of(array: Any) -> str:
    """The device string of an array: ``"cpu"`` for NumPy, ``"cuda:N"`` for CuPy."""
    if isinstance(array, np.ndarray) or np.isscalar(array):
        return "cpu"
    dev = getattr(array, "device", None)
    if dev is not None and hasattr(dev, "id"):
        return f"cuda:{dev.id}"
    return "cpu"


def to_device(array: Any, device: Any) -> Any:
    """Return ``array`` (array, list or scalar) as an array on ``device``; no copy if already there."""
    dev = canonical_device(device)
    if dev == "cpu":
        if isinstance(array, np.ndarray):
            return array
        cp = sys.modules.get("cupy")
        if cp is not None and isinstance(array, cp.ndarray):
            return cp.asnumpy(array)
        return np.asarray(array)
    cp = _cupy()
    with cp.cuda.Device(int(dev.split(":")[1])):
        return cp.asarray(array)


def as_numpy(array: Any) -> np.ndarray:
    """A host NumPy array for any array (copies from the GPU when needed)."""
    return to_device(array, "cpu")


def synchronize() -> None:
    """Wait for queued GPU work (no-op without CuPy); call before reading a clock."""
    cp = sys.modules.get("cupy")
    if cp is not None:
        cp.cuda.Device().synchronize()


def _compile_errors() -> tuple[type[BaseException], ...]:
    """CuPy's compile-error class (``cupy.cuda.compiler.CompileException``), or none without it."""
    cp = sys.modules.get("cupy")
    exc = getattr(getattr(getattr(cp, "cuda", None), "compiler", None), "CompileException", None)
    return (exc,) if isinstance(exc, type) else ()


def run_kernel(name: str, source: tuple[str, str, str], *args: Any, **kwargs: Any) -> Any:
    """Call the CuPy ``ElementwiseKernel`` ``jingu_<name>`` built from ``source`` (in_params,
    out_params, operation) on ``args``; None means "CuPy could not compile it, use the fallback".

    CuPy compiles a kernel at its first launch (per dtype). Only a compile error disables the
    kernel (logged once, not tried again in this process): a compiler that rejects the source is
    a property of the installation, and the fallback computes the same thing. Any other error in
    a launch (bad arguments, a device fault, out of memory) is raised, since falling back would
    hide a bug.
    """
    kernel = _kernels.get(name)
    if kernel is False:
        return None
    try:
        if kernel is None:
            kernel = _cupy().ElementwiseKernel(*source, name=f"jingu_{name}")
        out = kernel(*args, **kwargs)
    except Exception as exc:
        if not isinstance(exc, _compile_errors()):
            raise
        logger.warning("jingu: CuPy kernel %s does not compile (%s); using the fallback", name, exc)
        _kernels[name] = False
        return None
    _kernels[name] = kernel
    return out
