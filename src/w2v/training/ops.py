"""Word2vec's own ops as `jingu.Function`s: forward and backward on raw arrays (NumPy or CuPy).

Each op hands the output matrix a lazy row-sparse gradient (`jingu.RowSparse.product`), which SGD
scatters straight into the matrix.

- `context_mean`: CBOW's hidden layer, the mean of the non-padding context vectors (jingu's
  embedding bag), with word2vec/gensim's update rule unless `exact`.
- `input_vectors`: skip-gram's hidden layer, each word's input vector.
  Both take optional `Bags`, the character composition of every word (`w2v.data.chars`): a word's
  vector is then a weighted sum of input-table rows, one more embedding bag of the same kernel.
- `NegativeSampling`: the summed loss of a batch with `negative` negatives drawn per example, or
  per group of consecutive examples.
- `SharedNegativeSampling`: the same loss with one set of negatives shared by the whole batch.

Where the host and a GPU want different code (the bags' layout, chunking, reading a scalar), there
are two classes, and a `Backend` names the pair for one device; the training pipeline carries it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

import jingu
from jingu import RowSparse
from jingu.cuda import get_array_module
from jingu.nn import functional as F
from w2v.data.vocab import PAD_ID


class ScaleGradient(jingu.Function):
    """Identity forward; backward multiplies the gradient by `scale` (broadcast against it)."""

    def forward(self, x: Any, scale: Any = None) -> Any:
        self.meta = scale
        return x

    def backward(self, gy: Any) -> Any:
        return (gy * self.meta,)


class Bags(NamedTuple):
    """`w2v.data.chars.Composition`'s `rows` and `weights` on the training device, and `lengths`
    (vocab_size,), the used slots of each word (they come first). `HostBags` and `DeviceBags` sum
    them the two ways of `jingu.ops.embedding.bag_layout`, for the same reasons."""

    rows: Any
    weights: Any  # the table's dtype
    lengths: Any

    @classmethod
    def create(cls, rows: np.ndarray, weights: np.ndarray, device: Any, dtype: Any) -> "Bags":
        lengths = np.count_nonzero(weights, axis=1)
        return cls(*(jingu.cuda.to_device(a, device) for a in (rows, weights.astype(dtype), lengths)))

    def sum(self, weight: jingu.Tensor, words: Any, scale: Any = None) -> jingu.Tensor:
        """(n, k) word ids -> (n, dim): per row, the sum of its words' composed vectors, each times
        that row's `scale` (n,) when given."""
        raise NotImplementedError


class HostBags(Bags):
    """NumPy: only the used slots, as CSR offsets (the compiled host kernels then skip no padding)."""

    __slots__ = ()

    def sum(self, weight: jingu.Tensor, words: Any, scale: Any = None) -> jingu.Tensor:
        ids, weights, offsets = self._ragged(words, scale)
        return F.embedding_bag(ids, weight, offsets=offsets, mode="sum", per_sample_weights=weights, sparse=True)

    def _ragged(self, words: np.ndarray, scale: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The used slots of every word of `words`, row after row: (table rows, weights, bag offsets)."""
        n, k = words.shape
        flat = words.reshape(-1)
        lengths = np.take(self.lengths, flat)
        ends = np.cumsum(lengths)
        starts = ends - lengths
        total = int(ends[-1]) if ends.size else 0
        slot = np.arange(total) - np.repeat(starts, lengths)  # each entry's slot within its word
        source = np.repeat(flat * self.rows.shape[1], lengths) + slot
        ids = np.take(self.rows.reshape(-1), source)
        weights = np.take(self.weights.reshape(-1), source)
        row_ends = ends.reshape(n, k)[:, -1] if k else np.zeros(n, dtype=ends.dtype)
        offsets = np.zeros(n, dtype=row_ends.dtype)  # no bag at all when n is 0
        offsets[1:] = row_ends[:-1]
        if scale is not None:
            weights = weights * np.repeat(scale.astype(weights.dtype, copy=False), np.diff(offsets, append=total))
        return ids, weights, offsets


class DeviceBags(Bags):
    """CuPy: every slot, the unused ones weighted zero (fixed shapes: no host sync to size the bags)."""

    __slots__ = ()

    def sum(self, weight: jingu.Tensor, words: Any, scale: Any = None) -> jingu.Tensor:
        xp = get_array_module(words)
        n, width = words.shape[0], words.shape[1] * self.rows.shape[1]  # not -1: n may be 0
        rows = xp.take(self.rows, words, axis=0).reshape(n, width)
        weights = xp.take(self.weights, words, axis=0).reshape(n, width)
        if scale is not None:
            weights = weights * scale[:, None]
        return F.embedding_bag(rows, weight, mode="sum", padding_idx=PAD_ID, per_sample_weights=weights, sparse=True)


def context_mean(weight: jingu.Tensor, context: Any, exact: bool = False, bags: Bags | None = None) -> jingu.Tensor:
    """(B, 2*window) context ids, `PAD_ID` for padding -> (B, dim) mean of the words' input vectors
    (their rows, or their `bags` when given).

    A row of padding only gives zeros. `exact=False` is word2vec's update: every context word gets
    the whole error of the mean, not its share (the bag's gradient is scaled by the word count).
    """
    xp = get_array_module(context)
    counts = None
    if bags is None:
        hidden = F.embedding_bag(context, weight, mode="mean", padding_idx=PAD_ID, sparse=True)
    else:
        counts = _words_per_row(xp, context, weight.dtype)
        hidden = bags.sum(weight, context, scale=1.0 / counts)
    if exact:
        return hidden
    if counts is None:
        counts = _words_per_row(xp, context, hidden.dtype)
    return ScaleGradient.apply(hidden, scale=counts[:, None])


def _words_per_row(xp: Any, context: Any, dtype: Any) -> Any:
    """Non-padding words per row, at least 1, summed by einsum (exact for these small counts):
    count_nonzero along rows of a few slots is slow."""
    return xp.maximum(xp.einsum("ij->i", (context != PAD_ID).astype(dtype)), 1)


def input_vectors(weight: jingu.Tensor, words: Any, bags: Bags | None = None) -> jingu.Tensor:
    """(B,) word ids -> (B, dim) their input vectors: their rows, or their `bags` when given."""
    if bags is None:
        return F.embedding(words, weight, sparse=True)
    return bags.sum(weight, words[:, None])


def _softplus(xp: Any, t: Any) -> Any:
    """log(1 + exp(t)) = -log sigmoid(-t), stable."""
    return xp.maximum(t, 0) + xp.log1p(xp.exp(-xp.abs(t)))


def _sigmoid(xp: Any, x: Any) -> Any:
    return 0.5 * (xp.tanh(0.5 * x) + 1.0)


class _Saved(NamedTuple):
    """What `NegativeSampling.backward` needs: d loss / d score per (example, column), the gradient
    of `hidden` for an upstream gradient of 1, and the ids and inputs the matrix gradient is built from."""

    g: Any
    grad_hidden: Any
    ids: Any
    hidden: Any
    shape: tuple[int, ...]


def _group_spans(n: int, group: int, groups_per_chunk: int) -> list[tuple[int, int, int]]:
    """(first group, end group, group size) per chunk: full groups in chunks, then the short last group."""
    full = n // group
    spans = [(lo, min(full, lo + groups_per_chunk), group) for lo in range(0, full, groups_per_chunk)]
    if n % group:
        spans.append((full, full + 1, n % group))
    return spans


class NegativeSampling(jingu.Function):
    """Summed loss -log s(h.w_t) - scale * sum_k log s(-h.w_k) over a batch; inputs (hidden, out_weight).

    `targets` (B,) are the true words, `negatives` (G, K) the negatives of G groups of `group`
    consecutive examples (G = ceil(B / group); the last group may be short): every example of a
    group is scored against the same K negatives. With `group` 1 each example has its own, as in
    word2vec; a larger group gathers each negative row once for the whole group and scores it with
    one small matrix product, which is faster on the CPU (as in Ji et al.'s shared-negative
    batching for skip-gram).

    The loss is a scalar, so its gradients for an upstream `gy` are `gy` times those for 1: the
    forward computes them chunk by chunk, using each chunk's gathered output rows twice while they
    are in cache (scores, then the hidden gradient) instead of keeping the rows for the backward.

    This class is the host's flavour: chunks of `chunk_rows` gathered output rows, whose (rows x d)
    floats stay in L2 cache between the scores and the hidden gradient, and a backward that reads
    `gy` to skip multiplying by the usual 1. `DeviceNegativeSampling` is the GPU's.
    """

    chunk_rows: int | None = 2048
    reads_gradient = True

    def forward(self, hidden: Any, weight: Any, targets: Any = None, negatives: Any = None, scale: float = 1.0,
                group: int = 1) -> Any:
        xp = get_array_module(hidden)
        n, dim = hidden.shape
        n_groups, k = negatives.shape
        if group < 1 or n_groups != -(-n // group):
            raise ValueError(f"{n} examples in groups of {group} need {-(-n // max(group, 1))} rows of negatives, got {n_groups}")
        dtype = hidden.dtype
        # Column 0 of each example is its true word, columns 1..K its group's negatives. With t = score
        # for negatives and t = -score for the true word, every term is softplus(t) (times `scale` for
        # negatives) and d term / d score = coef * sigmoid(t), coef = (-1, scale, ...).
        sign = xp.ones(k + 1, dtype=dtype)
        sign[0] = -1.0
        coef = xp.full(k + 1, scale, dtype=dtype)
        coef[0] = -1.0
        half_sign, half_coef = 0.5 * sign, 0.5 * coef  # sigmoid(x) = 0.5 * tanh(0.5 * x) + 0.5
        scores = xp.empty((n, k + 1), dtype=dtype)
        g = xp.empty((n, k + 1), dtype=dtype)
        want_h = self.needs_input_grad[0]
        grad_h = xp.empty((n, dim), dtype=dtype) if want_h else None
        per_chunk = max(1, self.chunk_rows // (group + k)) if self.chunk_rows else max(n_groups, 1)
        for g_lo, g_hi, size in _group_spans(n, group, per_chunk):
            lo = g_lo * group
            hi = lo + (g_hi - g_lo) * size
            h = hidden[lo:hi]
            true_rows = xp.take(weight, targets[lo:hi], axis=0)  # (m, d)
            neg_rows = xp.take(weight, negatives[g_lo:g_hi], axis=0)  # (c, K, d), once per group
            sc, gc = scores[lo:hi], g[lo:hi]
            sc[:, 0] = xp.einsum("ij,ij->i", true_rows, h)
            # (c, K, d) x (c, d, size): each group's K negatives against its examples
            neg = xp.matmul(neg_rows, h.reshape(-1, size, dim).transpose(0, 2, 1))
            sc[:, 1:] = neg.transpose(0, 2, 1).reshape(-1, k)
            xp.multiply(sc, half_sign, out=gc)  # coef * sigmoid(t) through tanh
            xp.tanh(gc, out=gc)
            gc *= half_coef
            gc += half_coef
            if want_h:
                gh = grad_h[lo:hi]
                xp.matmul(gc[:, 1:].reshape(-1, size, k), neg_rows, out=gh.reshape(-1, size, dim))
                gh += gc[:, :1] * true_rows
        terms = _softplus(xp, scores * sign)
        loss = terms[:, 0].sum() + scale * terms[:, 1:].sum()
        per_example = negatives if group == 1 else xp.repeat(negatives, group, axis=0)[:n]
        ids = xp.concatenate([targets[:, None], per_example], axis=1)
        self.meta = _Saved(g, grad_h, ids, hidden, weight.shape)
        return xp.asarray(loss, dtype=dtype)

    def backward(self, gy: Any) -> Any:
        saved: _Saved = self.meta
        unit = self.reads_gradient and float(gy) == 1.0  # the usual case, loss.backward()
        grad_h = grad_w = None
        if self.needs_input_grad[0]:
            grad_h = saved.grad_hidden if unit else saved.grad_hidden * gy
        if self.needs_input_grad[1]:
            g = saved.g if unit else (saved.g * gy).astype(saved.hidden.dtype, copy=False)
            grad_w = RowSparse.product(saved.ids.reshape(-1), saved.hidden, saved.shape, weights=g.reshape(-1),
                                       slots=saved.ids.shape[1])
        return grad_h, grad_w


class DeviceNegativeSampling(NegativeSampling):
    """`NegativeSampling` on a GPU: the whole batch as one chunk (fewer launches), and `gy` never
    read, since reading it would wait for the device."""

    chunk_rows = None
    reads_gradient = False


@dataclass(frozen=True)
class Backend:
    """How word2vec's ops run where the tables live, so that no op asks which arrays it got: the
    training pipeline holds one (`HOST`, or `device_backend(device)`) and the model uses its classes."""

    device: Any
    bags: type[Bags]
    negative_sampling: type[NegativeSampling]


HOST = Backend(device="cpu", bags=HostBags, negative_sampling=NegativeSampling)


def device_backend(device: Any) -> Backend:
    """The backend of a GPU `device` ("cuda", "cuda:1")."""
    return Backend(device=device, bags=DeviceBags, negative_sampling=DeviceNegativeSampling)


class _SharedSaved(NamedTuple):
    hidden: Any
    target_rows: Any
    negative_rows: Any
    target_scores: Any
    negative_scores: Any
    targets: Any
    negatives: Any
    scale: float
    shape: tuple[int, ...]


class SharedNegativeSampling(jingu.Function):
    """Summed loss -log s(h.w_t) - scale * sum_s log s(-h.w_s) over a batch, the negatives (S,)
    shared by every example (scores as one (B, d) x (d, S) product); inputs (hidden, out_weight)."""

    def forward(self, hidden: Any, weight: Any, targets: Any = None, negatives: Any = None, scale: float = 1.0) -> Any:
        xp = get_array_module(hidden)
        target_rows = xp.take(weight, targets, axis=0)
        negative_rows = xp.take(weight, negatives, axis=0)  # (S, d)
        pos = (hidden * target_rows).sum(axis=1)
        neg = hidden @ negative_rows.T
        self.meta = _SharedSaved(hidden, target_rows, negative_rows, pos, neg, targets, negatives, scale, weight.shape)
        loss = _softplus(xp, -pos).sum() + scale * _softplus(xp, neg).sum()
        return xp.asarray(loss, dtype=hidden.dtype)

    def backward(self, gy: Any) -> Any:
        s: _SharedSaved = self.meta
        xp = get_array_module(s.hidden)
        g_pos = ((_sigmoid(xp, s.target_scores) - 1.0) * gy).astype(s.hidden.dtype, copy=False)  # d loss / d score
        g_neg = (_sigmoid(xp, s.negative_scores) * (s.scale * gy)).astype(s.hidden.dtype, copy=False)
        grad_h = grad_w = None
        if self.needs_input_grad[0]:
            grad_h = g_pos[:, None] * s.target_rows + g_neg @ s.negative_rows
        if self.needs_input_grad[1]:
            ids = xp.concatenate([s.targets, s.negatives])
            values = xp.concatenate([g_pos[:, None] * s.hidden, g_neg.T @ s.hidden])
            grad_w = RowSparse(ids, values, s.shape)
        return grad_h, grad_w
