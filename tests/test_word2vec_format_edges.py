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


# ---------------------------------------------------------------- second review (survivors of the rerun)
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

from w2v.vectors import word2vec_format as fmt  # noqa: E402
from w2v.errors import UserError  # noqa: E402


def spelled(values: np.ndarray) -> list[str]:
    return fmt.format_slots(values.reshape(1, -1)).transpose(1, 2, 0).tobytes().translate(None, b"\0").decode().split(" ")[:-1]


def test_float64_values_are_spelled_as_printf_9g_at_carries_and_halfway_cases():
    # The carry (9.9999999996 -> "10") and the halfway recheck are reached by values with more
    # digits than a float32 holds; format_slots promises %.9g for them too.
    rng = np.random.default_rng(7)
    near_half = [float(f"{d}.{f:08d}5{t}e{x}") for d, f, t, x in zip(
        rng.integers(1, 10, 400), rng.integers(0, 10**8, 400), rng.integers(0, 10, 400), rng.integers(-30, 30, 400))]
    carries = [9.9999999996, 99999.99999999, 0.00099999999996, 9.9999999996e-20, 9.9999999996e20]
    values = np.array(near_half + carries + [-v for v in carries], dtype=np.float64)
    assert spelled(values) == ["%.9g" % v for v in values]


def test_two_digit_values_in_exponent_notation_keep_their_point():
    values = np.array([1.5e9, 2.5e9, 1.2e10, -3.5e9], dtype=np.float32)  # exact in float32
    assert spelled(values) == ["1.5e+09", "2.5e+09", "1.2e+10", "-3.5e+09"]


def test_writing_nan_and_inf_raises_no_warning(tmp_path):
    vectors = np.array([[np.nan, np.inf], [-np.inf, 1]], dtype=np.float32)
    vectors[0, 0] = np.array([0x7F800001], dtype=np.uint32).view(np.float32)[0]  # a signalling NaN
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_text(tmp_path / "v.vec", ["a", "b"], vectors)
    assert (tmp_path / "v.vec").read_text(encoding="utf-8") == "2 2\na nan inf\nb -inf 1\n"


@pytest.mark.parametrize("binary", [False, True])
def test_float64_vectors_are_written_as_their_float32_values(tmp_path, binary):
    # A word2vec file holds float32: float64 input gives the same file as its float32 cast.
    wide = np.random.default_rng(1).normal(size=(5, 3)) / 3
    write = fmt.write_binary if binary else fmt.write_text
    keys = list("abcde")
    write(tmp_path / "wide", keys, wide)
    write(tmp_path / "narrow", keys, wide.astype(np.float32))
    assert (tmp_path / "wide").read_bytes() == (tmp_path / "narrow").read_bytes()


@pytest.mark.parametrize("header", ["-1 3", "3 0", "3 -2", "2 3 4", "x 3", "3"])
def test_bad_headers_are_refused_naming_the_fix(tmp_path, header):
    path = tmp_path / "v.vec"
    path.write_text(header + "\na 1 2 3\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"line 1: expected a word2vec header .*binary=True / --binary"):
        KeyedVectors.load_word2vec_format(path, binary=False)


def test_a_long_bad_header_is_quoted_to_60_bytes(tmp_path):
    path = tmp_path / "v.vec"
    path.write_text("y" * 100 + "\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"got b'y{60}';"):
        KeyedVectors.load_word2vec_format(path, binary=False)


@pytest.mark.parametrize("binary", [False, True])
def test_an_empty_and_a_one_dimensional_file_are_valid(tmp_path, binary):
    for keys, vectors in (([], np.zeros((0, 3), np.float32)), (["a", "b"], np.array([[0.5], [-2]], np.float32))):
        KeyedVectors(keys, vectors).save_word2vec_format(tmp_path / "v", binary=binary)
        back = KeyedVectors.load_word2vec_format(tmp_path / "v", binary=binary)
        assert back.index_to_key == keys and back.vectors.shape == vectors.shape
        np.testing.assert_array_equal(back.vectors, vectors)


@pytest.mark.parametrize("binary", [False, True])
def test_keys_that_look_like_numbers_or_quotes_stay_strings(tmp_path, binary):
    # Arrow would read a column of numbers as numbers and strip "quotes" unless told not to.
    # (A lone '"' makes Arrow refuse the file, so the quoted keys are also tried on their own.)
    for keys in (["2019", "1", "nan", '"quoted"', '"', 'a"b', "'x'"], ['"a"', '"bc"', "e"]):
        vectors = np.arange(2 * len(keys), dtype=np.float32).reshape(-1, 2)
        KeyedVectors(keys, vectors).save_word2vec_format(tmp_path / "v", binary=binary)
        back = KeyedVectors.load_word2vec_format(tmp_path / "v", binary=binary)
        assert back.index_to_key == keys
        np.testing.assert_array_equal(back.vectors, vectors)


def read_rows(path: Path, reader) -> tuple[list[str], np.ndarray]:
    with open(path, "rb") as handle:
        count, dim = fmt.parse_header(handle.readline(), path)
        return reader(handle, path, count, dim)


@pytest.mark.parametrize("reader", ["read_text", "read_text_lines", "read_binary"])
def test_every_reader_returns_float32_rows(tmp_path, reader):
    # The module's memory promise: the vectors (float32) plus one block, no float64 table.
    write = fmt.write_binary if reader == "read_binary" else fmt.write_text
    write(tmp_path / "v", ["a", "b"], np.array([[0.1, 2], [3, 4]], np.float32))
    keys, vectors = read_rows(tmp_path / "v", getattr(fmt, reader))
    assert keys == ["a", "b"] and vectors.dtype == np.float32


def test_the_block_reader_reads_files_of_many_blocks_itself(tmp_path, monkeypatch):
    keys = [f"w{i}" for i in range(200)]
    vectors = np.random.default_rng(2).normal(size=(200, 4)).astype(np.float32)
    write_text(tmp_path / "v.vec", keys, vectors)
    monkeypatch.setattr(fmt, "TEXT_BLOCK_BYTES", 512)  # a dozen blocks

    def refuse(*args):
        raise AssertionError("fell back to the line reader on a well-formed file")

    monkeypatch.setattr(fmt, "read_text_lines", refuse)
    back = KeyedVectors.load_word2vec_format(tmp_path / "v.vec")
    assert back.index_to_key == keys
    np.testing.assert_array_equal(back.vectors, vectors)


def test_a_row_after_trailing_blank_lines_is_still_refused(tmp_path):
    path = tmp_path / "v.vec"
    path.write_text("1 2\na 1 2\n\nb 3 4\n", encoding="utf-8")
    with pytest.raises(UserError, match="line 4: more rows than the 1 the header announces"):
        KeyedVectors.load_word2vec_format(path)


def test_invalid_utf8_names_the_file_and_the_row(tmp_path):
    text = tmp_path / "bad.vec"
    text.write_bytes(b"2 2\na 1 2\n\xff 3 4\n")
    with pytest.raises(UserError, match=rf"^{str(text)!s}, line 3: not valid UTF-8".replace("\\", "\\\\")):
        KeyedVectors.load_word2vec_format(text, binary=False)
    binary = tmp_path / "bad.bin"
    row = np.array([1.1, 2.2], "<f4").tobytes()
    binary.write_bytes(b"3 2\na " + row + b"\nb " + row + b"\n\xff " + row + b"\n")
    with pytest.raises(UserError, match=r"bad.bin, row 3: not valid UTF-8"):
        KeyedVectors.load_word2vec_format(binary, binary=True)


def test_a_truncated_binary_file_says_where_it_ends(tmp_path):
    # Values without zero bytes, so that no byte of a vector looks like a NUL.
    path = tmp_path / "t.bin"
    fmt.write_binary(path, ["ab", "cd", "efgh"], np.full((3, 2), 1.1, np.float32))
    whole = path.read_bytes()
    path.write_bytes(whole[: len(b"3 2\n") + 12 + 6])  # row 1, then "cd " and 3 bytes of its vector
    with pytest.raises(UserError, match=r"t.bin: file ends inside the vector of row 2 of 3 \(truncated\?\)"):
        KeyedVectors.load_word2vec_format(path, binary=True)
    path.write_bytes(whole[: len(b"3 2\n") + 24 + 2])  # rows 1 and 2, then "ef"
    with pytest.raises(UserError, match=r"t.bin: file ends inside the word of row 3 of 3 \(truncated\?\)"):
        KeyedVectors.load_word2vec_format(path, binary=True)


def test_binary_rows_past_the_announced_count_are_ignored(tmp_path):
    # As gensim reads such a file: the header's count rules.
    path = tmp_path / "v.bin"
    fmt.write_binary(path, ["a", "b", "c"], np.eye(3, dtype=np.float32))
    data = path.read_bytes()
    path.write_bytes(b"2" + data[1:])
    back = KeyedVectors.load_word2vec_format(path, binary=True)
    assert back.index_to_key == ["a", "b"]
    np.testing.assert_array_equal(back.vectors, np.eye(3, dtype=np.float32)[:2])


class ChunkCheckingHandle:
    """A file handle that fails when asked for more than `limit` bytes at once (or for all of it)."""

    def __init__(self, handle, limit):
        self.handle, self.limit = handle, limit

    def read(self, n=-1):
        assert n is not None and 0 <= n <= self.limit, f"read({n}) asks for more than a block"
        return self.handle.read(n)


def test_the_binary_reader_reads_in_blocks(tmp_path, monkeypatch):
    path = tmp_path / "v.bin"
    vectors = np.random.default_rng(4).normal(size=(50, 3)).astype(np.float32)
    fmt.write_binary(path, [f"k{i}" for i in range(50)], vectors)
    monkeypatch.setattr(fmt, "READ_BLOCK_BYTES", 64)
    with open(path, "rb") as raw:
        count, dim = fmt.parse_header(raw.readline(), path)
        keys, back = fmt.read_binary(ChunkCheckingHandle(raw, 64), path, count, dim)
    assert len(keys) == 50
    np.testing.assert_array_equal(back, vectors)


def test_text_values_are_rounded_once_to_float32(tmp_path):
    # Just above the midpoint of 1 and the next float32: correct rounding goes up, while parsing to
    # float64 first lands on the midpoint and then rounds to even (down).
    just_above = "1.0000000596046447753906250000000000000001"
    path = tmp_path / "v.vec"
    path.write_text(f"1 2\na {just_above} 1\n", encoding="utf-8")
    kv = KeyedVectors.load_word2vec_format(path)
    assert kv.vectors[0, 0] == np.nextafter(np.float32(1), np.float32(2))


def test_the_line_reader_rounds_values_once_too(tmp_path):
    # The blank line makes Arrow refuse the file, so the line reader reads it; it must agree.
    just_above = "1.0000000596046447753906250000000000000001"
    path = tmp_path / "v.vec"
    path.write_text(f"2 2\na {just_above} 1\nb 2 -inf\t\n\n", encoding="utf-8")  # a trailing tab, as before
    with open(path, "rb") as handle:
        count, dim = fmt.parse_header(handle.readline(), path)
        assert fmt._read_text_blocks(handle, count, dim) is None
    kv = KeyedVectors.load_word2vec_format(path)
    assert kv.vectors[0, 0] == np.nextafter(np.float32(1), np.float32(2))
    np.testing.assert_array_equal(kv.vectors[1], [2, -np.inf])
