"""Fused word2vec ops as `jingu.Function`s: forward and backward on raw arrays (NumPy or CuPy).

Each op hands its table a lazy row-sparse gradient (`RowSparse.product`: which rows, with which
weights, of which output-gradient rows), never a `(entries, dim)` array of row values. SGD then
scatters it straight into the table (SciPy's CSC kernel on the CPU, one atomic kernel on a GPU):
no unique rows, no gather and write-back; optimizers that need per-row sums coalesce it (CPU) or
densify it with one scatter (GPU, where a sort would make the host wait for the device).

- `ContextMean`: CBOW's hidden layer, the mean of the non-padding context rows. Its backward is
  either the exact gradient of the mean (`exact=True`) or word2vec/gensim's rule, which hands every
  context word the full error of the averaged context (`exact=False`).
- `RowGather`: `weight[ids]` (skip-gram's input vector).
- `NegativeSampling`: the summed negative-sampling loss of a batch, with negatives either drawn per
  example (`(B, K)`) or shared by the whole batch (`(S,)`, their terms scaled by `scale`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import jingu
from jingu import RowSparse
from jingu.cuda import get_array_module
from jingu.sparse import weighted_row_sum


class ContextMean(jingu.Function):
    """Mean of the rows `weight[context[i, j]]` over the non-padding entries of each row of `context`.

    A row whose entries are all padding gives zeros. `exact=False` is word2vec's update: each
    context word receives the whole gradient of the mean (not divided by the count).
    """

    def forward(self, weight: Any, context: Any = None, padding_idx: int = 0, exact: bool = False) -> Any:
        xp = get_array_module(weight)
        if xp.__name__ != "numpy":
            return self._forward_dense(xp, weight, context, padding_idx, exact)
        keep = context != padding_idx
        counts = xp.count_nonzero(keep, axis=1)
        ids = context[keep]
        inv = 1.0 / xp.maximum(counts, 1).astype(weight.dtype)
        batch = context.shape[0]
        indptr = xp.zeros(batch + 1, dtype=xp.int32)
        xp.cumsum(counts, dtype=xp.int32, out=indptr[1:])
        data = np.repeat(inv, counts)  # row i's weight, once per kept slot (8x cheaper than nonzero)
        self.meta = (ids, data, indptr, weight.shape, exact)
        return weighted_row_sum(weight, ids, data, indptr=indptr)

    def _forward_dense(self, xp: Any, weight: Any, context: Any, padding_idx: int, exact: bool) -> Any:
        """GPU: an embedding bag over every context slot, padding weighted zero (one kernel).

        Building a CSR matrix needs the kept slots' positions (a boolean mask or `nonzero`), which
        makes the host wait for the device twice per batch; weighting all 2*window slots does not.
        """
        keep = (context != padding_idx).astype(weight.dtype)
        slot_weight = keep / xp.maximum(keep.sum(axis=1, keepdims=True), 1)
        self.meta = ("dense", context, slot_weight if exact else keep, weight.shape)
        return weighted_row_sum(weight, context, slot_weight)

    def backward(self, gy: Any) -> Any:
        if not self.needs_input_grad[0]:
            return (None,)
        xp = get_array_module(gy)
        if isinstance(self.meta[0], str):  # "dense": the device path
            _, context, slot_values, shape = self.meta
            return (_scatter_scores(xp, slot_values, context, gy, shape),)
        ids, data, indptr, shape, exact = self.meta
        values = data if exact else None  # gensim's rule: weight 1 per context word
        return (RowSparse.product(ids, gy, shape, weights=values, indptr=indptr),)


class RowGather(jingu.Function):
    """`weight[ids]` with a row-sparse gradient (rows may repeat; the optimizer sums them)."""

    def forward(self, weight: Any, ids: Any = None) -> Any:
        self.meta = (ids, weight.shape)
        return get_array_module(weight).take(weight, ids, axis=0)

    def backward(self, gy: Any) -> Any:
        ids, shape = self.meta
        if not self.needs_input_grad[0]:
            return (None,)
        return (RowSparse(ids, gy, shape),)


def _logsigmoid(xp: Any, x: Any) -> Any:
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): stable, and 20x faster than logaddexp here."""
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


def _sigmoid(xp: Any, x: Any) -> Any:
    return 0.5 * (xp.tanh(0.5 * x) + 1.0)


def _scatter_scores(xp: Any, g: Any, ids: Any, hidden: Any, shape: tuple[int, ...]) -> RowSparse:
    """Table gradient: row t sums g[b, k] * hidden[b] over the (b, k) with ids[b, k] == t (lazy: no
    (B, K+1, d) array is ever built)."""
    return RowSparse.product(ids.reshape(-1), hidden, shape, weights=g.reshape(-1), slots=ids.shape[1])


# Gathered output rows per chunk of the fused CPU forward: (rows x d) floats stay in L2 cache.
FUSED_CHUNK_ROWS = 2048


class NegativeSampling(jingu.Function):
    """Summed loss -log s(h.w_t) - scale * sum_k log s(-h.w_k) over a batch; inputs (hidden, out_weight).

    `targets` (B,) are the true words; `negatives` is (B, K) for per-example negatives or (S,) for
    negatives shared by every example of the batch.
    """

    def forward(self, hidden: Any, weight: Any, targets: Any = None, negatives: Any = None, scale: float = 1.0) -> Any:
        xp = get_array_module(hidden)
        if negatives.ndim == 2:
            # Column 0 is the true word, columns 1.. its negatives.
            ids = xp.concatenate([targets[:, None], negatives], axis=1)
            if xp.__name__ == "numpy":
                return self._forward_fused(xp, hidden, weight, ids, scale)
            rows = xp.take(weight, ids, axis=0)  # (B, K+1, d): one gather, one batched product
            scores = xp.matmul(rows, hidden[:, :, None])[:, :, 0]
            pos, neg = scores[:, 0], scores[:, 1:]
            self.meta = (hidden, rows, ids, scores, scale, weight.shape)
        else:
            pos_w = xp.take(weight, targets, axis=0)
            neg_w = xp.take(weight, negatives, axis=0)  # (S, d)
            pos = (hidden * pos_w).sum(axis=1)
            neg = hidden @ neg_w.T
            self.meta = (hidden, pos_w, neg_w, pos, neg, targets, negatives, scale, weight.shape)
        loss = -_logsigmoid(xp, pos).sum() - scale * _logsigmoid(xp, -neg).sum()
        return xp.asarray(loss, dtype=hidden.dtype)

    def _forward_fused(self, xp: Any, hidden: Any, weight: Any, ids: Any, scale: float) -> Any:
        """CPU, per-example negatives: the loss, plus d loss / d score and the hidden gradient.

        The loss is a scalar, so its gradients for any upstream `gy` are `gy` times those for 1.
        Computing them here, chunk by chunk, uses each chunk's gathered output rows twice while
        they sit in cache (scores, then the hidden gradient) instead of writing a (B, K+1, d)
        array and reading it back in backward.
        """
        n, k1 = ids.shape
        dtype = hidden.dtype
        # With t = x for negatives and t = -x for the true word, every term is softplus(t) (times
        # `scale` for negatives) and d term / d x = coef * sigmoid(t), coef = (-1, scale, ...).
        sign = xp.ones(k1, dtype=dtype)
        sign[0] = -1.0
        coef = xp.full(k1, scale, dtype=dtype)
        coef[0] = -1.0
        half_sign, half_coef = 0.5 * sign, 0.5 * coef
        scores = xp.empty((n, k1, 1), dtype=dtype)
        g = xp.empty((n, k1), dtype=dtype)
        want_h = self.needs_input_grad[0]
        grad_h = xp.empty((n, 1, hidden.shape[1]), dtype=dtype) if want_h else None
        step = max(1, FUSED_CHUNK_ROWS // k1)
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            rows = xp.take(weight, ids[lo:hi], axis=0)  # (c, K+1, d)
            xp.matmul(rows, hidden[lo:hi, :, None], out=scores[lo:hi])
            gc = g[lo:hi]
            xp.multiply(scores[lo:hi, :, 0], half_sign, out=gc)  # coef * sigmoid(t) via tanh
            xp.tanh(gc, out=gc)
            gc *= half_coef
            gc += half_coef
            if want_h:
                xp.matmul(gc[:, None, :], rows, out=grad_h[lo:hi])
        t = scores[:, :, 0] * sign
        terms = xp.maximum(t, 0) + xp.log1p(xp.exp(-xp.abs(t)))  # softplus(t) = -log s(-t)
        loss = terms[:, 0].sum() + scale * terms[:, 1:].sum()
        self.meta = ("fused", hidden, g, None if grad_h is None else grad_h[:, 0], ids, weight.shape)
        return xp.asarray(loss, dtype=dtype)

    def _backward_fused(self, gy: Any) -> Any:
        _, hidden, g, grad_h, ids, shape = self.meta
        xp = get_array_module(hidden)
        unit = float(gy) == 1.0  # the usual case: loss.backward()
        if self.needs_input_grad[0] and not unit:
            grad_h = grad_h * gy
        if not self.needs_input_grad[0]:
            grad_h = None
        grad_w = None
        if self.needs_input_grad[1]:
            g = g if unit else (g * gy).astype(hidden.dtype, copy=False)
            grad_w = _scatter_scores(xp, g, ids, hidden, shape)
        return grad_h, grad_w

    def backward(self, gy: Any) -> Any:
        if isinstance(self.meta[0], str):
            return self._backward_fused(gy)
        if len(self.meta) == 6:
            return self._backward_per_example(gy)
        hidden, pos_w, neg_w, pos, neg, targets, negatives, scale, shape = self.meta
        xp = get_array_module(hidden)
        g_pos = ((_sigmoid(xp, pos) - 1.0) * gy).astype(hidden.dtype, copy=False)  # d loss / d score
        g_neg = (_sigmoid(xp, neg) * (scale * gy)).astype(hidden.dtype, copy=False)
        grad_h = grad_w = None
        if self.needs_input_grad[0]:
            grad_h = g_pos[:, None] * pos_w + g_neg @ neg_w
        if self.needs_input_grad[1]:
            ids = xp.concatenate([targets, negatives])
            values = xp.concatenate([g_pos[:, None] * hidden, g_neg.T @ hidden])
            grad_w = RowSparse(ids, values, shape)
        return grad_h, grad_w

    def _backward_per_example(self, gy: Any) -> Any:
        hidden, rows, ids, scores, scale, shape = self.meta
        xp = get_array_module(hidden)
        g = _sigmoid(xp, scores)  # d loss / d score: s - 1 for the true word, scale * s for negatives
        g[:, 0] -= 1.0
        if scale != 1.0:
            g[:, 1:] *= scale
        g = (g * gy).astype(hidden.dtype, copy=False)
        grad_h = grad_w = None
        if self.needs_input_grad[0]:
            grad_h = xp.matmul(g[:, None, :], rows)[:, 0]
        if self.needs_input_grad[1]:
            grad_w = _scatter_scores(xp, g, ids, hidden, shape)
        return grad_h, grad_w
