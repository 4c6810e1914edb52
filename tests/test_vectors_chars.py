"""KeyedVectors with character vectors: composing words outside the vocabulary, and the sibling file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from w2v.errors import UserError
from w2v.vectors import KeyedVectors, chars_path

WORDS = ["孙悟空", "唐僧", "八戒", "妖精", "天天"]
CHARS = ["孙", "悟", "空", "唐", "僧", "天", "大"]


def word_vectors(dim: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(len(WORDS), dim)).astype(np.float32)


def char_vectors(dim: int = 4) -> np.ndarray:
    # Multiples of 1/4, so every mean below is exact in float32 and a wrong weighting cannot hide.
    return (np.arange(len(CHARS) * dim, dtype=np.float32).reshape(len(CHARS), dim) - 9) / 4


def make_kv(dim: int = 4) -> KeyedVectors:
    return KeyedVectors(WORDS, word_vectors(dim), chars=KeyedVectors(CHARS, char_vectors(dim)))


def c(char: str) -> np.ndarray:
    return char_vectors()[CHARS.index(char)]


def test_chars_path_replaces_the_last_suffix() -> None:
    assert chars_path("results/cbow.vec") == Path("results/cbow.chars.vec")
    assert chars_path(Path("x.bin")) == Path("x.chars.vec")
    assert chars_path("a.b/model") == Path("a.b/model.chars.vec")


def test_composed_vector_is_the_mean_over_character_occurrences() -> None:
    kv = make_kv()
    np.testing.assert_array_equal(kv["孙大圣"], (c("孙") + c("大")) / 2)  # 圣 has no vector: skipped
    np.testing.assert_array_equal(kv.get_vector("孙孙悟"), (2 * c("孙") + c("悟")) / 3)  # each occurrence counts
    np.testing.assert_array_equal(kv.compose("天天天"), c("天"))
    assert kv["孙大圣"].dtype == np.float32 and kv["孙大圣"].shape == (4,)
    assert kv.is_composed("孙大圣") and kv.has_vector("孙大圣") and "孙大圣" not in kv


def test_a_word_with_no_known_character_raises_naming_it() -> None:
    kv = make_kv()
    assert not kv.has_vector("沙和尚") and not kv.is_composed("沙和尚") and not kv.has_vector("")
    for call in (kv.__getitem__, kv.get_vector, kv.compose, lambda w: kv.most_similar(w), lambda w: kv.similarity(w, "唐僧")):
        with pytest.raises(KeyError, match="沙和尚.*none of its characters"):
            call("沙和尚")


def test_an_empty_character_table_composes_nothing() -> None:
    kv = KeyedVectors(WORDS, word_vectors(), chars=KeyedVectors([], np.zeros((0, 4), dtype=np.float32)))
    assert not kv.has_vector("孙大圣") and kv.has_vector("唐僧")
    with pytest.raises(KeyError, match="孙大圣"):
        kv["孙大圣"]


def test_vocabulary_words_keep_their_row() -> None:
    kv = make_kv()
    rows = word_vectors()
    np.testing.assert_array_equal(kv["孙悟空"], rows[0])
    np.testing.assert_array_equal(kv.get_vector("天天"), rows[4])
    assert not kv.is_composed("孙悟空") and kv.has_vector("孙悟空")
    # compose still gives the character mean the model combined with the word's own vector
    np.testing.assert_array_equal(kv.compose("孙悟空"), (c("孙") + c("悟") + c("空")) / 3)


def brute_force(kv: KeyedVectors, target: np.ndarray, topn: int, exclude=()) -> list[str]:
    unit = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
    scores = unit @ (target / np.linalg.norm(target))
    order = [i for i in np.argsort(-scores, kind="stable") if kv.index_to_key[i] not in exclude]
    return [kv.index_to_key[i] for i in order[:topn]]


def test_cosine_queries_accept_composed_words() -> None:
    kv = make_kv()
    composed = (c("孙") + c("大")) / 2
    found = kv.most_similar("孙大圣", topn=5)
    assert [w for w, _ in found] == brute_force(kv, composed, 5)  # nothing left out: it is not a vocabulary word
    assert {w for w, _ in found} <= set(WORDS)
    assert [w for w, _ in kv.similar_by_vector("孙大圣", topn=5)] == [w for w, _ in found]
    unit = composed / np.linalg.norm(composed)
    tang = kv.vectors[1] / np.linalg.norm(kv.vectors[1])
    assert kv.similarity("孙大圣", "唐僧") == pytest.approx(float(unit @ tang), abs=1e-6)
    assert kv.similarity("孙大圣", "孙大") == pytest.approx(1.0, abs=1e-6)
    # a vocabulary word in the query is still left out of the answer
    mixed = kv.most_similar(positive=["孙大圣", "唐僧"], negative=["大"], topn=3)
    target = unit + tang - c("大") / np.linalg.norm(c("大"))
    assert [w for w, _ in mixed] == brute_force(kv, target, 3, exclude={"唐僧"})


def write_vec(path: Path, keys: list[str], vectors: np.ndarray) -> Path:
    KeyedVectors(keys, vectors).save_word2vec_format(path)
    return path


def test_load_finds_the_sibling_file(tmp_path) -> None:
    vec = write_vec(tmp_path / "cbow.vec", WORDS, word_vectors())
    assert KeyedVectors.load_word2vec_format(vec).chars is None  # no sibling: as before
    write_vec(tmp_path / "cbow.chars.vec", CHARS, char_vectors())
    kv = KeyedVectors.load_word2vec_format(vec)
    assert kv.chars is not None and kv.chars.index_to_key == CHARS and kv.chars.chars is None
    np.testing.assert_array_equal(kv["孙大圣"], (c("孙") + c("大")) / 2)
    plain = KeyedVectors.load_word2vec_format(vec, chars=None)
    assert plain.chars is None and not plain.has_vector("孙大圣")
    with pytest.raises(KeyError, match="孙大圣"):
        plain["孙大圣"]
    binary = tmp_path / "model.bin"
    KeyedVectors(WORDS, word_vectors()).save_word2vec_format(binary, binary=True)
    assert KeyedVectors.load_word2vec_format(binary, binary=True).chars is None
    (tmp_path / "model.chars.vec").write_bytes((tmp_path / "cbow.chars.vec").read_bytes())
    assert KeyedVectors.load_word2vec_format(binary, binary=True).is_composed("孙大圣")


def test_load_an_explicit_chars_file(tmp_path) -> None:
    vec = write_vec(tmp_path / "cbow.vec", WORDS, word_vectors())
    other = write_vec(tmp_path / "elsewhere.vec", CHARS[:1], char_vectors()[:1])
    kv = KeyedVectors.load_word2vec_format(vec, chars=other)
    assert kv.chars.index_to_key == ["孙"] and not kv.has_vector("大")
    with pytest.raises(UserError, match="missing.chars.vec: character vector file not found"):
        KeyedVectors.load_word2vec_format(vec, chars=tmp_path / "missing.chars.vec")


@pytest.mark.parametrize("keys, dim, message", [
    (CHARS, 3, "dimension 3 but the word vectors 4"),
    (["孙", "悟空"], 4, "row 2 holds '悟空'"),
])
def test_a_chars_file_that_does_not_fit_names_itself(tmp_path, keys, dim, message) -> None:
    vec = write_vec(tmp_path / "cbow.vec", WORDS, word_vectors())
    write_vec(tmp_path / "cbow.chars.vec", keys, np.ones((len(keys), dim), dtype=np.float32))
    with pytest.raises(UserError, match=f"cbow.chars.vec: .*{message}"):
        KeyedVectors.load_word2vec_format(vec)
