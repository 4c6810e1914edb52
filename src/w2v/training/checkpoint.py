"""Per-epoch training checkpoints (.npz through `jingu.save`, never pickle).

A checkpoint holds the model and optimizer state, the number of finished epochs, the history so far
and a fingerprint of everything that decides the result (settings, vocabulary and pairs files).
All randomness is a function of (seed, epoch) (see `sampling`), so (seed, next epoch) is the whole
RNG state and a resumed run ends with the same vectors as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import jingu
from w2v.config import PLACEMENT_KEYS

log = logging.getLogger(__name__)

FORMAT = "w2v-train-checkpoint-1"


def fingerprint(
    model: str, settings: dict, vocab_sha256: str, pairs_meta: dict, pairs_rows: int, chars_sha256: str | None = None,
) -> str:
    """A hash of what decides the trained vectors (the character table too, when words are made of
    characters); a checkpoint with another fingerprint is ignored.

    Every train setting counts but the placement keys and the number of Hogwild workers: racing
    workers give a different result on every run anyway, so a run moved to a machine with more or
    fewer cores keeps its epochs; one worker (bit-identical vectors) never resumes a racing run.
    """
    kept = {k: v for k, v in settings.items() if k not in PLACEMENT_KEYS}
    if "workers" in kept:
        kept["workers"] = "hogwild" if kept["workers"] > 1 else 1
    payload = {
        "model": model,
        "settings": kept,
        "vocab_sha256": vocab_sha256,
        "pairs": {k: pairs_meta[k] for k in sorted(pairs_meta)},
        "pairs_rows": pairs_rows,
    }
    if chars_sha256 is not None:
        payload["chars_sha256"] = chars_sha256
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write `state` (+ format tag); `jingu.save` writes atomically, so a kill mid-write leaves the
    previous checkpoint intact."""
    jingu.save({"format": FORMAT, **state}, path)


def load_checkpoint(path: str | Path, expected_fingerprint: str, device: Any = None) -> dict[str, Any] | None:
    """The checkpoint at `path` if it exists and matches `expected_fingerprint`, else None (logged)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        state = jingu.load(path, device=device)
    except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint means: start afresh
        log.warning("ignoring unreadable checkpoint %s (%s); training from scratch", path, exc)
        return None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        log.warning("ignoring %s: not a w2v training checkpoint; training from scratch", path)
        return None
    if state.get("fingerprint") != expected_fingerprint:
        log.warning(
            "ignoring checkpoint %s: it was written for other settings or input files; training from scratch", path
        )
        return None
    return state
