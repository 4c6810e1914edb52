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


@pytest.mark.parametrize("binary", [False, True])
def test_load_detects_the_format(tmp_path, binary: bool) -> None:
    kv = make_kv()
    path = tmp_path / "v.vec"
    kv.save_word2vec_format(path, binary=binary)
    back = KeyedVectors.load_word2vec_format(path)  # no binary=: read from the first row
    assert back.index_to_key == KEYS
    np.testing.assert_array_equal(back.vectors, kv.vectors)


def test_detection_survives_a_newline_byte_at_the_start_of_a_binary_row(tmp_path) -> None:
    path = tmp_path / "v.bin"
    first = np.frombuffer(b"\x0a\x00\x80\x3f", dtype="<f4")[0]  # about 1.0; its first byte is "\n"
    KeyedVectors(["a", "b"], np.array([[first, 2.0], [3.0, 4.0]])).save_word2vec_format(path, binary=True)
    back = KeyedVectors.load_word2vec_format(path)
    np.testing.assert_array_equal(back["a"], [first, 2.0])


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


# ---------------------------------------------------------------------------- fast file paths
from w2v.vectors import word2vec_format as fmt  # noqa: E402


def test_text_values_are_spelled_exactly_as_c_printf_9g() -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([
        rng.normal(size=3000).astype(np.float32) * np.float32(0.3),
        (rng.normal(size=3000) * 10.0 ** rng.integers(-45, 39, 3000)).astype(np.float32),
        rng.integers(0, 2**32, 3000, dtype=np.uint64).astype(np.uint32).view(np.float32),  # any bit pattern
        np.array([0, -0.0, 1, 10, 100, 1e-4, 1e-5, 123456789, 1e9, 1e10, 99999999.5, 0.5, 2.5e-45,
                  3.4e38, np.inf, -np.inf, np.nan, -np.nan], dtype=np.float32),
    ])
    values = values[: values.size // 3 * 3].reshape(-1, 3)
    text = fmt.format_slots(values).transpose(1, 2, 0).tobytes().translate(None, b"\0").decode()
    with np.errstate(invalid="ignore"):  # NaN payloads warn on the cast
        wide = values.ravel().astype(np.float64)
    assert text.split(" ")[:-1] == ["%.9g" % v for v in wide]


def big_kv(n: int = 300, dim: int = 5, seed: int = 0) -> KeyedVectors:
    rng = np.random.default_rng(seed)
    keys = [f"词{i}" + "长" * (i % 7) for i in range(n)]
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors[3] = np.array([0x20202020, 0x0A0A0A0A, 0x200A200A, 0, 1], dtype=np.uint32).view(np.float32)
    return KeyedVectors(keys, vectors)  # row 3's bytes are spaces and newlines in a binary file


@pytest.mark.parametrize("binary", [False, True])
def test_rows_split_across_blocks_round_trip(tmp_path, monkeypatch, binary: bool) -> None:
    kv = big_kv()
    whole = tmp_path / "whole.vec"
    kv.save_word2vec_format(whole, binary=binary)
    for name in ("READ_BLOCK_BYTES", "TEXT_BLOCK_BYTES"):
        monkeypatch.setattr(fmt, name, 37)  # smaller than a row
    monkeypatch.setattr(fmt, "WRITE_BLOCK_VALUES", 12)
    small = tmp_path / "small.vec"
    kv.save_word2vec_format(small, binary=binary)
    assert small.read_bytes() == whole.read_bytes()
    back = KeyedVectors.load_word2vec_format(small, binary=binary)
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(back.vectors.view(np.uint32), kv.vectors.view(np.uint32))


def test_binary_without_row_newlines_across_blocks(tmp_path, monkeypatch) -> None:
    kv = big_kv(n=50)
    path = tmp_path / "gensim-layout.bin"
    with open(path, "wb") as out:  # gensim's layout: no newline after a row
        out.write(b"50 5\n")
        for key, row in zip(kv.index_to_key, kv.vectors):
            out.write(key.encode() + b" " + row.astype("<f4").tobytes())
    monkeypatch.setattr(fmt, "READ_BLOCK_BYTES", 29)
    back = KeyedVectors.load_word2vec_format(path, binary=True)
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(back.vectors, kv.vectors)


@pytest.mark.parametrize(
    "text",
    ["2 3\n</s> 0.1 0.2 0.3 \n唐僧 1 2 3 \n", "2 3\r\na 1 2 3\r\nb 4 5 6\r\n", "2 2\na 1 2\nb nan -inf\n",
     "1 2\nx 1e-3 +4\n"],
)
def test_block_reader_agrees_with_the_line_reader(tmp_path, monkeypatch, text: str) -> None:
    path = tmp_path / "v.vec"
    path.write_bytes(text.encode("utf-8"))
    with open(path, "rb") as handle:
        count, dim = fmt.parse_header(handle.readline(), path)
        expected = fmt.read_text_lines(handle, path, count, dim)

    def refuse(*args):
        raise AssertionError("the block reader refused a well-formed file")

    monkeypatch.setattr(fmt, "read_text_lines", refuse)
    kv = KeyedVectors.load_word2vec_format(path)
    assert kv.index_to_key == expected[0]
    np.testing.assert_array_equal(kv.vectors, expected[1])


@pytest.mark.parametrize(
    "text, message",
    [
        ("2 2\na 1 2\n\nb 3 4\n", "line 3: expected a word and 2 numbers, found 0"),
        ("2 2\na 1 2 \nb 3 4 5\n", "line 3: expected a word and 2 numbers, found 3"),
        ("1 2\na 1 \n", "line 2: expected a word and 2 numbers, found 1"),
        ("2 2\na 1 2\nb 3 \xff\n", "line 3: not valid UTF-8"),
    ],
)
def test_files_the_block_reader_refuses_get_line_errors(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "bad.vec"
    path.write_bytes(text.encode("utf-8").replace("\xff".encode("utf-8"), b"\xff"))
    with pytest.raises(UserError, match=message):
        KeyedVectors.load_word2vec_format(path)


def test_trailing_blank_lines_are_accepted(tmp_path) -> None:
    path = tmp_path / "v.vec"
    path.write_text("1 2\na 1 2\n\n\n", encoding="utf-8")
    assert KeyedVectors.load_word2vec_format(path).index_to_key == ["a"]


def test_keys_with_nul_are_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="whitespace"):
        KeyedVectors(["a\0b"], np.zeros((1, 2))).save_word2vec_format(tmp_path / "v.vec")


def test_closest_keys_equals_the_plain_scan() -> None:
    import difflib

    rng = np.random.default_rng(5)
    alphabet = list("孙悟空唐僧师父妖精猪八戒沙和尚白龙马")
    keys = list(dict.fromkeys("".join(rng.choice(alphabet, size=rng.integers(1, 5))) for _ in range(600)))
    kv = KeyedVectors(keys, np.zeros((len(keys), 2)))

    def plain(word: str, n: int) -> list[str]:  # a scan of every key, as a reference
        found = difflib.get_close_matches(word, keys, n=n, cutoff=0.5)
        scored = sorted((-len(set(word) & set(k)), i, k) for i, k in enumerate(keys)
                        if set(word) & set(k) and k not in found)
        return found + [k for _, _, k in scored[: n - len(found)]]

    for word in ["孙行者", "悟净", "八戒戒", "白马", "xyz", "马", "沙和尚尚"]:
        for n in (1, 5):
            assert kv.closest_keys(word, n) == plain(word, n)
