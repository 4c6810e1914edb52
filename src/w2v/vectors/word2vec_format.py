"""Read and write the word2vec vector file formats, fast at millions of words.

Layouts (what gensim and the original C tool read and write):

* text: a header line ``count dim``, then ``token v1 ... vdim`` a line (values separated by one
  space; a trailing space, as the C tool writes it, is accepted on read). Values are written as
  C's ``%.9g``, which keeps every bit of a float32, so a text round trip is exact.
* binary: the same header line, then for each word ``token`` + one space + ``dim`` little-endian
  float32 values + ``\\n`` (the C tool's layout; gensim writes it without the newline, which is
  accepted on read too).

Speed at a million words comes from working on blocks of rows: text values are formatted by NumPy
integer arithmetic into a byte matrix (no Python call per number) and parsed by Arrow's CSV reader
in blocks of `TEXT_BLOCK_BYTES`; binary rows are cut from blocks of the file. A text file the
fast reader does not accept is read again line by line, so that its error names the line.
Memory stays at the vectors plus one block: no copy of the whole file is held.
"""

from __future__ import annotations

import os
import re
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, Sequence

import numpy as np

from w2v.errors import UserError
from w2v.io import atomic_open

# Bytes of file read at a time: binary rows are cut from 16 MB blocks; Arrow parses text
# fastest in blocks of about 1 MB (larger ones fall out of the CPU caches).
READ_BLOCK_BYTES = 1 << 24
TEXT_BLOCK_BYTES = 1 << 20
# Float values formatted per block when writing text; about 100 bytes of scratch each.
WRITE_BLOCK_VALUES = 1 << 19

# One value is laid out in SLOTS byte slots; unused slots hold 0 and are squeezed out:
# sign, "0." and up to three zeros (fixed notation below 1e-1), nine digits each followed by
# an optional decimal point, "e", exponent sign and two exponent digits, separator.
_SIGN, _LEAD0, _LEADPOINT, _ZEROS, _DIGITS, _EXP, _SEP = 0, 1, 2, 3, 6, 23, 27
SLOTS = 28
_POW10 = 10.0 ** np.arange(-64, 65)  # _POW10[k + 64] = 10**k
_WHITESPACE = re.compile(r"[\s\x00]")


def _decimal_9(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mantissa, exponent): |values| rounded to nine significant digits, m * 10**(e - 8), m in [1e8, 1e9).

    Float64 arithmetic rounds correctly except within 1e-6 of a halfway case, which are redone
    with Python's correctly rounded formatting (a few per million values). Zero and non-finite
    values give (0, 0).
    """
    with np.errstate(invalid="ignore"):  # NaN payloads warn on the cast; they are handled below
        a = np.abs(values.astype(np.float64))
    plain = np.isfinite(a) & (a > 0)
    some_special = not plain.all()
    if some_special:
        a[~plain] = 1.0
    e = np.floor(np.log10(a)).astype(np.int64)
    power = _POW10[e + 64]
    e += (a >= 10 * power).view(np.int8) - (a < power).view(np.int8)  # log10 can miss next to a power of ten
    scaled = a * _POW10[72 - e]
    rounded = np.rint(scaled)
    m = rounded.astype(np.int32)
    carry = m >= 1_000_000_000  # 9.999999996 rounds to 10.0000000
    m[carry] = 100_000_000
    e += carry
    for idx in zip(*np.nonzero(np.abs(scaled - rounded) > 0.5 - 1e-6)):
        text = "%.8e" % abs(float(values[idx]))
        m[idx], e[idx] = int(text[0] + text[2:10]), int(text[11:])
    if some_special:
        m[~plain], e[~plain] = 0, 0
    return m, e


def format_slots(values: np.ndarray) -> np.ndarray:
    """Byte slots (SLOTS, *values.shape) spelling each value as C's ``%.9g``, then a space.

    Zero bytes mark unused slots; deleting them from ``slots.T`` leaves the text of a row. Slot-major, so
    that every step below writes one contiguous array of small integers.
    """
    flat = values.reshape(-1)
    m, e = _decimal_9(flat)
    e = e.astype(np.int8)
    out = np.zeros((SLOTS, flat.size), dtype=np.uint8)
    digits = np.empty((9, flat.size), dtype=np.uint8)
    rest = m.astype(np.int32)
    for i in range(8, -1, -1):
        rest, digits[i] = np.divmod(rest, 10)
    nd = np.full(flat.size, 9, dtype=np.int8)  # significant digits to print (a zero prints one)
    zeros = np.ones(flat.size, dtype=bool)
    for i in range(8, 0, -1):
        zeros &= digits[i] == 0
        nd -= zeros
    fixed = (e >= -4) & (e < 9)  # %g's choice between 123.4 and 1.234e+10
    sci = ~fixed
    last = np.where(fixed, np.maximum(nd - 1, e), nd - 1)  # integer digits print even when zero (100)
    point = np.where(fixed & (e >= 0) & (nd > e + 1), e, np.where(sci & (nd > 1), 0, -1))  # "." after digit
    for i in range(9):
        np.multiply(digits[i] + 48, last >= i, out=out[_DIGITS + 2 * i])
        if i < 8:
            np.multiply(point == i, np.uint8(ord(".")), out=out[_DIGITS + 2 * i + 1])
    small = fixed & (e < 0)
    out[_LEAD0] = small * np.uint8(ord("0"))
    out[_LEADPOINT] = small * np.uint8(ord("."))
    for j in range(3):
        out[_ZEROS + j] = (small & (e < -1 - j)) * np.uint8(ord("0"))
    magnitude = np.abs(e).astype(np.uint8)
    out[_EXP] = sci * np.uint8(ord("e"))
    out[_EXP + 1] = sci * np.where(e < 0, np.uint8(ord("-")), np.uint8(ord("+")))
    out[_EXP + 2] = sci * (magnitude // 10 + 48)
    out[_EXP + 3] = sci * (magnitude % 10 + 48)
    out[_SIGN] = (np.signbit(flat) & ~np.isnan(flat)) * np.uint8(ord("-"))
    special = ~np.isfinite(flat)
    if special.any():  # C's %g spells them nan, inf, -inf
        out[_LEAD0:_SEP, special] = 0
        name = np.where(np.isnan(flat[special]), np.frombuffer(b"nan", np.uint8)[:, None],
                        np.frombuffer(b"inf", np.uint8)[:, None])
        out[_DIGITS : _DIGITS + 3, special] = name
    out[_SEP] = ord(" ")
    return out.reshape(SLOTS, *values.shape)


def check_keys(keys: Sequence[str]) -> None:
    """ValueError naming the first key a word2vec file cannot store (empty, whitespace or NUL inside)."""
    if all(keys) and not _WHITESPACE.search("".join(keys)):
        return
    for key in keys:
        if not key or _WHITESPACE.search(key):
            raise ValueError(f"key {key!r} is empty or holds whitespace; word2vec files cannot store it")


def format_text_rows(keys: Sequence[str], block: np.ndarray) -> bytes:
    """The text lines of `keys` and their rows of `block` (float32), newline-terminated."""
    rows, dim = block.shape
    encoded = [k.encode("utf-8") for k in keys]
    width = max(len(k) for k in encoded)
    text = np.empty((rows, width + 1 + dim * SLOTS), dtype=np.uint8)
    text[:, :width] = np.array(encoded, dtype=f"S{width}").view(np.uint8).reshape(rows, width)
    text[:, width] = ord(" ")
    text[:, width + 1 :].reshape(rows, dim, SLOTS)[...] = format_slots(block).transpose(1, 2, 0)
    text[:, -1] = ord("\n")  # the last value's separator
    return text.tobytes().translate(None, b"\0")  # squeeze out the unused slots


def write_text(path: str | os.PathLike, keys: Sequence[str], vectors: np.ndarray) -> None:
    """Write word2vec text, atomically, formatting blocks of rows at once.

    Two threads format the next blocks while this one writes (NumPy releases the GIL); the
    file's bytes do not depend on the threads.
    """
    check_keys(keys)
    count, dim = vectors.shape
    step = max(1, WRITE_BLOCK_VALUES // max(dim, 1))
    with atomic_open(path, "wb") as out, ThreadPoolExecutor(max_workers=2) as pool:
        out.write(f"{count} {dim}\n".encode("ascii"))
        pending: deque[Future[bytes]] = deque()
        for start in range(0, count, step):
            block = np.asarray(vectors[start : start + step], dtype=np.float32)
            pending.append(pool.submit(format_text_rows, keys[start : start + step], block))
            if len(pending) > 2:  # bounds memory at three blocks
                out.write(pending.popleft().result())
        while pending:
            out.write(pending.popleft().result())


def write_binary(path: str | os.PathLike, keys: Sequence[str], vectors: np.ndarray) -> None:
    """Write word2vec binary (C tool layout), atomically."""
    check_keys(keys)
    count, dim = vectors.shape
    step = max(1, READ_BLOCK_BYTES // (4 * dim + 16))
    with atomic_open(path, "wb") as out:
        out.write(f"{count} {dim}\n".encode("ascii"))
        for start in range(0, count, step):
            data = np.ascontiguousarray(vectors[start : start + step], dtype="<f4")
            flat, nbytes = memoryview(data).cast("B"), 4 * dim
            parts: list[bytes | memoryview] = []
            for i, key in enumerate(keys[start : start + step]):
                parts += (key.encode("utf-8"), b" ", flat[i * nbytes : (i + 1) * nbytes], b"\n")
            out.write(b"".join(parts))


def parse_header(header: bytes, path: Path) -> tuple[int, int]:
    """(count, dim) from the first line; UserError when it is not a word2vec header."""
    parts = header.split()
    try:
        count, dim = int(parts[0]), int(parts[1])
        if len(parts) != 2 or count < 0 or dim < 1:
            raise ValueError
    except (ValueError, IndexError):
        raise UserError(
            f"{path}, line 1: expected a word2vec header 'count dim', got {header[:60]!r}; "
            "is this a word2vec file (binary files need binary=True / --binary)?"
        ) from None
    return count, dim


def _decode(raw: bytes, path: Path, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}, {where}: not valid UTF-8; is this a binary file? (readers detect the format when not told; --binary forces binary)") from None


def read_text(handle: BinaryIO, path: Path, count: int, dim: int) -> tuple[list[str], np.ndarray]:
    """Rows after the header: Arrow's block parser, or line by line when it refuses the file."""
    start = handle.tell()
    found = _read_text_blocks(handle, count, dim)
    if found is not None:
        return found
    handle.seek(start)
    return read_text_lines(handle, path, count, dim)


def _read_text_blocks(handle: BinaryIO, count: int, dim: int) -> tuple[list[str], np.ndarray] | None:
    """The rows parsed by Arrow in blocks; None when the file is not plainly well formed."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    first = handle.readline()
    handle.seek(-len(first), os.SEEK_CUR)
    if count == 0 or not first.endswith(b"\n"):
        return None
    trailing = first.rstrip(b"\r\n").endswith(b" ")  # the C tool's layout: one more, empty, column
    names = [f"c{i}" for i in range(dim + 1 + trailing)]
    types = {name: pa.float32() for name in names[1 : dim + 1]}
    types[names[0]] = pa.string()
    if trailing:
        types[names[-1]] = pa.string()
    keys: list[str] = []
    vectors = np.empty((count, dim), dtype=np.float32)
    try:
        reader = pcsv.open_csv(
            handle,
            read_options=pcsv.ReadOptions(column_names=names, block_size=TEXT_BLOCK_BYTES),
            parse_options=pcsv.ParseOptions(delimiter=" ", quote_char=False, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(column_types=types, null_values=[], strings_can_be_null=False),
        )
        for batch in reader:
            n, done = batch.num_rows, len(keys)
            if done + n > count or any(col.null_count for col in batch.columns):
                return None
            if trailing and pc.max(pc.binary_length(batch.column(dim + 1))).as_py():
                return None
            columns = np.empty((dim, n), dtype=np.float32)  # contiguous copies, then one transpose
            for j in range(dim):
                columns[j] = batch.column(j + 1).to_numpy()
            vectors[done : done + n] = columns.T
            keys += batch.column(0).to_pylist()
    except pa.ArrowException:
        return None
    return (keys, vectors) if len(keys) == count else None


def read_text_lines(handle: BinaryIO, path: Path, count: int, dim: int) -> tuple[list[str], np.ndarray]:
    """Rows after the header, one line at a time; errors name the line."""
    keys: list[str] = []
    vectors = np.empty((count, dim), dtype=np.float32)
    for line_no, raw in enumerate(handle, start=2):
        if len(keys) == count:
            if raw.strip():
                raise UserError(f"{path}, line {line_no}: more rows than the {count} the header announces")
            continue
        parts = _decode(raw, path, f"line {line_no}").rstrip("\r\n").rstrip(" ").split(" ")
        if len(parts) != dim + 1:
            raise UserError(
                f"{path}, line {line_no}: expected a word and {dim} numbers, found {len(parts) - 1} "
                "values (a word containing a space, or a truncated file?)"
            )
        try:
            vectors[len(keys)] = _parse_float32(parts[1:])
        except ValueError:
            raise UserError(f"{path}, line {line_no}: a vector value is not a number") from None
        keys.append(parts[0])
    if len(keys) != count:
        raise UserError(f"{path}: the header announces {count} rows but the file holds {len(keys)} (truncated?)")
    return keys, vectors


def _parse_float32(values: list[str]) -> np.ndarray:
    """The decimal strings as float32, each rounded once as the block reader does (NumPy parses to
    float64 first, which rounds a value within 1e-16 of a float32 midpoint twice); ValueError when one
    is not a number. NumPy's parser still takes what Arrow refuses (a trailing tab), as it always has."""
    import pyarrow as pa

    try:
        return pa.array(values, type=pa.string()).cast(pa.float32()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        return np.array(values, dtype=np.float32)


def read_binary(handle: BinaryIO, path: Path, count: int, dim: int) -> tuple[list[str], np.ndarray]:
    """Rows after the header, cut from blocks of the file (vector bytes may hold spaces and newlines)."""
    keys: list[str] = []
    vectors = np.empty((count, dim), dtype=np.float32)
    nbytes = 4 * dim
    buf, pos, row = b"", 0, 0
    while row < count:
        block = handle.read(READ_BLOCK_BYTES)
        buf = buf[pos:] + block
        pos = 0
        spans: list[memoryview] = []
        view = memoryview(buf)
        first = row
        while row < count:
            while pos < len(buf) and buf[pos] == 10:  # a newline before a word ends the previous row
                pos += 1
            space = buf.find(b" ", pos)
            if space < 0 or space + 1 + nbytes > len(buf):
                break
            keys.append(_decode(buf[pos:space], path, f"row {row + 1}"))
            spans.append(view[space + 1 : space + 1 + nbytes])
            pos = space + 1 + nbytes
            row += 1
        if spans:
            vectors[first:row] = np.frombuffer(b"".join(spans), dtype="<f4").reshape(-1, dim)
        del view, spans
        if not block and row < count:
            where = "vector" if buf.find(b" ", pos) >= 0 else "word"
            raise UserError(f"{path}: file ends inside the {where} of row {row + 1} of {count} (truncated?)")
    return keys, vectors
