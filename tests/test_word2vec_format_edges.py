"""word2vec file edges found by mutation testing (benchmarks/mutation.sh word2vec_format)."""

from __future__ import annotations

import numpy as np
import pytest

from w2v.vectors import KeyedVectors
from w2v.vectors.word2vec_format import check_keys, write_text


def test_text_round_trip_keeps_every_byte_of_the_keys(tmp_path):
    # The writer squeezes out unused byte slots; no byte of a key may go with them.
    keys = ["XBOX", "X", "孙悟空", "a0.5e-3"]
    vectors = np.arange(8, dtype=np.float32).reshape(4, 2) / 7
    write_text(tmp_path / "v.vec", keys, vectors)
    kv = KeyedVectors.load_word2vec_format(tmp_path / "v.vec")
    assert kv.index_to_key == keys
    np.testing.assert_array_equal(kv.vectors, vectors)


def test_check_keys_names_the_bad_key_not_the_first():
    with pytest.raises(ValueError, match=r"^key 'a b' is empty"):
        check_keys(["fine", "a b", "also"])
