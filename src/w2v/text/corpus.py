"""Reading the raw corpus: decoding with a clear error, and cutting it into contiguous shards."""

from __future__ import annotations

import bisect
import codecs
import itertools
import logging
import os
from pathlib import Path

from w2v.errors import UserError
from w2v.io import decode_text, read_input_bytes

log = logging.getLogger(__name__)


def read_corpus_lines(path: str | os.PathLike, encoding: str = "utf-8") -> list[str]:
    """Return the lines of the corpus, decoded, without line ends.

    A UTF-8 byte-order mark is dropped and CRLF/CR line ends are accepted whatever the encoding.
    A file that does not decode raises `UserError` naming the file, the line and the `encoding` key.
    """
    path = Path(path)
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise UserError(
            f"unknown text encoding '{encoding}' (config key `encoding`); use a name Python knows, "
            "such as utf-8, gb18030 or big5"
        ) from None
    data = read_input_bytes(
        path,
        missing=f"corpus file {path} does not exist (config key `corpus`)",
        folder=f"corpus {path} is a folder; config key `corpus` must name a text file",
    )
    name = "utf-8-sig" if codec.name == "utf-8" else codec.name
    text = decode_text(
        data, path, name, label=codec.name,
        advice="set the config key `encoding` to the file's encoding (for Chinese text often gb18030 "
        "or big5), or convert the file to UTF-8",
    )
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not any(line.strip() for line in lines):
        raise UserError(f"corpus file {path} is empty (no text); config key `corpus` must name the raw text")
    log.debug("read %d lines from %s", len(lines), path)
    return lines


def shard_bounds(lines: list[str], shards: int) -> list[tuple[int, int]]:
    """Cut `lines` into `shards` contiguous runs of about equal character count.

    Returns (start, stop) line ranges that cover every line once, in order; a run may be empty when
    there are fewer lines than shards.
    """
    if shards < 1:
        raise ValueError(f"shards must be >= 1, got {shards}")
    # Plain Python, not NumPy: every shard job calls this, and importing NumPy costs more than it saves.
    ends = list(itertools.accumulate(len(line) + 1 for line in lines))
    total = ends[-1] if ends else 0
    # cut after the first line whose running total reaches each target
    cuts = [0, *(min(bisect.bisect_left(ends, total * i / shards) + 1, len(lines)) for i in range(1, shards)), len(lines)]
    return [(cuts[i], cuts[i + 1]) for i in range(shards)]
