"""Edges of the counter-based sampling that the statistical tests in test_train_sampling.py do not
pin: published splitmix64 values, exact keep-probability boundaries, the unigram table's slots and
the bounds a worker index must respect. Written to kill mutants that benchmarks/mutation.sh found."""

from __future__ import annotations

import numpy as np
import pytest

from w2v.training import sampling

# The first outputs of Vigna's splitmix64 seeded with 0 (the reference implementation's sequence).
SPLITMIX64_SEED0 = [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F, 0xF88BB8A8724C81EC]


def test_random_bits_match_the_published_splitmix64_sequence():
    bits = sampling.random_bits(np.arange(1, 5, dtype=np.int64), 0)
    np.testing.assert_array_equal(bits, np.array(SPLITMIX64_SEED0, dtype=np.uint64))
    assert sampling._mix_int(0x9E3779B97F4A7C15) == SPLITMIX64_SEED0[0]  # the Python-int path agrees
    assert sampling.uniform(np.array([1]), 0)[0] == (SPLITMIX64_SEED0[0] >> 11) / 2**53


def test_keep_probability_of_a_word_seen_once_follows_the_formula():
    counts = np.array([0, 1, 10, 9989])
    t = 1e-5 * counts.sum()  # 0.1: even a word seen once is subsampled
    probs = sampling.keep_probabilities(counts, 1e-5)
    with np.errstate(all="raise"):  # a word of count 0 (padding) is never divided by
        again = sampling.keep_probabilities(counts, 1e-5)
    np.testing.assert_array_equal(probs, again)
    assert probs[0] == 1.0
    assert probs[1] == pytest.approx((np.sqrt(1 / t) + 1) * t)
    assert probs[1] < 0.5


def test_a_draw_equal_to_the_keep_probability_drops_the_word_on_both_paths():
    # keep means uniform < probability, strictly, in the general path and the row-group fast path.
    positions, offsets = np.arange(100, 110), np.array([-1, 1])
    key = sampling.stream_key(4, 2, sampling.STREAM_KEEP)
    u = sampling.uniform(np.arange(99, 112), key)
    keep_prob = np.array([1.0, u[5]])  # word 1's probability is exactly the draw at position 104
    ids = np.ones((10, 2), dtype=np.int64)
    fast = sampling.host_window_keep_mask(positions, offsets, ids, keep_prob, seed=4, epoch=2)
    slow = sampling.keep_mask(positions[:, None] + offsets[None, :], ids, keep_prob, seed=4, epoch=2)
    np.testing.assert_array_equal(fast, slow)
    assert not fast[3, 1] and not fast[5, 0]  # 103 + 1 and 105 - 1: the tie is dropped


def test_unigram_table_slots_are_the_centres_of_equal_shares():
    # Slot centres (i + 0.5) / 8 against the cdf [0, 0.25, 1]: two slots of word 1, six of word 2.
    np.testing.assert_array_equal(sampling.unigram_table(np.array([0, 1, 3]), 1.0, size=8), [1, 1, 2, 2, 2, 2, 2, 2])
    assert 0 not in sampling.unigram_table(np.array([0, 5, 5]), 0.75)


def test_unigram_table_default_size_and_one_counted_word():
    assert sampling.unigram_table(np.array([0, 3, 2]), 0.75).shape == (1 << 20,)
    words = (1 << 20) // 64 + 10
    assert sampling.unigram_table(np.ones(words), 0.75).shape == (64 * words,)
    assert set(sampling.unigram_table(np.array([0, 1]), 0.75, size=16).tolist()) == {1}  # a total of 1 is enough


def test_unigram_table_without_counted_words_is_an_error():
    with pytest.raises(ValueError, match="^the vocabulary has no counted words to draw negative samples from$"):
        sampling.unigram_table(np.array([7, 0, 0]), 0.75)  # padding's count never counts


@pytest.mark.parametrize("worker", [-1, 3])
def test_worker_seed_rejects_an_index_outside_the_workers(worker):
    with pytest.raises(ValueError, match=rf"^worker {worker} is outside 0\.\.2$"):
        sampling.worker_seed(7, worker, 3)


def test_permutation_paths_are_permutations():
    n = 1000
    numpy_path = sampling.permutation(n, 3, 1, 2)
    sorted_path = sampling.argsort_permutation(n, 3, 1, 2)
    for order in (numpy_path, sorted_path):
        np.testing.assert_array_equal(np.sort(order), np.arange(n))
        assert not np.array_equal(order, np.arange(n))
    np.testing.assert_array_equal(numpy_path, sampling.HostDraws(3, 1).shuffle(n, 2, np))  # the host's
    np.testing.assert_array_equal(sorted_path, sampling.Draws(3, 1).shuffle(n, 2, np))  # the device's
    assert not np.array_equal(numpy_path, sorted_path)
    np.testing.assert_array_equal(sorted_path, sampling.argsort_permutation(n, 3, 1, 2))  # a pure function
    assert not np.array_equal(sorted_path, sampling.argsort_permutation(n, 3, 1, 3))  # of the buffer index too


def test_sorted_permutation_is_the_argsort_of_counter_keys():
    # What a GPU computes (`Draws.shuffle`), reproduced on the CPU.
    key = sampling._mix_int(sampling.stream_key(3, 1, sampling.STREAM_SHUFFLE) + 2)
    expected = np.argsort(sampling.random_bits(np.arange(500, dtype=np.uint64), key))
    np.testing.assert_array_equal(sampling.argsort_permutation(500, 3, 1, 2), expected)


def test_part_order_shuffles_two_or_more_parts_per_epoch():
    assert sampling.part_order(0, 1, 0) == [] and sampling.part_order(1, 1, 5) == [0]
    orders = [tuple(sampling.part_order(2, 1, epoch)) for epoch in range(12)]
    assert set(orders) == {(0, 1), (1, 0)}  # two parts are shuffled too
    five = sampling.part_order(5, 1, 0)
    assert sorted(five) == list(range(5)) and five == sampling.part_order(5, 1, 0)
    # Its own stream: not the order another stream's key would give.
    other = np.random.default_rng(sampling.stream_key(1, 0, sampling.STREAM_SHUFFLE)).permutation(50).tolist()
    assert sampling.part_order(50, 1, 0) != other


def test_the_devices_shuffle_is_made_on_the_device(fake_gpu):
    """`Draws.shuffle` sorts its keys where the arrays live (on the fake CuPy here), in the order
    that `argsort_permutation` gives on NumPy; `HostDraws.shuffle` is NumPy's generator."""
    import sys  # noqa: PLC0415

    fake, _ = fake_gpu
    order = sampling.Draws(3, 1).shuffle(50, 2, sys.modules["cupy"])
    assert isinstance(order, fake.FakeArray)
    np.testing.assert_array_equal(np.asarray(order), sampling.argsort_permutation(50, 3, 1, 2))
    np.testing.assert_array_equal(sampling.HostDraws(3, 1).shuffle(50, 2, np), sampling.permutation(50, 3, 1, 2))
