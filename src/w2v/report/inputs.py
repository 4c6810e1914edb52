"""Reading what the report summarises: training histories and the corpus's counts."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from w2v.errors import UserError
from w2v.io import read_json

# Keys of results/{model}.history.json the report needs (docs/contracts.md).
HISTORY_KEYS = {
    "model": str,
    "device": str,
    "config": dict,
    "vocab_size": int,
    "n_tokens": int,
    "epochs": list,
    "train_seconds": (int, float),
    "words_per_sec": (int, float),
    "final_loss": (int, float, type(None)),
}
EPOCH_KEYS = ("epoch", "loss")


def load_history(path: str | os.PathLike) -> dict:
    """Read and check a training history; UserError naming the file and key when it breaks the contract."""
    path = Path(path)
    redo = "rerun `w2v train` (rule train) to rewrite it"
    history = read_json(path, "training history", redo)
    if not isinstance(history, dict):
        raise UserError(f"{path}: expected a JSON object; {redo}")
    for key, kind in HISTORY_KEYS.items():
        if key not in history:
            raise UserError(f"{path}: key '{key}' is missing; {redo}")
        if not isinstance(history[key], kind) or isinstance(history[key], bool):
            raise UserError(f"{path}: key '{key}' has the wrong type ({type(history[key]).__name__}); {redo}")
    for n, epoch in enumerate(history["epochs"], start=1):
        if not isinstance(epoch, dict) or any(k not in epoch for k in EPOCH_KEYS):
            raise UserError(f"{path}: epochs[{n - 1}] needs the keys {', '.join(EPOCH_KEYS)}; {redo}")
        if not isinstance(epoch["loss"], (int, float)) or isinstance(epoch["loss"], bool):
            raise UserError(f"{path}: epochs[{n - 1}].loss is not a number; {redo}")
    return history


@dataclass
class TokenStats:
    """Counts of the clean corpus."""

    sentences: int
    tokens: int
    distinct: int


def corpus_stats(path: str | os.PathLike) -> TokenStats:
    """Sentences, tokens and distinct tokens from the corpus statistics (results/corpus.json, written by
    the vocabulary stage)."""
    from w2v.data.counts import CorpusStats  # noqa: PLC0415 - only this input needs it

    stats = CorpusStats.read(path)
    return TokenStats(stats.sentences, stats.tokens, stats.distinct)


def count_tokens(path: str | os.PathLike) -> TokenStats:
    """Sentences, tokens and distinct tokens counted from a clean token file, read as a stream."""
    path = Path(path)
    sentences = tokens = 0
    seen: set[str] = set()
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                words = line.split()
                if words:
                    sentences += 1
                    tokens += len(words)
                    seen.update(words)
    except FileNotFoundError:
        raise UserError(f"{path}: token file not found; rerun `w2v clean` (rule clean)") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not valid UTF-8; rerun `w2v clean` (rule clean)") from None
    return TokenStats(sentences, tokens, len(seen))


def loss_trend(history: dict) -> tuple[float | None, float | None]:
    """(first epoch's loss, last epoch's loss), None where missing or not finite."""
    losses = [float(e["loss"]) for e in history["epochs"]]
    if not losses:
        return None, None
    first, last = losses[0], losses[-1]
    return (first if math.isfinite(first) else None, last if math.isfinite(last) else None)
