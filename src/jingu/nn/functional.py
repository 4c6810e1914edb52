"""Functional forms of the layers and losses (``jingu.nn.functional``, imported as ``F``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from jingu import cuda, ops
from jingu.autograd import Function
from jingu.cuda import get_array_module
from jingu.ops.embedding import Embedding as _Embedding
from jingu.ops.embedding import EmbeddingBag as _EmbeddingBag
from jingu.ops.embedding import _check_indices
from jingu.tensor import Tensor

logsigmoid = ops.logsigmoid
sigmoid = ops.sigmoid
relu = ops.relu
tanh = ops.tanh

_REDUCTIONS = ("mean", "sum", "none")


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _index_array(x: Any, like: Any) -> Any:
    xp = get_array_module(like)
    return xp.asarray(_raw(x))


def _host_or_device(x: Any) -> Any:
    """``x`` as an array where it already lives (lists become NumPy), so checks run before any copy."""
    x = _raw(x)
    return x if hasattr(x, "dtype") and hasattr(x, "shape") else np.asarray(x)


def _checked_indices(x: Any, weight: Tensor, what: str) -> Any:
    """Indices checked on the host when they come from it (no device sync), then on the table's device."""
    idx = _host_or_device(x)
    _check_indices(idx, weight.shape[0], what)
    return _index_array(idx, weight.data)


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` (weight has shape (out_features, in_features))."""
    y = ops.matmul(x, ops.transpose(weight))
    return y + bias if bias is not None else y


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None, sparse: bool = False) -> Tensor:
    """Rows ``weight[input]`` for an integer array/Tensor of any shape."""
    idx = _checked_indices(input, weight, "embedding")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    return _Embedding.apply(weight, indices=idx, padding_idx=padding_idx, sparse=sparse)


def embedding_bag(
    input: Any,
    weight: Tensor,
    offsets: Any = None,
    mode: str = "mean",
    padding_idx: int | None = None,
    per_sample_weights: Any = None,
    sparse: bool = False,
) -> Tensor:
    """Sum or mean of the rows in each bag: a 2-D ``input`` (bags x width), or 1-D with ``offsets``.

    ``padding_idx`` entries are left out of sums and of the mean's count; an empty bag gives zeros.
    """
    if mode not in ("mean", "sum"):
        raise ValueError(f"embedding_bag: mode must be 'mean' or 'sum', got {mode!r}")
    idx = _checked_indices(input, weight, "embedding_bag")
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: offsets must be None when input is 2-D (each row is a bag)")
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("embedding_bag: a 1-D input needs offsets (the start of each bag)")
        offsets = _host_or_device(offsets)
        if offsets.ndim != 1:
            raise ValueError("embedding_bag: offsets must be 1-D and start at 0")
        if get_array_module(offsets) is np or cuda.check_device_indices:  # value checks read the host
            if offsets.size and int(offsets[0]) != 0:
                raise ValueError("embedding_bag: offsets must be 1-D and start at 0")
            if offsets.size > 1 and bool((offsets[1:] < offsets[:-1]).any()):
                raise ValueError("embedding_bag: offsets must be non-decreasing")
            if offsets.size and int(offsets[-1]) > idx.shape[0]:
                raise ValueError(
                    f"embedding_bag: last offset {int(offsets[-1])} is past the input length {idx.shape[0]}"
                )
        offsets = _index_array(offsets, weight.data).astype(np.int64, copy=False)
    else:
        raise ValueError(f"embedding_bag: input must be 1-D or 2-D, got shape {idx.shape}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise ValueError("embedding_bag: per_sample_weights needs mode='sum'")
        if tuple(per_sample_weights.shape) != tuple(idx.shape):
            raise ValueError(
                f"embedding_bag: per_sample_weights has shape {tuple(per_sample_weights.shape)}, input {idx.shape}"
            )
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    return _EmbeddingBag.apply(
        weight,
        per_sample_weights,
        indices=idx,
        offsets=offsets,
        mode=mode,
        padding_idx=padding_idx,
        sparse=sparse,
    )


class LogSoftmax(Function):
    def forward(self, x: Any, axis: int = -1) -> Any:
        xp = get_array_module(x)
        shifted = x - x.max(axis=axis, keepdims=True)
        y = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        self.save_for_backward(y)
        self.axis = axis
        return y

    def backward(self, gy: Any) -> Any:
        (y,) = self.saved_tensors
        xp = get_array_module(y)
        return gy - xp.exp(y) * gy.sum(axis=self.axis, keepdims=True)


class Softmax(Function):
    def forward(self, x: Any, axis: int = -1) -> Any:
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=axis, keepdims=True))
        y = e / e.sum(axis=axis, keepdims=True)
        self.save_for_backward(y)
        self.axis = axis
        return y

    def backward(self, gy: Any) -> Any:
        (y,) = self.saved_tensors
        gx = y * gy
        return gx - y * gx.sum(axis=self.axis, keepdims=True)


def log_softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    return LogSoftmax.apply(x, axis=axis if dim is None else dim)


def softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    return Softmax.apply(x, axis=axis if dim is None else dim)


class _PickNLL(Function):
    """Per-example ``-logp[i, target[i]]`` (0 where target == ignore_index)."""

    def forward(self, logp: Any, target: Any = None, ignore_index: int = -100) -> Any:
        xp = get_array_module(logp)
        valid = target != ignore_index
        safe = xp.where(valid, target, 0)
        rows = xp.arange(logp.shape[0])
        self.meta = (logp.shape, logp.dtype, rows, safe, valid)
        return -logp[rows, safe] * valid

    def backward(self, gy: Any) -> Any:
        shape, dtype, rows, safe, valid = self.meta
        xp = get_array_module(gy)
        gx = xp.zeros(shape, dtype=dtype)
        gx[rows, safe] = -gy * valid  # one entry per row: no repeats
        return gx


def _reduce(losses: Tensor, reduction: str, count: Any = None) -> Tensor:
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    total = losses.sum()
    if count is None:
        return total / max(losses.size, 1)
    return total / max(int(count), 1)


def nll_loss(log_probs: Tensor, target: Any, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class ``target`` under ``log_probs`` (N x C); mean skips ignored rows."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    tgt = _host_or_device(target)  # checked and counted where it lives: no device->host sync
    if log_probs.ndim != 2 or tgt.ndim != 1 or tgt.shape[0] != log_probs.shape[0]:
        raise ValueError(
            f"nll_loss: expected input (N, C) and target (N,), got {tuple(log_probs.shape)} and {tuple(tgt.shape)}"
        )
    if tgt.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer class ids, got dtype {tgt.dtype}")
    on_host = get_array_module(tgt) is np
    valid = tgt != ignore_index
    if (on_host or cuda.check_device_indices) and bool(((tgt < 0) | (tgt >= log_probs.shape[1]))[valid].any()):
        raise IndexError(f"nll_loss: target ids must be in [0, {log_probs.shape[1]}) or ignore_index={ignore_index}")
    count = int(valid.sum()) if on_host and reduction == "mean" else None
    tgt = _index_array(tgt, log_probs.data)
    losses = _PickNLL.apply(log_probs, target=tgt, ignore_index=ignore_index)
    if reduction == "mean" and count is None:  # targets on the GPU: divide by a device-side count
        xp = get_array_module(tgt)
        return losses.sum() / xp.maximum(valid.sum(), 1).astype(log_probs.dtype)
    return _reduce(losses, reduction, count)


def cross_entropy(logits: Tensor, target: Any, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """``nll_loss(log_softmax(logits), target)``: the usual classification loss on raw scores."""
    return nll_loss(log_softmax(logits, axis=-1), target, ignore_index=ignore_index, reduction=reduction)


def binary_cross_entropy_with_logits(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """-(t log sigmoid(x) + (1 - t) log sigmoid(-x)), stable for any logit."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if isinstance(target, Tensor):
        t = target
    else:  # no copy when the target already has the logits' dtype
        t = Tensor(_index_array(target, logits.data).astype(logits.dtype, copy=False))
    if tuple(t.shape) != tuple(logits.shape):
        raise ValueError(f"binary_cross_entropy_with_logits: logits {tuple(logits.shape)} vs target {tuple(t.shape)}")
    losses = -(t * ops.logsigmoid(logits) + (1 - t) * ops.logsigmoid(-logits))
    return _reduce(losses, reduction)
