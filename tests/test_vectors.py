"""KeyedVectors: word2vec text/binary IO (round trips with gensim) and cosine queries."""

from __future__ import annotations

import numpy as np
import pytest

from w2v.errors import UserError
from w2v.vectors import KeyedVectors

KEYS = ["孙悟空", "悟空", "唐僧", "师父", "妖精", "the"]


def make_kv(seed: int = 0, dim: int = 8) -> KeyedVectors:
    rng = np.random.default_rng(seed)
    return KeyedVectors(KEYS, rng.normal(size=(len(KEYS), dim)).astype(np.float32))


def tiny_kv() -> KeyedVectors:
    # Hand-built 2-D vectors with known cosines.
    vecs = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [-1, 0], [0, -1]], dtype=np.float32)
    return KeyedVectors(KEYS, vecs)


def test_container_protocol() -> None:
    kv = make_kv()
    assert len(kv) == 6 and kv.vector_size == 8
    assert "唐僧" in kv and "八戒" not in kv
    assert kv.key_to_index["唐僧"] == 2 and kv.index_to_key[2] == "唐僧"
    np.testing.assert_array_equal(kv["唐僧"], kv.vectors[2])
    assert kv.vectors.dtype == np.float32
    with pytest.raises(KeyError, match="八戒"):
        kv["八戒"]


def test_rejects_bad_shapes_and_duplicates() -> None:
    with pytest.raises(ValueError, match="one vector row per key"):
        KeyedVectors(["a", "b"], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="duplicate"):
        KeyedVectors(["a", "a"], np.zeros((2, 2)))


def test_similarity_and_most_similar_known_answers() -> None:
    kv = tiny_kv()
    assert kv.similarity("孙悟空", "妖精") == pytest.approx(-1.0)
    assert kv.similarity("唐僧", "孙悟空") == pytest.approx(0.0, abs=1e-7)
    top = kv.most_similar("孙悟空", topn=2)
    assert [w for w, _ in top] == ["悟空", "师父"]
    assert top[0][1] == pytest.approx(0.9 / np.hypot(0.9, 0.1))
    # positive/negative: 唐僧 - 孙悟空 points to (-1, 1)/sqrt2: nearest are 妖精 and 唐僧-ish words
    words = [w for w, _ in kv.most_similar(positive=["唐僧"], negative=["孙悟空"], topn=3)]
    assert "唐僧" not in words and "孙悟空" not in words
    assert words[0] == "妖精"
    assert [w for w, _ in kv.most_similar("孙悟空", topn=1, restrict_vocab=3)] == ["悟空"]
    assert len(kv.most_similar("孙悟空", topn=100)) == 5  # every word but the query


def test_most_similar_matches_gensim() -> None:
    gensim = pytest.importorskip("gensim.models")
    kv = make_kv(3, dim=16)
    g = gensim.KeyedVectors(16)
    g.add_vectors(KEYS, kv.vectors)
    for pos, neg in [(["唐僧"], []), (["唐僧", "悟空"], ["妖精"]), ([], ["the"])]:
        ours = kv.most_similar(positive=pos, negative=neg, topn=3)
        theirs = g.most_similar(positive=pos, negative=neg, topn=3)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5)
    assert kv.doesnt_match(["孙悟空", "悟空", "唐僧"]) == g.doesnt_match(["孙悟空", "悟空", "唐僧"])


def test_doesnt_match_ignores_unknown_words() -> None:
    kv = tiny_kv()
    assert kv.doesnt_match(["孙悟空", "悟空", "唐僧", "八戒"]) == "唐僧"
    with pytest.raises(ValueError):
        kv.doesnt_match(["八戒"])


def test_closest_keys_suggests_spellings() -> None:
    kv = tiny_kv()
    assert kv.closest_keys("孙行者")[0] == "孙悟空"
    assert "悟空" in kv.closest_keys("悟净")
    assert kv.closest_keys("xyz") == []


@pytest.mark.parametrize("binary", [False, True])
def test_round_trip_ours(tmp_path, binary: bool) -> None:
    kv = make_kv()
    path = tmp_path / "v.vec"
    kv.save_word2vec_format(path, binary=binary)
    back = KeyedVectors.load_word2vec_format(path, binary=binary)
    assert back.index_to_key == KEYS
    np.testing.assert_array_equal(back.vectors, kv.vectors)  # exact, text too


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_reads_ours_and_we_read_gensims(tmp_path, binary: bool) -> None:
    gensim = pytest.importorskip("gensim.models")
    kv = make_kv()
    ours = tmp_path / "ours.vec"
    kv.save_word2vec_format(ours, binary=binary)
    g = gensim.KeyedVectors.load_word2vec_format(str(ours), binary=binary)
    assert list(g.index_to_key) == KEYS
    np.testing.assert_allclose(g.vectors, kv.vectors, rtol=1e-6)

    theirs = tmp_path / "theirs.vec"
    g.save_word2vec_format(str(theirs), binary=binary)
    back = KeyedVectors.load_word2vec_format(theirs, binary=binary)
    assert back.index_to_key == KEYS
    np.testing.assert_allclose(back.vectors, kv.vectors, rtol=1e-6)


def test_reads_c_tool_text_layout(tmp_path) -> None:
    # The C tool writes a trailing space after the last value of each row.
    path = tmp_path / "c.vec"
    path.write_text("2 3\n</s> 0.1 0.2 0.3 \n唐僧 1 2 3 \n", encoding="utf-8")
    kv = KeyedVectors.load_word2vec_format(path)
    assert kv.index_to_key == ["</s>", "唐僧"]
    np.testing.assert_allclose(kv["唐僧"], [1, 2, 3])


def test_reads_c_tool_binary_layout(tmp_path) -> None:
    path = tmp_path / "c.bin"
    rows = [("</s>", [0.5, -1.0]), ("唐僧", [2.0, 3.0])]
    with open(path, "wb") as out:
        out.write(b"2 2\n")
        for word, vec in rows:
            out.write(word.encode() + b" " + np.array(vec, "<f4").tobytes() + b"\n")
    kv = KeyedVectors.load_word2vec_format(path, binary=True)
    assert kv.index_to_key == ["</s>", "唐僧"]
    np.testing.assert_array_equal(kv["唐僧"], [2.0, 3.0])


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "line 1: expected a word2vec header"),
        ("2 3\na 1 2 3\n", "header announces 2 rows but the file holds 1"),
        ("1 3\na 1 2\n", "line 2: expected a word and 3 numbers, found 2"),
        ("1 2\na 1 x\n", "line 2: a vector value is not a number"),
        ("1 2\na 1 2\nb 3 4\n", "line 3: more rows"),
        ("2 2\na 1 2\na 3 4\n", "duplicate key"),
    ],
)
def test_malformed_text_files_name_the_line(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "bad.vec"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=message) as info:
        KeyedVectors.load_word2vec_format(path)
    assert str(path) in str(info.value)


def test_missing_file_and_truncated_binary(tmp_path) -> None:
    with pytest.raises(UserError, match="not found"):
        KeyedVectors.load_word2vec_format(tmp_path / "nope.vec")
    path = tmp_path / "t.bin"
    make_kv().save_word2vec_format(path, binary=True)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(UserError, match="truncated"):
        KeyedVectors.load_word2vec_format(path, binary=True)


def test_save_is_atomic_and_rejects_unstorable_keys(tmp_path) -> None:
    path = tmp_path / "v.vec"
    path.write_text("old", encoding="utf-8")
    kv = KeyedVectors(["a b"], np.zeros((1, 2)))
    with pytest.raises(ValueError, match="whitespace"):
        kv.save_word2vec_format(path)
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["v.vec"]


def test_accepts_device_arrays_through_get() -> None:
    class FakeCupyArray:  # CuPy arrays expose .get() -> numpy.ndarray
        def get(self):
            return np.eye(2)

    kv = KeyedVectors(["a", "b"], FakeCupyArray())
    assert isinstance(kv.vectors, np.ndarray) and kv.vectors.dtype == np.float32
