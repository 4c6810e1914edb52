"""``save``/``load``: nested dicts/lists of arrays, numbers and strings as one ``.npz``, no pickle.

Arrays become flat entries ``a0, a1, ...``; the nesting (and every non-array value) is one JSON
document stored as the UTF-8 bytes of the entry ``__structure__``. Files are written to a temporary
name and renamed, so a crash never leaves half a checkpoint.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from jingu import cuda
from jingu.tensor import Tensor

_FORMAT = "jingu-npz-1"


def _encode(obj: Any, arrays: dict[str, np.ndarray], where: str) -> Any:
    if isinstance(obj, Tensor):
        key = f"a{len(arrays)}"
        arrays[key] = cuda.as_numpy(obj.data)
        return {"t": "tensor", "k": key}
    if isinstance(obj, np.ndarray) or hasattr(obj, "__cuda_array_interface__"):
        key = f"a{len(arrays)}"
        arr = cuda.as_numpy(obj)
        if arr.dtype.kind == "O":
            raise TypeError(f"save: object array at {where} cannot be stored without pickle")
        arrays[key] = arr
        return {"t": "array", "k": key}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"save: dict key {k!r} at {where} must be a str or an int")
            items.append([k, _encode(v, arrays, f"{where}[{k!r}]")])
        return {"t": "dict", "v": items}
    if isinstance(obj, (list, tuple)):
        return {
            "t": "list" if isinstance(obj, list) else "tuple",
            "v": [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)],
        }
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"t": "value", "v": obj}
    raise TypeError(
        f"save: cannot store {type(obj).__name__} at {where}; "
        "use dicts, lists, arrays, Tensors, numbers, strings or None"
    )


def _decode(node: Any, arrays: Any, device: Any) -> Any:
    kind = node["t"]
    if kind == "value":
        return node["v"]
    if kind == "array":
        arr = arrays[node["k"]]
        return cuda.to_device(arr, device) if device is not None else arr
    if kind == "tensor":
        return Tensor(arrays[node["k"]], device=device)
    if kind == "dict":
        return {k: _decode(v, arrays, device) for k, v in node["v"]}
    if kind in ("list", "tuple"):
        items = [_decode(v, arrays, device) for v in node["v"]]
        return items if kind == "list" else tuple(items)
    raise ValueError(f"unknown node type {kind!r}")


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` (nested dicts/lists/tuples of arrays, Tensors, numbers, strings) to ``path``."""
    arrays: dict[str, np.ndarray] = {}
    structure = {"format": _FORMAT, "root": _encode(obj, arrays, "obj")}
    blob = np.frombuffer(json.dumps(structure).encode("utf-8"), dtype=np.uint8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, __structure__=blob, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | os.PathLike[str], device: Any = None) -> Any:
    """Read what ``save`` wrote; arrays stay NumPy unless ``device`` is given."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load: no such file: {path}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"load: {path} is damaged or not a .npz checkpoint; write it again with jingu.save")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if "__structure__" not in npz.files:
                raise ValueError(
                    f"load: {path} is not a jingu checkpoint (no __structure__ entry); write it with jingu.save"
                )
            structure = json.loads(npz["__structure__"].tobytes().decode("utf-8"))
            if structure.get("format") != _FORMAT:
                raise ValueError(f"load: {path} has format {structure.get('format')!r}, expected {_FORMAT!r}")
            arrays = {name: npz[name] for name in npz.files if name != "__structure__"}
    except (zipfile.BadZipFile, OSError, json.JSONDecodeError, UnicodeDecodeError, KeyError) as exc:
        raise ValueError(
            f"load: {path} is damaged or not a .npz checkpoint ({exc}); write it again with jingu.save"
        ) from exc
    return _decode(structure["root"], arrays, device)
