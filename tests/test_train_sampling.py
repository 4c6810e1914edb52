"""Per-epoch sampling and batch streaming: subsampling, shrinking windows, negatives, shuffle buffer."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from w2v.training import sampling
from w2v.training.pipeline import mask_cbow, mask_skipgram
from helpers import batches_of, pairs_dataset
from w2v.data.vocab import load_vocab


def test_keep_probabilities_follow_gensim():
    counts = np.array([0, 1000, 100, 10, 1])
    total = counts.sum()
    probs = sampling.keep_probabilities(counts, 1e-2)
    t = 1e-2 * total
    for c, p in zip(counts[1:], probs[1:]):
        assert p == pytest.approx(min((np.sqrt(c / t) + 1) * t / c, 1.0))
    assert probs[0] == 1.0 and probs[-1] == 1.0 and probs[1] < 0.5
    assert np.all(sampling.keep_probabilities(counts, 0.0) == 1.0)


def test_uniform_is_a_pure_function_of_position_and_key():
    pos = np.arange(200_000)
    key = sampling.stream_key(1, 0, sampling.STREAM_KEEP)
    u = sampling.uniform(pos, key)
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.005
    np.testing.assert_array_equal(sampling.uniform(pos[12345:12400], key), u[12345:12400])
    other = sampling.uniform(pos, sampling.stream_key(1, 1, sampling.STREAM_KEEP))
    assert abs(np.corrcoef(u, other)[0, 1]) < 0.01
    assert sampling.stream_key(1, 0, 1) != sampling.stream_key(2, 0, 1)


def test_subsampling_keeps_the_expected_share():
    pos = np.arange(100_000)
    ids = np.ones(100_000, dtype=np.int64)
    keep_prob = np.array([1.0, 0.3])
    kept = sampling.keep_mask(pos, ids, keep_prob, seed=5, epoch=2).mean()
    assert kept == pytest.approx(0.3, abs=0.01)


@pytest.mark.parametrize("spread", [1, 50])  # a row group's windows, scattered positions
def test_keep_mask_is_the_uniform_of_each_occurrence(spread):
    rng = np.random.default_rng(3)
    pos = 1000 + spread * np.arange(5_000)
    offs = np.array([-2, -1, 1, 2])
    positions = pos[:, None] + offs[None, :]
    ids = rng.integers(1, 4, size=positions.shape)
    keep_prob = np.array([1.0, 0.2, 0.5, 0.9])
    u = sampling.uniform(positions, sampling.stream_key(7, 1, sampling.STREAM_KEEP))
    np.testing.assert_array_equal(sampling.keep_mask(positions, ids, keep_prob, seed=7, epoch=1), u < keep_prob[ids])


@pytest.mark.parametrize("spread", [1, 2])  # consecutive positions (a CBOW row group), and not
def test_window_keep_mask_is_keep_mask_of_each_window_slot(spread):
    rng = np.random.default_rng(4)
    pos = 500 + spread * np.arange(3_000)
    offs = np.array([-3, -2, -1, 1, 2, 3])
    ids = rng.integers(0, 4, size=(pos.shape[0], offs.shape[0]))
    keep_prob = np.array([1.0, 0.2, 0.5, 0.9])
    expected = sampling.keep_mask(pos[:, None] + offs[None, :], ids, keep_prob, seed=2, epoch=3)
    for mask in (sampling.window_keep_mask, sampling.host_window_keep_mask):
        np.testing.assert_array_equal(mask(pos, offs, ids, keep_prob, seed=2, epoch=3), expected)
    for draws in (sampling.Draws(2, 3), sampling.HostDraws(2, 3)):  # the device's and the host's, alike
        np.testing.assert_array_equal(draws.window_keep(pos, offs, ids, keep_prob), expected)
        np.testing.assert_array_equal(draws.keep(pos, ids[:, 0], keep_prob),
                                      sampling.keep_mask(pos, ids[:, 0], keep_prob, seed=2, epoch=3))
        np.testing.assert_array_equal(draws.window_sizes(pos, 5), sampling.window_sizes(pos, 5, seed=2, epoch=3))
        assert draws.negative_key() == sampling.negative_key(2, 3)


def test_random_bits_are_splitmix64():
    counters = np.array([0, 1, 2**40 + 3], dtype=np.int64)
    expected = []
    for c in counters.tolist():
        x = (c * 0x9E3779B97F4A7C15 + 99) & (2**64 - 1)
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & (2**64 - 1)
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & (2**64 - 1)
        expected.append(x ^ (x >> 31))
    np.testing.assert_array_equal(sampling.random_bits(counters, 99), np.array(expected, dtype=np.uint64))
    np.testing.assert_array_equal(counters, [0, 1, 2**40 + 3])  # the input is not mixed in place


def test_window_sizes_cover_one_to_window_uniformly():
    b = sampling.window_sizes(np.arange(50_000), 5, seed=1, epoch=0)
    counts = np.bincount(b, minlength=6)
    assert counts[0] == 0 and set(np.nonzero(counts)[0]) == {1, 2, 3, 4, 5}
    assert counts[1:].min() > 0.18 * 50_000


def test_unigram_table_follows_unigram_power_and_never_draws_padding():
    counts = np.array([0, 800, 100, 100, 1])
    table = sampling.unigram_table(counts, 0.75)
    draws = sampling.draw_negatives(table, sampling.negative_key(0, 0), 0, (200_000,))
    assert draws.min() >= 1
    freq = np.bincount(draws, minlength=5)[1:] / draws.shape[0]
    expected = counts[1:] ** 0.75 / (counts[1:] ** 0.75).sum()
    np.testing.assert_allclose(freq, expected, atol=0.005)


@pytest.fixture(scope="module")
def pairs(zipf_pairs):
    root = zipf_pairs
    vocab = load_vocab(root / "vocab.tsv")
    return {"cbow": pairs_dataset(root / "cbow.parquet", "cbow", 3, cache_bytes=0),
            "skipgram": pairs_dataset(root / "skipgram.parquet", "skipgram", 3),
            "keep": sampling.keep_probabilities(vocab.counts, 1e-2)}


def _cbow_pairs(center, context):
    return Counter((int(c), int(x)) for c, row in zip(center, context) for x in row if x)


@pytest.mark.parametrize("epoch", [0, 3])
def test_cbow_and_skipgram_masks_keep_the_same_pairs(pairs, epoch):
    cbow = Counter()
    for group in pairs["cbow"].row_groups():
        cbow += _cbow_pairs(*mask_cbow(group, pairs["keep"], 3, sampling.HostDraws(7, epoch)))
    sg = Counter()
    for group in pairs["skipgram"].row_groups():
        center, context = mask_skipgram(group, pairs["keep"], 3, sampling.HostDraws(7, epoch))
        sg += Counter(zip(center.tolist(), context.tolist()))
    # A CBOW row whose center survives but has no context left is dropped; skip-gram has no such row.
    assert cbow == sg and sum(cbow.values()) > 1000


def test_masks_change_with_the_epoch(pairs):
    group = next(iter(pairs["skipgram"].row_groups()))
    a = mask_skipgram(group, pairs["keep"], 3, sampling.HostDraws(7, 0))[1]
    b = mask_skipgram(group, pairs["keep"], 3, sampling.HostDraws(7, 1))[1]
    assert a.shape != b.shape or np.any(a != b)


def test_no_subsampling_and_window_one_keeps_every_adjacent_pair(pairs):
    ones = np.ones_like(pairs["keep"])
    total = 0
    for group in pairs["skipgram"].row_groups():
        center, _ = mask_skipgram(group, ones, 1, sampling.HostDraws(7, 0))
        total += center.shape[0]
    n_adjacent = sum(int((np.abs(g["offset"]) == 1).sum()) for g in pairs["skipgram"].row_groups())
    assert total == n_adjacent


@pytest.mark.parametrize("model", ["cbow", "skipgram"])
@pytest.mark.parametrize("buffer_size", [1, 700, 10**6])
def test_batches_hold_every_masked_example_once(pairs, model, buffer_size):
    source = pairs[model]
    expected = Counter()
    for group in source.row_groups():
        center, context = (mask_cbow if model == "cbow" else mask_skipgram)(group, pairs["keep"], 3, sampling.HostDraws(7, 2))
        expected += Counter(zip(center.tolist(), map(str, context.tolist())))
    got, progress, sizes = Counter(), 0.0, []
    for batch in batches_of(source, pairs["keep"], 7, 2, 64, buffer_size):
        got += Counter(zip(batch.center.tolist(), map(str, batch.context.tolist())))
        progress += batch.progress
        sizes.append(batch.center.shape[0])
    assert got == expected
    assert progress == pytest.approx(source.num_rows)
    assert max(sizes) == 64 and all(s > 0 for s in sizes)


def test_a_buffer_below_a_row_group_shuffles_one_row_group(pairs):
    """The buffer takes in whole row groups (500 rows in this fixture), so any smaller size acts as
    one row group (what the config schema says of `shuffle_buffer`), and a larger one mixes groups."""
    def centers(buffer_size):
        return np.concatenate([b.center for b in batches_of(pairs["skipgram"], pairs["keep"], 7, 0, 64, buffer_size)])

    one_group = centers(500)
    np.testing.assert_array_equal(centers(499), one_group)
    # A buffer of 1 also drains after the short last group (174 rows), so only the tail differs.
    head = one_group.shape[0] - 500
    np.testing.assert_array_equal(centers(1)[:head], one_group[:head])
    assert np.any(centers(1000)[:head] != one_group[:head])


def test_batches_are_shuffled_and_reproducible(pairs):
    def first(seed, epoch=0):
        batches = batches_of(pairs["cbow"], pairs["keep"], seed, epoch, 32, 10**6)
        return next(iter(batches)).center

    np.testing.assert_array_equal(first(1), first(1))
    assert np.any(first(1) != first(2)) and np.any(first(1) != first(1, epoch=1))
