"""Reading the raw corpus as shards: byte ranges of one or more files, decoded with clear errors.

A corpus is one or more files (a folder stands for the files under it, in sorted order). Plain,
`.gz`, `.bz2` and `.xz` files are read as streams, so no job holds the corpus in memory. The files
are laid end to end and cut into `shards` ranges of about equal size (bytes on disk). A shard job
reads only its own range:

- in a plain file a range boundary moves forward to the next line start; where no line ends within
  `LONG_LINE` bytes (a corpus that is one huge line), to just after the next sentence-final mark, so
  such a corpus still splits. Every job computes the same boundaries, so each byte is read by
  exactly one shard;
- a compressed file cannot be entered in the middle: each job decompresses it from the start and
  keeps the lines that begin while the decompressor's position in the compressed file lies inside
  its range (a job stops at the end of its range, so on average it decompresses half the file).

Lines longer than `LONG_LINE` bytes are also handed out in pieces cut after sentence-final marks, so
memory stays flat; segmentation and cleaning treat such a cut like the sentence end it is.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import logging
import lzma
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from w2v.errors import UserError
from w2v.io import decode_text

log = logging.getLogger(__name__)

LONG_LINE = 1 << 20  # bytes; longer lines are cut after sentence marks (range boundaries and pieces)
_READ = 1 << 16
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
# Sentence-final marks a long line may be cut after. Only UTF-8 gets the full-width ones: in other
# multi-byte encodings their bytes can also occur across two characters.
_MARKS_UTF8 = tuple(m.encode("utf-8") for m in "。！？!?")
_MARKS_OTHER = (b"!", b"?")


@dataclass(frozen=True)
class CorpusFile:
    """One input file: its path, its size on disk and its decompressor (None for plain text)."""

    path: Path
    size: int

    @property
    def compressed(self) -> bool:
        return self.path.suffix.lower() in _OPENERS


def corpus_files(paths: Iterable[str | os.PathLike]) -> list[CorpusFile]:
    """The files of the corpus in reading order: each path as given, a folder as its files (sorted,
    hidden ones skipped). Raises `UserError` for a missing path or a folder without files."""
    files: list[CorpusFile] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise UserError(f"corpus folder {path} holds no files (config key `corpus`)")
            files.extend(CorpusFile(p, p.stat().st_size) for p in found)
        elif path.is_file():
            files.append(CorpusFile(path, path.stat().st_size))
        else:
            raise UserError(
                f"corpus file {path} does not exist (config key `corpus`: a text file, a folder or a glob "
                "pattern; .gz, .bz2 and .xz files are read as streams)"
            )
    if not files:
        raise UserError("no corpus file given (config key `corpus`)")
    if all(f.size == 0 for f in files):
        names = ", ".join(str(f.path) for f in files)
        raise UserError(f"corpus file {names} is empty (no text); config key `corpus` must name the raw text")
    return files


def check_encoding(encoding: str) -> str:
    """The codec name for `encoding`; `UserError` for unknown ones and for those whose line end is
    not the byte 0x0A (UTF-16/32), which cannot be cut into byte ranges."""
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise UserError(
            f"unknown text encoding '{encoding}' (config key `encoding`); use a name Python knows, "
            "such as utf-8, gb18030 or big5"
        ) from None
    if "\n".encode(codec.name) != b"\n":
        raise UserError(
            f"text encoding '{encoding}' (config key `encoding`) is not supported: lines must end in the "
            "byte 0x0A; convert the corpus to UTF-8 (e.g. `iconv -f utf-16 -t utf-8`)"
        )
    return codec.name


def shard_ranges(files: list[CorpusFile], shards: int, shard: int) -> list[tuple[int, int, int]]:
    """(file index, start, stop) of the nominal byte ranges of `shard`, before boundaries move to
    line starts. The files are laid end to end; shard i gets [i * total / shards, (i+1) * total / shards)."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} out of range for {shards} shards")
    total = sum(f.size for f in files)
    lo, hi = total * shard // shards, total * (shard + 1) // shards
    out = []
    base = 0
    for i, f in enumerate(files):
        start, stop = max(lo - base, 0), min(hi - base, f.size)
        if start < stop:
            out.append((i, start, stop))
        base += f.size
    return out


def _find_mark(data: bytes, marks: tuple[bytes, ...], start: int = 0) -> int:
    """Index just after the first of `marks` in `data[start:]`, or -1."""
    best = -1
    for mark in marks:
        i = data.find(mark, start)
        if i >= 0 and (best < 0 or i + len(mark) < best):
            best = i + len(mark)
    return best


def boundary(handle: BinaryIO, size: int, offset: int, marks: tuple[bytes, ...]) -> int:
    """Where a range boundary at `offset` of a plain file really falls: `offset` itself at a line start,
    else the next line start; with no line end within `LONG_LINE` bytes, just after the first
    sentence mark there. A pure function of the file and `offset`, so neighbouring shards agree."""
    if offset <= 0 or offset >= size:
        return min(max(offset, 0), size)
    handle.seek(offset - 1)
    window = handle.read(LONG_LINE + 1)
    newline = window.find(b"\n")
    if newline >= 0:
        return offset + newline  # just after the "\n" found at offset - 1 + newline
    mark = _find_mark(window, marks, 1)
    if mark >= 0:
        return offset - 1 + mark
    while True:  # neither: the next line end, however far
        block = handle.read(_READ)
        if not block:
            return size
        newline = block.find(b"\n")
        if newline >= 0:
            return handle.tell() - len(block) + newline + 1


def split_pieces(blocks: Iterable[bytes], marks: tuple[bytes, ...]) -> Iterator[tuple[int, bytes]]:
    """(offset, piece) for the lines in a stream of byte blocks, line ends dropped; a line over
    `LONG_LINE` bytes comes in pieces cut after sentence marks (kept whole where it has none), so
    memory stays flat. `offset` counts bytes from the start of the stream."""
    buf = bytearray()
    base = 0  # stream offset of buf[0]
    for block in blocks:
        buf += block
        start = 0
        while (newline := buf.find(b"\n", start)) >= 0:
            yield base + start, bytes(buf[start:newline])
            start = newline + 1
        while len(buf) - start > LONG_LINE:
            cut = _find_mark(buf, marks, start + LONG_LINE // 2)
            if cut < 0:
                break
            yield base + start, bytes(buf[start:cut])
            start = cut
        del buf[:start]
        base += start
    if buf:
        yield base, bytes(buf)


def _blocks(handle: BinaryIO, start: int, stop: int) -> Iterator[bytes]:
    """Bytes [start, stop) of a file in blocks."""
    handle.seek(start)
    left = stop - start
    while left > 0:
        block = handle.read(min(left, _READ))
        if not block:
            return
        left -= len(block)
        yield block


def _compressed_lines(f: CorpusFile, start: int, stop: int) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) of the decompressed lines that begin while the decompressor's position
    in the compressed file is in [start, stop)."""
    with open(f.path, "rb") as raw, _OPENERS[f.path.suffix.lower()](raw, "rb") as stream:
        for lineno, line in enumerate(stream, 1):
            # compressed bytes consumed so far: the same in every job for a given file
            position = raw.tell()
            if position >= stop and stop < f.size:
                return
            if position >= start:
                yield lineno, line


@dataclass
class ShardReader:
    """The decoded text lines (or pieces of long lines) of one shard of a corpus.

    `bytes_read` counts the bytes of text handed out (decompressed for compressed files).
    """

    files: list[CorpusFile]
    shards: int
    shard: int
    encoding: str = "utf-8"

    def __post_init__(self) -> None:
        self.codec = check_encoding(self.encoding)
        self.marks = _MARKS_UTF8 if self.codec == "utf-8" else _MARKS_OTHER
        self.bytes_read = 0

    def __iter__(self) -> Iterator[str]:
        for index, start, stop in shard_ranges(self.files, self.shards, self.shard):
            f = self.files[index]
            if f.compressed:
                for lineno, line in _compressed_lines(f, start, stop):
                    for _, piece in split_pieces([line], self.marks):
                        yield from self._decode(piece, f, lineno, lineno == 1)
                continue
            with open(f.path, "rb") as handle:
                begin = boundary(handle, f.size, start, self.marks)
                end = boundary(handle, f.size, stop, self.marks)
                for offset, piece in split_pieces(_blocks(handle, begin, end), self.marks):
                    yield from self._decode(piece, f, begin + offset, begin + offset == 0, plain=True)

    def _decode(self, data: bytes, f: CorpusFile, where: int, first: bool, plain: bool = False) -> list[str]:
        """The text lines of one piece: a trailing CR dropped, lone CRs taken as line ends."""
        self.bytes_read += len(data) + 1
        if data.endswith(b"\r"):
            data = data[:-1]
        if first and self.codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
        try:
            text = data.decode(self.codec)
        except UnicodeDecodeError:
            line = _line_number(f.path, where) if plain else where
            decode_text(
                data, f.path, self.codec, first_line=line,
                advice="set the config key `encoding` to the file's encoding (for Chinese text often "
                "gb18030 or big5), or convert the file to UTF-8",
            )
            raise  # not reached: decode_text raised UserError
        return text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if "\r" in text else [text]


def _line_number(path: Path, offset: int) -> int:
    """1-based number of the line holding byte `offset` (computed only for an error message)."""
    with open(path, "rb") as handle:
        return sum(block.count(b"\n") for block in _blocks(handle, 0, offset)) + 1
