"""Edges of `w2v.training.models` that the learning tests leave open (found by mutation testing,
docs/testing.md): the constructor's bounds and messages, the negatives' `scale` on both paths, and the
composed export's blocks and dtype."""

from __future__ import annotations

import math

import numpy as np
import pytest

import jingu
from w2v.data.chars import CharTable, cwe_composition
from w2v.training import models
from w2v.training.models import CBOW, Init, SkipGram
from w2v.training.ops import DeviceBags, device_backend

TOKENS = ["<pad>", "孙悟空", "悟空", "天天", "猪", "八戒", "猪八戒", "天", "空", "孙"]
CHARS = CharTable(("悟", "空", "天", "孙", "八", "戒"), np.array([9, 9, 6, 5, 4, 4]))


@pytest.mark.parametrize("cls", [CBOW, SkipGram])
def test_the_smallest_model_is_accepted(cls):
    net = cls(2, 1)
    assert net.vectors().shape == (2, 1)


@pytest.mark.parametrize("vocab_size, dim", [(1, 5), (0, 5), (5, 0), (2, -1)])
def test_a_too_small_vocabulary_or_dim_is_refused_alone(vocab_size, dim):
    with pytest.raises(ValueError, match=rf"need a vocabulary of at least 2 ids and dim >= 1, got {vocab_size} and {dim}"):
        SkipGram(vocab_size, dim)


def test_a_negative_group_below_one_is_refused_with_its_value():
    with pytest.raises(ValueError, match=r"negative_group must be at least 1, got 0"):
        CBOW(5, 3, negative_group=0)


def test_negative_sampling_without_negatives_says_so():
    net = SkipGram(5, 3)
    with pytest.raises(ValueError, match=r"^negative-sampling loss needs negatives$"):
        net(np.array([1, 2]), np.array([3, 4]))


@pytest.mark.parametrize("negatives", [np.array([[1, 2, 3], [2, 3, 4]]), np.array([1, 2, 3, 4])], ids=["per-example", "shared"])
def test_scale_multiplies_the_negatives_terms_and_defaults_to_one(negatives):
    """The output table starts at zero, so every term is softplus(0) = log 2: a batch of B examples
    with K negatives each (or S shared) costs B log 2 for the true words plus scale * B K log 2."""
    net = SkipGram(6, 3, negative_group=1)
    center, context = np.array([1, 2]), np.array([3, 4])
    hidden = net.hidden(context)
    k = negatives.shape[-1]
    for scale in (1.0, 0.5, 2.0):
        loss = float(net(center, context, negatives, scale=scale).item())
        assert loss == pytest.approx(2 * math.log(2) * (1 + scale * k), rel=1e-6)
    default = float(net.output_loss(hidden, center, negatives).item())
    assert default == pytest.approx(float(net.output_loss(hidden, center, negatives, scale=1.0).item()), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_composed_vectors_keep_the_tables_dtype(dtype):
    net = SkipGram(len(TOKENS), 4, composition=cwe_composition(TOKENS, CHARS), init=Init(dtype=dtype))
    assert net.vectors().dtype == dtype and net.char_vectors().dtype == dtype


def test_composed_export_works_in_bounded_blocks_that_compose_each_word_once(monkeypatch):
    """`vectors()` composes COMPOSE_ROWS words at a time (its memory is (rows, slots, dim) per block),
    every word exactly once, and gives the same vectors as one block."""
    composition = cwe_composition(TOKENS, CHARS)
    net = CBOW(len(TOKENS), 3, composition=composition, init=Init(dtype=np.float64, generator=np.random.default_rng(5)))
    table = net.embed_in.data
    whole = np.einsum("vs,vsd->vd", composition.weights, table[composition.rows])
    blocks = []
    einsum = np.einsum

    def recording(spec, weights, rows):
        blocks.append(weights.shape[0])
        return einsum(spec, weights, rows)

    monkeypatch.setattr(models, "COMPOSE_ROWS", 4)
    monkeypatch.setattr(models.np, "einsum", recording)
    got = net.vectors()
    assert blocks == [4, 4, 2]
    np.testing.assert_array_equal(got, whole)
    assert np.all(got[0] == 0.0)  # the padding word has no rows


@pytest.mark.parametrize("loss", ["negative", "softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_table_has_the_init_dtype_and_the_output_side_starts_at_zero(loss, dtype):
    """word2vec's start: input rows uniform in +-0.5/dim, the output side (either loss) all zero."""
    net = CBOW(len(TOKENS), 4, loss=loss, composition=cwe_composition(TOKENS, CHARS), init=Init(dtype=dtype))
    params = list(net.parameters())
    assert len(params) == 2 and all(p.data.dtype == dtype for p in params)
    out = net.embed_out.data if loss == "negative" else net.output.weight.data
    assert out.shape in ((len(TOKENS), 4), (4, len(TOKENS))) and np.all(out == 0.0)
    assert net.bags is not None and net.bags.weights.dtype == dtype
    context = np.array([[1, 2, 0, 0], [3, 4, 5, 6]])
    assert net.hidden(context).data.dtype == dtype


@pytest.mark.parametrize("loss", ["negative", "softmax"])
def test_a_device_model_puts_every_table_and_the_bags_on_the_device(fake_cuda, loss):
    """A device backend (on the fake CuPy here) puts every table and the composition's bags on the
    device, and the bags sum every slot."""
    import sys

    cupy = sys.modules["cupy"]
    net = SkipGram(len(TOKENS), 3, loss=loss, composition=cwe_composition(TOKENS, CHARS), init=Init(backend=device_backend("cuda")))
    assert all(isinstance(p.data, cupy.ndarray) for p in net.parameters())
    assert all(isinstance(a, cupy.ndarray) for a in net.bags)
    assert isinstance(net.bags, DeviceBags)
