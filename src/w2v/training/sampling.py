"""Random choices of word2vec training that are a pure function of (seed, epoch, position).

Subsampling (`keep`) and shrinking windows (`b`) are drawn per token occurrence from a counter-based
generator (splitmix64 of seed, epoch, stream and position), not from a stateful one. So any Parquet
row group can be masked on its own, in any order, on CPU or GPU, and an epoch resumed from a
checkpoint draws exactly what an uninterrupted run would. Negatives are drawn the same way, by
counter (the example's index in the epoch), so they can be drawn per batch or for a whole shuffle
buffer at once, on the host or on the device, with the same result. The shuffle of each buffer
is a pure function of (seed, epoch, buffer index) too: NumPy's generator on the host
(`permutation`), a sort of counter keys on a GPU (`argsort_permutation`, which NumPy reproduces).
`Draws` and `HostDraws` bind one epoch's draws for the device's and the host's pipeline.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jingu.cuda import get_array_module

_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_MASK64 = (1 << 64) - 1

STREAM_KEEP = 1
STREAM_WINDOW = 2
STREAM_SHUFFLE = 3
STREAM_NEGATIVE = 4
STREAM_WORKER = 5
STREAM_PART_ORDER = 6


def _mix_int(x: int) -> int:
    """splitmix64's finalizer on a Python int (used for the per-epoch key)."""
    x &= _MASK64
    x = ((x ^ (x >> 30)) * _M1) & _MASK64
    x = ((x ^ (x >> 27)) * _M2) & _MASK64
    return x ^ (x >> 31)


def stream_key(seed: int, epoch: int, stream: int) -> int:
    """A 64-bit key for one (seed, epoch, stream); distinct inputs give unrelated keys."""
    return _mix_int(_mix_int(_mix_int(seed + _GOLDEN) + epoch * _GOLDEN) + stream)


def random_bits(counters: Any, key: int) -> Any:
    """64 random bits (uint64) per counter: splitmix64(counter * golden + key), NumPy or CuPy."""
    xp = _xp(counters)
    x = counters.astype(xp.uint64, copy=False) * xp.uint64(_GOLDEN) + xp.uint64(key)
    x = (x ^ (x >> xp.uint64(30))) * xp.uint64(_M1)
    x = (x ^ (x >> xp.uint64(27))) * xp.uint64(_M2)
    return x ^ (x >> xp.uint64(31))


def uniform(positions: Any, key: int) -> Any:
    """Uniform floats in [0, 1), one per position, from splitmix64(position * golden + key)."""
    xp = _xp(positions)
    return (random_bits(positions, key) >> xp.uint64(11)).astype(xp.float64) * (1.0 / (1 << 53))


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


def window_keep_mask(positions: Any, offsets: Any, ids: Any, keep_prob: Any, seed: int, epoch: int) -> Any:
    """`keep_mask` of the occurrences at `positions[:, None] + offsets[None, :]` (`ids` of that shape),
    one draw per (row, offset), on NumPy or CuPy."""
    return keep_mask(positions[:, None] + offsets[None, :], ids, keep_prob, seed, epoch)


def host_window_keep_mask(positions: np.ndarray, offsets: np.ndarray, ids: np.ndarray, keep_prob: np.ndarray,
                          seed: int, epoch: int) -> np.ndarray:
    """`window_keep_mask` on NumPy: when `positions` are consecutive (a row group of CBOW rows), each
    position is drawn once and each offset's column is a shifted view of those draws, instead of
    mixing bits for every (row, offset) pair; the draws are the same."""
    n = positions.shape[0]
    if n < 2 or not bool((np.diff(positions) == 1).all()):
        return window_keep_mask(positions, offsets, ids, keep_prob, seed, epoch)
    first, last = int(offsets.min()), int(offsets.max())
    start = int(positions[0]) + first
    drawn = uniform(np.arange(start, start + n + last - first, dtype=np.int64), stream_key(seed, epoch, STREAM_KEEP))
    windows = np.lib.stride_tricks.sliding_window_view(drawn, last - first + 1)  # row i: positions[i] + first ...
    return windows[:, offsets - first] < keep_prob[ids]


def window_sizes(positions: Any, window: int, seed: int, epoch: int) -> Any:
    """Shrinking window b in 1..window per center occurrence."""
    xp = _xp(positions)
    u = uniform(positions, stream_key(seed, epoch, STREAM_WINDOW))
    return (u * window).astype(xp.int64) + 1


def unigram_table(counts: np.ndarray, exponent: float, size: int | None = None) -> np.ndarray:
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


def draw_negatives(table: Any, key: int, start: int, shape: tuple[int, ...]) -> Any:
    """Ids drawn from a `unigram_table` (NumPy or CuPy, the result lives with it), of `shape`.

    Draw i (i = start, start + 1, ... in C order over `shape`) is table[slot(random_bits(i, key))],
    the slot the top 32 random bits times the table size, shifted down (no modulo, no floats).
    """
    xp = _xp(table)
    count = int(np.prod(shape, dtype=np.int64))
    bits = random_bits(xp.arange(start, start + count, dtype=xp.uint64), key)
    slots = ((bits >> xp.uint64(32)) * xp.uint64(table.shape[0])) >> xp.uint64(32)
    return xp.take(table, slots.astype(xp.int64)).reshape(shape)


def worker_seed(seed: int, worker: int, workers: int) -> int:
    """The seed of training worker `worker` of `workers`: `seed` itself when one worker trains, else
    one seed per worker, so that workers draw unrelated masks, shuffles and negatives."""
    if not 0 <= worker < workers:
        raise ValueError(f"worker {worker} is outside 0..{workers - 1}")
    return seed if workers == 1 else _mix_int(stream_key(seed, 0, STREAM_WORKER) + worker)


def negative_key(seed: int, epoch: int) -> int:
    """The key of one epoch's negative draws."""
    return stream_key(seed, epoch, STREAM_NEGATIVE)


def permutation(n: int, seed: int, epoch: int, index: int) -> np.ndarray:
    """A random order of `n` items for shuffle buffer `index` of an epoch, on the host: a
    `numpy.random.Generator` permutation (4x faster than `argsort_permutation` on the CPU)."""
    return np.random.default_rng(_shuffle_key(seed, epoch, index)).permutation(n)


def argsort_permutation(n: int, seed: int, epoch: int, index: int, xp: Any = np) -> Any:
    """The device's shuffle: an argsort of counter-based random keys, made and sorted where `xp`
    (NumPy or CuPy) keeps its arrays, with no host round trip.

    The keys are distinct (splitmix64 is a bijection), so the order does not depend on the sort
    algorithm: NumPy reproduces a GPU's order exactly.
    """
    return xp.argsort(random_bits(xp.arange(n, dtype=xp.uint64), _shuffle_key(seed, epoch, index)))


def _shuffle_key(seed: int, epoch: int, index: int) -> int:
    return _mix_int(stream_key(seed, epoch, STREAM_SHUFFLE) + index)


def part_order(n: int, seed: int, epoch: int) -> list[int]:
    """The order in which an epoch reads the `n` parts of a pairs dataset (the identity for one part)."""
    if n <= 1:
        return list(range(n))
    return np.random.default_rng(stream_key(seed, epoch, STREAM_PART_ORDER)).permutation(n).tolist()


def _xp(x: Any) -> Any:
    return get_array_module(x)


class Draws:
    """One epoch's draws for one seed (subsampling, windows, shuffles) on NumPy or CuPy arrays alike:
    the device's flavour. `HostDraws` is the CPU's: the same masks and windows, faster on NumPy, and
    its own shuffle order. The training pipeline names which one it uses (`pipeline.draws`)."""

    def __init__(self, seed: int, epoch: int) -> None:
        self.seed, self.epoch = seed, epoch

    def keep(self, positions: Any, ids: Any, keep_prob: Any) -> Any:
        return keep_mask(positions, ids, keep_prob, self.seed, self.epoch)

    def window_keep(self, positions: Any, offsets: Any, ids: Any, keep_prob: Any) -> Any:
        return window_keep_mask(positions, offsets, ids, keep_prob, self.seed, self.epoch)

    def window_sizes(self, positions: Any, window: int) -> Any:
        return window_sizes(positions, window, self.seed, self.epoch)

    def negative_key(self) -> int:
        return negative_key(self.seed, self.epoch)

    def shuffle(self, n: int, index: int, xp: Any) -> Any:
        """The order of shuffle buffer `index` (`n` examples held as `xp` arrays)."""
        return argsort_permutation(n, self.seed, self.epoch, index, xp)


class HostDraws(Draws):
    """The CPU's draws: the same values, the window mask drawn once per position of a row group and
    the shuffle from NumPy's generator."""

    def window_keep(self, positions: Any, offsets: Any, ids: Any, keep_prob: Any) -> Any:
        return host_window_keep_mask(positions, offsets, ids, keep_prob, self.seed, self.epoch)

    def shuffle(self, n: int, index: int, xp: Any) -> Any:
        return permutation(n, self.seed, self.epoch, index)
