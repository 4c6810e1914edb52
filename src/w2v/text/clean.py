"""Cleaning segmented text: drop punctuation, symbol and whitespace tokens; one sentence per line.

A character counts as "not part of a word" when its Unicode category is punctuation (P*), symbol
(S*), separator (Z*) or other (C*): that covers Chinese and ASCII punctuation, full-width forms
(，。！？：；“”‘’（）【】《》〈〉「」『』〔〕…—～·) and brackets of every kind. Tokens are trimmed of such
characters at both ends and dropped when nothing is left. A sentence ends at a token holding a
sentence-final mark (。！？；… and their ASCII/half-width forms) and at every line end.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tqdm import tqdm

from w2v.io import atomic_open

log = logging.getLogger(__name__)

SENTENCE_END = frozenset("。！？；…!?;．｡.︒﹒﹖﹗")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*%?")
# Tokens made only of CJK ideographs (most of a Chinese text) are words as they are: no trimming,
# neither numbers nor Latin; one regex match instead of a per-character scan.
_HAN_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@lru_cache(maxsize=65536)
def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] not in "PSZC"


@lru_cache(maxsize=4096)
def _is_latin_letter(ch: str) -> bool:
    return ch.isalpha() and unicodedata.name(ch, "").startswith(("LATIN", "FULLWIDTH LATIN"))


def is_number(token: str) -> bool:
    """True for tokens made of digits (ASCII or full-width), like 12, 3.14, 1,000, 50%."""
    return _NUMBER.fullmatch(token) is not None


def is_latin(token: str) -> bool:
    """True for tokens of Latin letters (and digits) holding at least one letter, like abc, A4."""
    return any(_is_latin_letter(ch) for ch in token) and all(
        _is_latin_letter(ch) or ch.isdecimal() for ch in token
    )


def trim(token: str) -> str:
    """Strip punctuation, symbols and whitespace from both ends of a token."""
    start, stop = 0, len(token)
    while start < stop and not _is_word_char(token[start]):
        start += 1
    while stop > start and not _is_word_char(token[stop - 1]):
        stop -= 1
    return token[start:stop]


@dataclass(frozen=True)
class CleanOptions:
    """Which word-like tokens to keep besides Chinese ones (config section `clean`)."""

    digits: bool = False
    latin: bool = True


def clean_line(tokens: Iterable[str], options: CleanOptions = CleanOptions()) -> Iterator[list[str]]:
    """Yield the non-empty sentences of one segmented line, each a list of clean tokens."""
    sentence: list[str] = []
    for token in tokens:
        if _HAN_WORD.fullmatch(token):
            sentence.append(token)
            continue
        word = trim(token)
        if not word:
            if sentence and any(ch in SENTENCE_END for ch in token):
                yield sentence
                sentence = []
            continue
        if not options.digits and is_number(word):
            continue
        if not options.latin and is_latin(word):
            continue
        sentence.append(word)
    if sentence:
        yield sentence


@dataclass
class CleanStats:
    """Counts reported by `clean_files`."""

    lines: int = 0
    sentences: int = 0
    tokens_in: int = 0
    tokens_out: int = 0


def clean_files(
    inputs: list[str | os.PathLike],
    output: str | os.PathLike,
    options: CleanOptions = CleanOptions(),
    counts: Counter | None = None,
) -> CleanStats:
    """Clean segmented shard files, concatenated in the given order, into `output`; with `counts`,
    also count the tokens written there (the shard's counts come out of the same pass).

    A shard may hold no word (it is then empty); the vocabulary stage checks the corpus as a whole.
    """
    stats = CleanStats()
    with atomic_open(output) as out:
        for path in inputs:
            with open(path, encoding="utf-8") as handle:
                for line in tqdm(handle, desc=f"clean {Path(path).name}", unit="line", disable=None):
                    stats.lines += 1
                    tokens = line.split()
                    stats.tokens_in += len(tokens)
                    for sentence in clean_line(tokens, options):
                        stats.sentences += 1
                        stats.tokens_out += len(sentence)
                        if counts is not None:
                            counts.update(sentence)
                        out.write(" ".join(sentence))
                        out.write("\n")
    if stats.tokens_out == 0:
        log.warning("no tokens left after cleaning %s", ", ".join(str(p) for p in inputs))
    log.info(
        "cleaned %d lines: %d of %d tokens kept, %d sentences",
        stats.lines, stats.tokens_out, stats.tokens_in, stats.sentences,
    )
    return stats
