"""Word segmentation with a jieba `Tokenizer` of our own, its prefix-dictionary cache under results/.

jieba's module-level tokenizer keeps its cache in the system temp folder, shared by every program on
the machine; we build our own instance whose cache file path the workflow names, so a rule builds it
once and the shard jobs only read it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from tqdm import tqdm

from w2v.io import atomic_open
from w2v.text.jieba_cut import JiebaCut
from w2v.text.userdict import Entry

log = logging.getLogger(__name__)


def quiet_jieba() -> None:
    """Send jieba's log records through `logging` at WARNING instead of its own stderr handler.

    jieba installs a DEBUG-level stderr handler at import; called by our code, not at import.
    """
    import jieba

    jieba_log = logging.getLogger("jieba")
    for handler in list(jieba_log.handlers):
        if handler is getattr(jieba, "log_console", None):
            jieba_log.removeHandler(handler)
    jieba_log.setLevel(logging.WARNING)
    jieba_log.propagate = True


def make_tokenizer(cache_path: str | os.PathLike, entries: Iterable[Entry] = ()):
    """Return an initialized `jieba.Tokenizer` caching its prefix dictionary at `cache_path`.

    The cache is read when it exists and built (temp file then rename, by jieba) otherwise.
    User-dictionary `entries` are added afterwards; they are not part of the cache.
    """
    import jieba

    quiet_jieba()
    cache_path = Path(cache_path).resolve()
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = str(cache_path.parent)
    tokenizer.cache_file = cache_path.name
    tokenizer.initialize()
    n = 0
    for entry in entries:
        tokenizer.add_word(entry.word, entry.count, entry.tag)
        n += 1
    log.debug("jieba tokenizer ready (cache %s, %d user words)", cache_path, n)
    return tokenizer


def build_cache(cache_path: str | os.PathLike) -> Path:
    """Build jieba's prefix-dictionary cache afresh at `cache_path` (a stale file is replaced)."""
    cache_path = Path(cache_path)
    cache_path.unlink(missing_ok=True)
    make_tokenizer(cache_path)
    if not cache_path.is_file():
        raise OSError(f"jieba did not write its cache file {cache_path}")
    return cache_path


def segment_lines(tokenizer, lines: Iterable[str], hmm: bool = True) -> Iterator[list[str]]:
    """Yield the jieba tokens of each line (one list per line), whitespace tokens dropped.

    The tokens are `tokenizer.cut(line, HMM=hmm)`'s, computed by `JiebaCut` in about half the time.
    """
    cutter = JiebaCut(tokenizer)
    for line in lines:
        tokens: list[str] = []
        for token in cutter.cut(line, hmm):
            tokens.extend(token.split())
        yield tokens


def write_segmented(tokenizer, lines: Iterable[str], output: str | os.PathLike, hmm: bool = True) -> int:
    """Segment `lines` into `output`, one line of space-separated tokens per input line.

    Returns the number of tokens written. The file appears only when complete.
    """
    n_tokens = 0
    with atomic_open(output) as out:
        progress = tqdm(lines, desc=f"segment {Path(output).name}", unit="line", disable=None)
        for tokens in segment_lines(tokenizer, progress, hmm=hmm):
            n_tokens += len(tokens)
            out.write(" ".join(tokens))
            out.write("\n")
    return n_tokens
