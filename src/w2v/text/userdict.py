"""The jieba user dictionary: `word [count] [tag]` a line, read with errors that name the line.

jieba's own `load_userdict` accepts almost anything and fails late or silently; we parse the file
ourselves (UTF-8, optional BOM, blank lines and lines starting with `#` skipped) and hand the
entries to `Tokenizer.add_word`, which is what `load_userdict` does. A count of 0 removes the word
from jieba's dictionary (jieba's `del_word`), which undoes bad compounds of its built-in dictionary.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from w2v.errors import UserError
from w2v.io import decode_text, read_input_bytes

_TAG = re.compile(r"[a-zA-Z]+")


@dataclass(frozen=True)
class Entry:
    """One user-dictionary word; `count` None lets jieba pick a count that keeps the word whole, 0 removes it."""

    word: str
    count: int | None = None
    tag: str | None = None


def read_user_dict(path: str | os.PathLike) -> list[Entry]:
    """Parse a jieba user dictionary; raise `UserError` naming the file and line on bad input."""
    path = Path(path)
    hint = "config key `segment.user_dict`"
    data = read_input_bytes(
        path,
        missing=f"user dictionary {path} does not exist ({hint}; use \"\" for none)",
        folder=f"user dictionary {path} is a folder, not a file ({hint})",
    )
    text = decode_text(data, path, "utf-8-sig", label="UTF-8", advice="a jieba user dictionary must be UTF-8")
    entries = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        word, rest = parts[0], parts[1:]
        count: int | None = None
        tag: str | None = None
        if rest and rest[0].isdigit() and rest[0].isascii():
            count = int(rest.pop(0))
        if rest and _TAG.fullmatch(rest[0]):
            tag = rest.pop(0)
        if rest:
            raise UserError(
                f"{path}, line {lineno}: expected `word [count] [tag]` (count an integer >= 0, "
                f"tag letters such as nr), got {line!r}"
            )
        entries.append(Entry(word, count, tag))
    if not entries:
        raise UserError(f"user dictionary {path} holds no words ({hint}; use \"\" for none)")
    return entries
