"""Layers and loss modules: Linear, Embedding, EmbeddingBag, CrossEntropyLoss, NLLLoss, BCEWithLogitsLoss."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from jingu import cuda
from jingu.nn import functional as F
from jingu.nn import init
from jingu.nn.module import Module, Parameter
from jingu.tensor import Tensor


def _empty(shape: tuple[int, ...], dtype: Any, device: Any) -> Parameter:
    return Parameter(cuda.to_device(np.zeros(shape, dtype=dtype), cuda.canonical_device(device)))


def _positive(name: str, value: int) -> int:
    if not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _padding(padding_idx: int | None, num: int) -> int | None:
    if padding_idx is None:
        return None
    if not -num <= padding_idx < num:
        raise ValueError(f"padding_idx {padding_idx} is outside the table of {num} rows")
    return padding_idx % num


class Linear(Module):
    """``y = x @ weight.T + bias``, initialized U(-1/sqrt(in), 1/sqrt(in)) like PyTorch."""

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, dtype: Any = np.float32, device: Any = None
    ) -> None:
        super().__init__()
        self.in_features = _positive("in_features", in_features)
        self.out_features = _positive("out_features", out_features)
        bound = 1.0 / math.sqrt(in_features)
        self.weight = init.uniform_(_empty((out_features, in_features), dtype, device), -bound, bound)
        self.bias = init.uniform_(_empty((out_features,), dtype, device), -bound, bound) if bias else None

    def forward(self, x: Any) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """A lookup table of ``num_embeddings`` rows, initialized N(0, 1); the padding row is zero.

    With ``sparse=True`` the weight's gradient is a ``jingu.RowSparse`` of the touched rows.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        sparse: bool = False,
        dtype: Any = np.float32,
        device: Any = None,
        _weight: Any = None,
    ) -> None:
        super().__init__()
        self.num_embeddings = _positive("num_embeddings", num_embeddings)
        self.embedding_dim = _positive("embedding_dim", embedding_dim)
        self.padding_idx = _padding(padding_idx, num_embeddings)
        self.sparse = bool(sparse)
        if _weight is None:
            self.weight = init.normal_(_empty((num_embeddings, embedding_dim), dtype, device))
            if self.padding_idx is not None:
                self.weight.data[self.padding_idx] = 0
        else:
            self.weight = _weight

    @classmethod
    def from_pretrained(
        cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None, sparse: bool = False
    ) -> "Embedding":
        """An Embedding holding a copy of ``embeddings`` (2-D); frozen (no gradient) by default."""
        data = embeddings.data if isinstance(embeddings, Tensor) else embeddings
        if getattr(data, "ndim", 0) != 2:
            raise ValueError(f"from_pretrained needs a 2-D table, got shape {getattr(data, 'shape', None)}")
        weight = Parameter(data.copy(), requires_grad=not freeze)
        rows, dim = data.shape
        return cls(rows, dim, padding_idx=padding_idx, sparse=sparse, _weight=weight)

    def forward(self, input: Any) -> Tensor:
        return F.embedding(input, self.weight, padding_idx=self.padding_idx, sparse=self.sparse)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, padding_idx={self.padding_idx}, sparse={self.sparse}"


class EmbeddingBag(Module):
    """Sums or means of table rows per bag (see ``jingu.nn.functional.embedding_bag``)."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        mode: str = "mean",
        padding_idx: int | None = None,
        sparse: bool = False,
        dtype: Any = np.float32,
        device: Any = None,
    ) -> None:
        super().__init__()
        if mode not in ("mean", "sum"):
            raise ValueError(f"EmbeddingBag: mode must be 'mean' or 'sum', got {mode!r}")
        self.num_embeddings = _positive("num_embeddings", num_embeddings)
        self.embedding_dim = _positive("embedding_dim", embedding_dim)
        self.mode = mode
        self.padding_idx = _padding(padding_idx, num_embeddings)
        self.sparse = bool(sparse)
        self.weight = init.normal_(_empty((num_embeddings, embedding_dim), dtype, device))
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input: Any, offsets: Any = None, per_sample_weights: Any = None) -> Tensor:
        return F.embedding_bag(
            input,
            self.weight,
            offsets=offsets,
            mode=self.mode,
            padding_idx=self.padding_idx,
            per_sample_weights=per_sample_weights,
            sparse=self.sparse,
        )

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}, sparse={self.sparse}"


class CrossEntropyLoss(Module):
    def __init__(self, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.reduction = reduction

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(logits, target, ignore_index=self.ignore_index, reduction=self.reduction)


class NLLLoss(Module):
    def __init__(self, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.reduction = reduction

    def forward(self, log_probs: Tensor, target: Any) -> Tensor:
        return F.nll_loss(log_probs, target, ignore_index=self.ignore_index, reduction=self.reduction)


class BCEWithLogitsLoss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(logits, target, reduction=self.reduction)
