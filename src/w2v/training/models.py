"""CBOW and skip-gram as `jingu.nn.Module`s, each with a negative-sampling or full-softmax output.

Both models hold two embedding matrices, as word2vec does: `embed_in` (the word vectors we export;
row `PAD_ID` is padding and stays zero) and the output side, `embed_out` for negative sampling or a bias-free
`jingu.nn.Linear` for the full softmax. Calling a model returns the SUMMED loss of a batch, so a
learning rate means what it means in word2vec (a step per example, not per batch average).

- CBOW: hidden = mean of the non-padding context vectors (`training.ops.context_mean`); predicts the
  center word. `gradient="word2vec"` gives every context word the full error of the mean, as
  word2vec and gensim do; `"exact"` is the true gradient of the mean.
- Skip-gram: as in word2vec, each (center, context) pair feeds the context word's input vector and
  predicts the center word.

With a character `composition` (`train.chars`, see `w2v.data.chars`), `embed_in` also holds one row per
character after the word rows, and a word's input vector is its composition of rows (CWE: the mean
of its own row and its characters' mean); the exported vectors are those composed vectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import jingu
from jingu import nn
from jingu.nn import functional as F
from w2v.data.chars import Composition
from w2v.training.ops import HOST, Backend, Bags, SharedNegativeSampling, context_mean, input_vectors
from w2v.data.vocab import PAD_ID

LOSSES = ("negative", "softmax")
COMPOSE_ROWS = 16384  # words composed at once when exporting
CBOW_GRADIENTS = ("word2vec", "exact")


@dataclass(frozen=True)
class Init:
    """Where and how a model's tables are made: the `backend` of the device they live on (the
    training pipeline's; the host by default), `dtype`, and the `generator` of word2vec's uniform
    draws (jingu's default generator when None)."""

    backend: Backend = HOST
    dtype: Any = np.float32
    generator: np.random.Generator | None = None


class Word2Vec(nn.Module):
    """Shared parts: the two embedding matrices, word2vec's initialization and the output loss."""

    def __init__(
        self, vocab_size: int, dim: int, loss: str = "negative", negative_group: int = 1,
        composition: Composition | None = None, init: Init = Init(),
    ) -> None:
        super().__init__()
        device, dtype, generator = init.backend.device, init.dtype, init.generator
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        if vocab_size < 2 or dim < 1:
            raise ValueError(f"need a vocabulary of at least 2 ids and dim >= 1, got {vocab_size} and {dim}")
        if negative_group < 1:
            raise ValueError(f"negative_group must be at least 1, got {negative_group}")
        self.vocab_size, self.dim, self.loss, self.negative_group = vocab_size, dim, loss, negative_group
        self.backend = init.backend
        gen = generator if generator is not None else jingu.default_generator()
        # word2vec: input vectors uniform in (-0.5/dim, 0.5/dim), output vectors zero.
        weights = ((gen.random((vocab_size, dim)) - 0.5) / dim).astype(dtype)
        weights[PAD_ID] = 0.0
        self.composition = composition
        self.bags: Bags | None = None
        if composition is not None:  # character rows after the word rows, drawn after them
            chars = ((gen.random((composition.extra_rows, dim)) - 0.5) / dim).astype(dtype)
            weights = np.concatenate([weights, chars])
            self.bags = init.backend.bags.create(composition.rows, composition.weights, device, dtype)
        self.embed_in = nn.Parameter(weights, device=device)
        if loss == "negative":
            self.embed_out = nn.Parameter(np.zeros((vocab_size, dim), dtype=dtype), device=device)
        else:
            self.output = nn.Linear(dim, vocab_size, bias=False, dtype=dtype, device=device)
            with jingu.no_grad():
                self.output.weight.data[...] = 0.0

    @classmethod
    def options(cls, settings: Any) -> dict[str, Any]:
        """The constructor's keyword arguments that `settings` (a `TrainSettings`) decide."""
        return {"loss": settings.loss, "negative_group": settings.negative_group}

    def output_loss(self, hidden: jingu.Tensor, targets: Any, negatives: Any = None, scale: float = 1.0) -> jingu.Tensor:
        """Summed loss of predicting `targets` from `hidden`.

        Negative sampling needs `negatives`: (ceil(B / negative_group), K), K for each group of
        `negative_group` consecutive examples, or (S,) shared by the batch, whose terms are multiplied
        by `scale` (K / S keeps the expected gradient of K per-example draws).
        """
        if self.loss == "softmax":
            return F.cross_entropy(self.output(hidden), targets, reduction="sum")
        if negatives is None:
            raise ValueError("negative-sampling loss needs negatives")
        if negatives.ndim == 1:
            return SharedNegativeSampling.apply(hidden, self.embed_out, targets=targets, negatives=negatives, scale=scale)
        return self.backend.negative_sampling.apply(hidden, self.embed_out, targets=targets, negatives=negatives,
                                                    scale=scale, group=self.negative_group)

    def forward(self, center: Any, context: Any, negatives: Any = None, scale: float = 1.0) -> jingu.Tensor:
        """Summed loss of a batch."""
        return self.output_loss(self.hidden(context), center, negatives, scale)

    def vectors(self) -> np.ndarray:
        """The words' input vectors (composed, with characters) as a NumPy array, padding row included."""
        table = jingu.cuda.as_numpy(self.embed_in.data)
        if self.composition is None:
            return table
        rows, weights = self.composition.rows, self.composition.weights
        out = np.empty((self.vocab_size, self.dim), dtype=table.dtype)
        for lo in range(0, self.vocab_size, COMPOSE_ROWS):  # bounded memory: (rows, slots, dim) per block
            hi = min(lo + COMPOSE_ROWS, self.vocab_size)
            out[lo:hi] = np.einsum("vs,vsd->vd", weights[lo:hi].astype(table.dtype), table[rows[lo:hi]])
        return out

    def char_vectors(self) -> np.ndarray:
        """The characters' rows (in `composition.chars` order) as a NumPy array; no rows without characters."""
        return jingu.cuda.as_numpy(self.embed_in.data)[self.vocab_size :]


class CBOW(Word2Vec):
    """Continuous bag of words: the mean of the context vectors predicts the center word."""

    def __init__(self, vocab_size: int, dim: int, loss: str = "negative", gradient: str = "word2vec", **kwargs: Any) -> None:
        super().__init__(vocab_size, dim, loss, **kwargs)
        if gradient not in CBOW_GRADIENTS:
            raise ValueError(f"CBOW gradient must be one of {CBOW_GRADIENTS}, got {gradient!r}")
        self.gradient = gradient

    @classmethod
    def options(cls, settings: Any) -> dict[str, Any]:
        return {**super().options(settings), "gradient": settings.cbow_gradient}

    def hidden(self, context: Any) -> jingu.Tensor:
        """(B, 2*window) context ids, `PAD_ID` for padding -> (B, dim) mean of their vectors."""
        return context_mean(self.embed_in, context, exact=self.gradient == "exact", bags=self.bags)


class SkipGram(Word2Vec):
    """Skip-gram: each context word's vector predicts the center word of its pair."""

    def hidden(self, context: Any) -> jingu.Tensor:
        """(B,) context ids -> (B, dim) their input vectors."""
        return input_vectors(self.embed_in, context, self.bags)
