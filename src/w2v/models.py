"""CBOW and skip-gram as `jingu.nn.Module`s, each with a negative-sampling or full-softmax output.

Both models hold two tables, as word2vec does: `embed_in` (the word vectors we export; row 0 is
padding and stays zero) and the output side, `embed_out` for negative sampling or a bias-free
`jingu.nn.Linear` for the full softmax. Calling a model returns the SUMMED loss of a batch, so a
learning rate means what it means in word2vec (a step per example, not per batch average).

- CBOW: hidden = mean of the non-padding context vectors (`training.ops.ContextMean`); predicts the
  center word. `cbow_mean="gensim"` gives every context word the full error of the mean, as
  word2vec and gensim do; `"exact"` is the true gradient of the mean.
- Skip-gram: as in word2vec, each (center, context) pair feeds the context word's input vector and
  predicts the center word.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import jingu
from jingu import nn
from jingu.nn import functional as F
from w2v.training.ops import ContextMean, NegativeSampling, RowGather

LOSSES = ("negative", "softmax")
CBOW_MEANS = ("gensim", "exact")
PAD = 0


class Word2Vec(nn.Module):
    """Shared parts: the two tables, word2vec's initialization and the output loss."""

    def __init__(
        self,
        vocab_size: int,
        dim: int,
        loss: str = "negative",
        dtype: Any = np.float32,
        device: Any = None,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        if vocab_size < 2 or dim < 1:
            raise ValueError(f"need a vocabulary of at least 2 ids and dim >= 1, got {vocab_size} and {dim}")
        self.vocab_size, self.dim, self.loss = vocab_size, dim, loss
        gen = generator if generator is not None else jingu.default_generator()
        # word2vec: input vectors uniform in (-0.5/dim, 0.5/dim), output vectors zero.
        weights = ((gen.random((vocab_size, dim)) - 0.5) / dim).astype(dtype)
        weights[PAD] = 0.0
        self.embed_in = nn.Parameter(weights, device=device)
        if loss == "negative":
            self.embed_out = nn.Parameter(np.zeros((vocab_size, dim), dtype=dtype), device=device)
        else:
            self.output = nn.Linear(dim, vocab_size, bias=False, dtype=dtype, device=device)
            with jingu.no_grad():
                self.output.weight.data[...] = 0.0

    def output_loss(
        self, hidden: jingu.Tensor, targets: Any, negatives: Any = None, scale: float = 1.0, table: Any = None
    ) -> jingu.Tensor:
        """Summed loss of predicting `targets` from `hidden`.

        Negative sampling needs `negatives`: (B, K) per example or (S,) shared by the batch, whose
        terms are multiplied by `scale` (K / S keeps the expected gradient of K per-example draws).
        `table` replaces `embed_out` (a leaf sharing its array, so threads keep separate gradients).
        """
        if self.loss == "softmax":
            return F.cross_entropy(self.output(hidden), targets, reduction="sum")
        if negatives is None:
            raise ValueError("negative-sampling loss needs negatives")
        out = self.embed_out if table is None else table
        return NegativeSampling.apply(hidden, out, targets=targets, negatives=negatives, scale=scale)

    def forward(
        self, center: Any, context: Any, negatives: Any = None, scale: float = 1.0, tables: tuple | None = None
    ) -> jingu.Tensor:
        """Summed loss of a batch; `tables` = (input, output) leaves to use instead of the parameters."""
        table_in, table_out = tables if tables is not None else (None, None)
        return self.output_loss(self.hidden(context, table_in), center, negatives, scale, table_out)

    def vectors(self) -> np.ndarray:
        """The word vectors (input embeddings) as a NumPy array, padding row included."""
        return jingu.cuda.as_numpy(self.embed_in.data)


class CBOW(Word2Vec):
    """Continuous bag of words: the mean of the context vectors predicts the center word."""

    def __init__(self, vocab_size: int, dim: int, loss: str = "negative", cbow_mean: str = "gensim", **kwargs: Any) -> None:
        super().__init__(vocab_size, dim, loss, **kwargs)
        if cbow_mean not in CBOW_MEANS:
            raise ValueError(f"cbow_mean must be one of {CBOW_MEANS}, got {cbow_mean!r}")
        self.cbow_mean = cbow_mean

    def hidden(self, context: Any, table: Any = None) -> jingu.Tensor:
        """(B, 2*window) context ids, 0 for padding -> (B, dim) mean of their vectors."""
        weight = self.embed_in if table is None else table
        return ContextMean.apply(weight, context=context, padding_idx=PAD, exact=self.cbow_mean == "exact")


class SkipGram(Word2Vec):
    """Skip-gram: each context word's vector predicts the center word of its pair."""

    def hidden(self, context: Any, table: Any = None) -> jingu.Tensor:
        """(B,) context ids -> (B, dim) their vectors."""
        return RowGather.apply(self.embed_in if table is None else table, ids=context)


def build_model(name: str, vocab_size: int, settings: dict, device: Any = None, generator: np.random.Generator | None = None) -> Word2Vec:
    """The model named `name` ("cbow" or "skipgram") configured from train `settings`."""
    common = dict(loss=settings.get("loss", "negative"), device=device, generator=generator)
    if name == "cbow":
        return CBOW(vocab_size, settings["vector_size"], cbow_mean=settings.get("cbow_mean", "gensim"), **common)
    if name == "skipgram":
        return SkipGram(vocab_size, settings["vector_size"], **common)
    raise ValueError(f"unknown model {name!r}; expected 'cbow' or 'skipgram'")
