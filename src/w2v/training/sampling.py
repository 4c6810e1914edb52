"""Random choices of word2vec training that are a pure function of (seed, epoch, position).

Subsampling (`keep`) and shrinking windows (`b`) are drawn per token occurrence from a counter-based
generator (splitmix64 of seed, epoch, stream and position), not from a stateful one. So any Parquet
row group can be masked on its own, in any order, on CPU or GPU, and an epoch resumed from a
checkpoint draws exactly what an uninterrupted run would. Negatives come from a per-epoch
`numpy.random.Generator` seeded with (seed, epoch).
"""

from __future__ import annotations

from typing import Any

import numpy as np

_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_MASK64 = (1 << 64) - 1

STREAM_KEEP = 1
STREAM_WINDOW = 2


def _mix_int(x: int) -> int:
    """splitmix64's finalizer on a Python int (used for the per-epoch key)."""
    x &= _MASK64
    x = ((x ^ (x >> 30)) * _M1) & _MASK64
    x = ((x ^ (x >> 27)) * _M2) & _MASK64
    return x ^ (x >> 31)


def stream_key(seed: int, epoch: int, stream: int) -> int:
    """A 64-bit key for one (seed, epoch, stream); distinct inputs give unrelated keys."""
    return _mix_int(_mix_int(_mix_int(seed + _GOLDEN) + epoch * _GOLDEN) + stream)


def uniform(positions: Any, key: int) -> Any:
    """Uniform floats in [0, 1), one per position, from splitmix64(position * golden + key)."""
    xp = _xp(positions)
    x = positions.astype(xp.uint64) * xp.uint64(_GOLDEN) + xp.uint64(key)
    x = (x ^ (x >> xp.uint64(30))) * xp.uint64(_M1)
    x = (x ^ (x >> xp.uint64(27))) * xp.uint64(_M2)
    x = x ^ (x >> xp.uint64(31))
    return (x >> xp.uint64(11)).astype(xp.float64) * (1.0 / (1 << 53))


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """gensim's subsampling keep probability per vocabulary id (1 for padding and when sample is 0).

    p = (sqrt(f / t) + 1) * t / f with t = sample * total count, capped at 1.
    """
    counts = np.asarray(counts, dtype=np.float64)
    probs = np.ones_like(counts)
    if sample <= 0:
        return probs
    threshold = sample * counts.sum()
    seen = counts > 0
    f = counts[seen]
    probs[seen] = np.minimum((np.sqrt(f / threshold) + 1.0) * threshold / f, 1.0)
    return probs


def keep_mask(positions: Any, ids: Any, keep_prob: Any, seed: int, epoch: int) -> Any:
    """True where the token occurrence at `positions` (with vocab id `ids`) survives subsampling."""
    return uniform(positions, stream_key(seed, epoch, STREAM_KEEP)) < keep_prob[ids]


def window_sizes(positions: Any, window: int, seed: int, epoch: int) -> Any:
    """Shrinking window b in 1..window per center occurrence."""
    xp = _xp(positions)
    u = uniform(positions, stream_key(seed, epoch, STREAM_WINDOW))
    return (u * window).astype(xp.int64) + 1


def negative_table(counts: np.ndarray, exponent: float, size: int | None = None) -> np.ndarray:
    """word2vec's unigram table: ids laid out in proportion to count ** exponent (padding never).

    A uniform index into the table draws a negative in O(1) (a binary search per draw was 20x
    slower here). The default size, 64 slots per word between 2**20 and 2**25, keeps the
    quantization error far below what training notices.
    """
    weights = np.asarray(counts, dtype=np.float64) ** exponent
    weights[0] = 0.0
    if weights.sum() <= 0:
        raise ValueError("the vocabulary has no counted words to draw negative samples from")
    if size is None:
        size = int(min(max(1 << 20, 64 * len(weights)), 1 << 25))
    cdf = np.cumsum(weights) / weights.sum()
    slots = (np.arange(size, dtype=np.float64) + 0.5) / size
    return np.minimum(np.searchsorted(cdf, slots, side="right"), len(weights) - 1).astype(np.int32)


def draw_negatives(rng: np.random.Generator, table: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Ids drawn from a `negative_table` (int32, of `shape`)."""
    return table[rng.integers(0, table.shape[0], size=shape)]


def epoch_generator(seed: int, epoch: int) -> np.random.Generator:
    """The generator of one epoch's shuffling and negatives: same (seed, epoch), same draws."""
    return np.random.default_rng([seed, epoch, 0x5EED])


def _xp(x: Any) -> Any:
    mod = type(x).__module__.split(".")[0]
    if mod == "cupy":
        import cupy  # noqa: PLC0415

        return cupy
    return np
