"""``Module`` and ``Parameter``: parameters and submodules registered in definition order."""

from __future__ import annotations

from typing import Any, Iterator


from jingu import cuda
from jingu.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable (requires_grad=True by default)."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None, device: Any = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, device=device)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of layers and models: subclass it, set attributes in ``__init__``, write ``forward``."""

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before setting attributes")
        for table in (self._parameters, self._modules, self._buffers):
            table.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, array: Any) -> None:
        """Keep a non-trainable array (saved in state_dict, moved by to())."""
        self._buffers[name] = array
        object.__setattr__(self, name, array)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ---- traversal ----------------------------------------------------------------------------
    def _members(self, prefix: str) -> Iterator[tuple[str, Any]]:
        """(dotted name, Parameter or Module) for every member, recursively, in definition order."""
        for name in self.__dict__:
            full = f"{prefix}.{name}" if prefix else name
            if name in self._parameters:
                yield full, self._parameters[name]
            elif name in self._modules:
                yield full, self._modules[name]
                yield from self._modules[name]._members(full)

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """(dotted name, module), this module first as ""; a module reached twice appears once."""
        seen = {id(self)}
        yield prefix, self
        for name, m in self._members(prefix):
            if isinstance(m, Module) and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator["Module"]:
        yield from self._modules.values()

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) in definition order, submodules' in place; shared ones once."""
        seen: set[int] = set()
        for name, p in self._members(prefix):
            if isinstance(p, Parameter) and id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def parameters(self) -> Iterator[Parameter]:
        for _, p in self.named_parameters():
            yield p

    # ---- state ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Name -> array (the live arrays, on their device) in definition order; save with ``jingu.save``."""
        out: dict[str, Any] = {name: p.data for name, p in self.named_parameters()}
        for mod_name, mod in self.named_modules():
            pre = f"{mod_name}." if mod_name else ""
            for name, b in mod._buffers.items():
                out[pre + name] = b
        return out

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> None:
        """Copy arrays into the parameters in place (keeping their device and dtype)."""
        own = self.state_dict()
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        for name, p in self.named_parameters():
            if name in state:
                p.data[...] = _converted(state[name], p.data, name)
        for mod_name, mod in self.named_modules():
            pre = f"{mod_name}." if mod_name else ""
            for name, b in list(mod._buffers.items()):
                if pre + name in state:
                    b[...] = _converted(state[pre + name], b, pre + name)

    # ---- modes and devices ----------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        for _, mod in self.named_modules():
            object.__setattr__(mod, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def to(self, device: Any) -> "Module":
        """Move every parameter (and buffer) to ``device`` in place; returns self."""
        dev = cuda.canonical_device(device)
        for _, mod in self.named_modules():
            for p in mod._parameters.values():
                p.data = cuda.to_device(p.data, dev)
                if p.grad is not None:
                    p.grad = p.grad.to(dev)
            for name, b in list(mod._buffers.items()):
                moved = cuda.to_device(b, dev)
                mod._buffers[name] = moved
                object.__setattr__(mod, name, moved)
        return self

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"  ({name}): " + repr(mod).replace("\n", "\n  ") for name, mod in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(lines) + "\n)" if lines else ")")


def _converted(value: Any, like: Any, key: str) -> Any:
    value = value.data if isinstance(value, Tensor) else value
    if tuple(value.shape) != tuple(like.shape):
        raise ValueError(
            f"load_state_dict: {key!r} has shape {tuple(value.shape)}, the model expects {tuple(like.shape)}"
        )
    value = cuda.to_device(value, cuda.device_of(like))
    return value.astype(like.dtype, copy=False) if value.dtype != like.dtype else value


__all__ = ["Module", "Parameter"]
