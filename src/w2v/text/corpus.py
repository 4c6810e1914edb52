"""Reading the raw corpus as shards: ranges of its files' text, decoded with clear errors.

A corpus is one or more files (a folder stands for the files under it, in sorted order). Plain,
`.gz`, `.bz2` and `.xz` files are read as streams, so no job holds the corpus in memory. Shards
belong to files (`plan_shards`): a large file is cut into pieces of about `segment.shard_mb` of
text (decompressed size, so a compressed file is cut by the text it holds), small files share
buckets chosen by a hash of their path; adding or changing one file changes only its own shards.
A shard job reads only its own ranges:

- in a plain file a range boundary moves forward to the next line start; where no line ends within
  `LONG_LINE` bytes (a corpus that is one huge line), to just after the next sentence-final mark, so
  such a corpus still splits. Every job computes the same boundaries, so each byte is read by
  exactly one shard;
- a compressed file cannot be entered in the middle: each job decompresses it from the start and
  keeps the lines (and long lines' pieces) that start inside its range of the decompressed text.

Lines longer than `LONG_LINE` bytes are also handed out in pieces cut after sentence-final marks, so
memory stays flat; segmentation and cleaning treat such a cut like the sentence end it is.
"""

from __future__ import annotations

import bz2
import codecs
import glob
import hashlib
import json
import gzip
import logging
import lzma
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from w2v.errors import UserError
from w2v.io import atomic_open, decode_text

log = logging.getLogger(__name__)

LONG_LINE = 1 << 20  # bytes; longer lines are cut after sentence marks (range boundaries and pieces)
_READ = 1 << 16
SMALL_BUCKETS = 64  # shards for the files under half a shard; fixed, so adding a file moves no other
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
# Sentence-final marks a long line may be cut after. Only UTF-8 gets the full-width ones: in other
# multi-byte encodings their bytes can also occur across two characters.
_MARKS_UTF8 = tuple(m.encode("utf-8") for m in "。！？!?")
_MARKS_OTHER = (b"!", b"?")


@dataclass(frozen=True)
class CorpusFile:
    """One input file: its path, its size on disk and the size of its text (decompressed)."""

    path: Path
    size: int
    text_size: int = -1  # -1: not measured (a compressed file's text is measured on demand)

    @property
    def compressed(self) -> bool:
        return self.path.suffix.lower() in _OPENERS

    def measured(self, cache: dict | None = None) -> CorpusFile:
        """This file with `text_size` known: the size for plain text, the decompressed size otherwise
        (taken from `cache`, keyed by path, size and mtime, when it holds it; added there)."""
        if self.text_size >= 0:
            return self
        if not self.compressed:
            return CorpusFile(self.path, self.size, self.size)
        key = str(self.path)
        stamp = [self.size, self.path.stat().st_mtime_ns]
        if cache is not None and key in cache and cache[key][:2] == stamp:
            return CorpusFile(self.path, self.size, cache[key][2])
        total = 0
        with _OPENERS[self.path.suffix.lower()](self.path, "rb") as stream:
            while block := stream.read(_READ * 16):
                total += len(block)
        if cache is not None:
            cache[key] = [*stamp, total]
        return CorpusFile(self.path, self.size, total)


def _folder_files(path: Path) -> list[Path]:
    found = sorted(
        p for p in path.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    if not found:
        raise UserError(f"corpus folder {path} holds no files (config key `corpus`)")
    return found


def _expand(given: str | os.PathLike) -> list[Path]:
    """The files one `corpus` entry stands for: a file, a folder's files or a glob pattern's matches."""
    spec = str(given)
    if any(ch in spec for ch in "*?[") and not Path(spec).exists():
        found = sorted(Path(p) for p in glob.glob(spec, recursive=True) if Path(p).is_file())
        if not found:
            raise UserError(f"config key `corpus`: the pattern {spec!r} matches no file")
        return found
    path = Path(spec)
    if path.is_dir():
        return _folder_files(path)
    if path.is_file():
        return [path]
    raise UserError(
        f"corpus file {path} does not exist (config key `corpus`: a text file, a folder or a glob "
        "pattern; .gz, .bz2 and .xz files are read as streams)"
    )


def corpus_files(paths: Iterable[str | os.PathLike]) -> list[CorpusFile]:
    """The files of the corpus in reading order: each path as given, a folder as its files (sorted,
    hidden ones skipped), a glob pattern as its matches (sorted). Raises `UserError` for a missing
    path or a folder without files. The workflow lists the corpus with this function too."""
    files = [CorpusFile(p, p.stat().st_size) for given in paths for p in _expand(given)]
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


@dataclass(frozen=True)
class TextRange:
    """Bytes [start, stop) of one file's text (decompressed for a compressed file). A shard reads the
    lines that start in its ranges, so ranges that meet share no line."""

    file: CorpusFile
    start: int
    stop: int


@dataclass(frozen=True)
class Shard:
    """One segmentation job's text: a name derived from its file(s) and its ranges, in reading order."""

    name: str
    ranges: tuple[TextRange, ...]

    def paths(self) -> list[str]:
        return list(dict.fromkeys(str(r.file.path) for r in self.ranges))

    def spec(self) -> str:
        """The ranges as JSON, as `w2v segment --ranges` reads them."""
        return json.dumps([[str(r.file.path), r.start, r.stop] for r in self.ranges], ensure_ascii=False)


def even_ranges(files: list[CorpusFile], shards: int, shard: int) -> list[TextRange]:
    """The ranges of `shard` when the files' text is laid end to end and cut into `shards` equal
    parts (`w2v segment --shards`): shard i gets [i * total / shards, (i+1) * total / shards)."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} out of range for {shards} shards")
    files = [f.measured() for f in files]
    total = sum(f.text_size for f in files)
    lo, hi = total * shard // shards, total * (shard + 1) // shards
    out = []
    base = 0
    for f in files:
        start, stop = max(lo - base, 0), min(hi - base, f.text_size)
        if start < stop:
            out.append(TextRange(f, start, stop))
        base += f.text_size
    return out


def _digest(path: Path) -> str:
    return hashlib.sha1(os.path.normpath(str(path)).encode("utf-8")).hexdigest()


def plan_shards(files: list[CorpusFile], shard_bytes: int) -> list[Shard]:
    """The shards of a corpus, each belonging to its file(s), so adding, removing or changing one
    file changes only its own shards. A file of at least half `shard_bytes` of text is cut into
    round(text / shard_bytes) pieces named `<file>-<hash of its path>-<piece>`; smaller files go
    whole into one of `SMALL_BUCKETS` shards `small-<nn>` chosen by a hash of their path (a shelf
    of many short texts makes at most that many jobs). Order: the large files' pieces in corpus
    order, then the buckets; it is the order of the token stream, which numbers positions."""
    large: list[Shard] = []
    buckets: dict[int, list[TextRange]] = {}
    for f in (f.measured() for f in files):
        pieces = int(f.text_size / shard_bytes + 0.5)
        if pieces < 1:
            buckets.setdefault(int(_digest(f.path), 16) % SMALL_BUCKETS, []).append(TextRange(f, 0, f.text_size))
            continue
        stem = re.sub(r"\W+", "_", f.path.name).strip("_")[:40] or "file"
        prefix = f"{stem}-{_digest(f.path)[:8]}"
        size = f.text_size
        large.extend(
            Shard(f"{prefix}-{k:04d}", (TextRange(f, size * k // pieces, size * (k + 1) // pieces),))
            for k in range(pieces)
        )
    return large + [Shard(f"small-{b:02d}", tuple(ranges)) for b, ranges in sorted(buckets.items())]


def plan_corpus(paths: Iterable[str | os.PathLike], shard_mb: float, cache: str | os.PathLike | None = None) -> list[Shard]:
    """`plan_shards` for the corpus `paths` with shards of about `shard_mb` MB of text. The text size
    of a compressed file is measured once (a full decompression) and kept in the JSON file `cache`."""
    known: dict = {}
    if cache is not None and Path(cache).is_file():
        try:
            known = json.loads(Path(cache).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {}  # a damaged cache is only remeasured
    before = dict(known)
    files = [f.measured(known) for f in corpus_files(paths)]
    if cache is not None and known != before:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(cache) as handle:
            json.dump(known, handle, indent=1, ensure_ascii=False)
    return plan_shards(files, max(1, int(shard_mb * 1e6)))


def ranges_from_spec(spec: str) -> list[TextRange]:
    """The ranges of `Shard.spec`; `UserError` for anything else."""
    try:
        items = json.loads(spec)
        ranges = [(Path(path), int(start), int(stop)) for path, start, stop in items]
    except (ValueError, TypeError) as exc:
        raise UserError(f"--ranges must be a JSON list of [file, start, stop] ({exc})") from None
    for path, _, _ in ranges:
        if not path.is_file():
            raise UserError(f"corpus file {path} does not exist (config key `corpus`)")
    return [TextRange(CorpusFile(path, path.stat().st_size), start, stop) for path, start, stop in ranges]


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


def _compressed_pieces(f: CorpusFile, start: int, stop: int, marks: tuple[bytes, ...]) -> Iterator[tuple[int, bytes]]:
    """(text offset, piece) of the decompressed lines (or long lines' pieces) that start in [start, stop):
    every job decompresses from the start and cuts the same pieces, so each goes to exactly one range."""
    with _OPENERS[f.path.suffix.lower()](f.path, "rb") as stream:
        for offset, piece in split_pieces(iter(lambda: stream.read(_READ), b""), marks):
            if offset >= stop:
                return
            if offset >= start:
                yield offset, piece


@dataclass
class ShardReader:
    """The decoded text lines (or pieces of long lines) of one shard: the lines starting in its ranges.

    `bytes_read` counts the bytes of text handed out (decompressed for compressed files).
    """

    ranges: list[TextRange]
    encoding: str = "utf-8"

    def __post_init__(self) -> None:
        self.codec = check_encoding(self.encoding)
        self.marks = _MARKS_UTF8 if self.codec == "utf-8" else _MARKS_OTHER
        self.bytes_read = 0

    def __iter__(self) -> Iterator[str]:
        for r in self.ranges:
            f = r.file
            if f.compressed:
                for offset, piece in _compressed_pieces(f, r.start, r.stop, self.marks):
                    yield from self._decode(piece, f, offset)
                continue
            with open(f.path, "rb") as handle:
                begin = boundary(handle, f.size, r.start, self.marks)
                end = boundary(handle, f.size, r.stop, self.marks)
                for offset, piece in split_pieces(_blocks(handle, begin, end), self.marks):
                    yield from self._decode(piece, f, begin + offset)

    def _decode(self, data: bytes, f: CorpusFile, offset: int) -> list[str]:
        """The text lines of one piece starting at text `offset`: a trailing CR dropped, lone CRs
        taken as line ends."""
        self.bytes_read += len(data) + 1
        if data.endswith(b"\r"):
            data = data[:-1]
        if offset == 0 and self.codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
        try:
            text = data.decode(self.codec)
        except UnicodeDecodeError:
            decode_text(
                data, f.path, self.codec, first_line=_line_number(f, offset),
                advice="set the config key `encoding` to the file's encoding (for Chinese text often "
                "gb18030 or big5), or convert the file to UTF-8",
            )
            raise  # not reached: decode_text raised UserError
        return text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if "\r" in text else [text]


def _line_number(f: CorpusFile, offset: int) -> int:
    """1-based number of the line holding text `offset` (computed only for an error message)."""
    opener = _OPENERS.get(f.path.suffix.lower(), open)
    lines, left = 1, offset
    with opener(f.path, "rb") as handle:
        while left > 0 and (block := handle.read(min(left, _READ))):
            lines += block.count(b"\n")
            left -= len(block)
    return lines
