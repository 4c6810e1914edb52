"""Train CBOW or skip-gram on jingu from a pairs Parquet file; write word2vec vectors and a history.

`train(...)` is what `w2v train`, the Snakemake rule and the benchmarks call. Word2vec's math is
kept (gensim's subsampling, shrinking windows, unigram^0.75 negatives, linear decay from `alpha`
to `min_alpha`, input vectors uniform(-0.5/dim, 0.5/dim), output vectors zero) but examples are
processed in mini-batches whose summed loss goes through jingu's autograd, with row-sparse
gradients and a sparse SGD step. A checkpoint after every epoch lets a killed run resume; the
outputs appear only once training has finished. With `chars` (see `w2v.data.chars`), words are composed
from their characters too, and the characters' vectors are written beside the word vectors.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from collections.abc import Sequence
from typing import Any

import numpy as np

import jingu
from w2v.data.chars import COMPOSITIONS, Composition, load_char_table
from w2v.config import check_train_settings, train_defaults
from w2v.errors import UserError
from w2v.io import atomic_open
from w2v.training.models import build_model
from w2v.data.pairs import read_dataset_metadata
from w2v.training import sampling
from w2v.training.batches import PairsDataset
from w2v.training.checkpoint import fingerprint, load_checkpoint, save_checkpoint
from w2v.training.loop import Epochs, TrainingDiverged  # noqa: F401 - raised by train(), importable from here
from w2v.training.optim import RowAdagrad
from w2v.vectors import KeyedVectors, chars_path
from w2v.data.vocab import Vocabulary, load_vocab

log = logging.getLogger(__name__)

MODELS = ("cbow", "skipgram")

# Defaults of the `train` config section and `seed`, read from the config schema (their one source).
DEFAULTS: dict[str, Any] = train_defaults()




def make_optimizer(name: str, params: Any, lr: float) -> jingu.optim.Optimizer:
    """jingu's SGD (word2vec's rule), or row-wise Adagrad for large batches."""
    if name == "adagrad":
        return RowAdagrad(params, lr=lr)
    return jingu.optim.SGD(params, lr=lr)


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda:0' when CuPy sees a GPU, else 'cpu' (logged); 'cuda' without a GPU is an error."""
    if device == "auto":
        chosen = "cuda:0" if jingu.cuda.is_available() else "cpu"
        log.info("device auto: training on %s", chosen)
        return chosen
    if device.startswith("cuda") and not jingu.cuda.is_available():
        raise UserError(
            f"train.device is {device!r} but CuPy finds no usable GPU; set train.device to 'auto' or 'cpu', "
            "or install the gpu extra (pip install -e '.[gpu]')"
        )
    try:
        return jingu.cuda.canonical_device(device)
    except ValueError as exc:
        raise UserError(f"train.device: {exc}") from None


def full_settings(settings: dict) -> dict:
    """`settings` over `DEFAULTS`, validated against the config schema; errors name the key.

    `device` is accepted and checked but left out: it picks where to train, not what is trained.
    """
    return check_train_settings(settings)


def _check_inputs(model: str, pairs: Any, vocab_path: Path) -> tuple[Any, dict, list[Path]]:
    vocab = load_vocab(vocab_path)
    meta, files = read_dataset_metadata(pairs)
    expected = "cbow-pairs-1" if model == "cbow" else "skipgram-pairs-1"
    if meta["format"] != expected:
        raise UserError(f"{files[0]} holds {meta['format']} rows, but model {model!r} needs {expected}")
    if meta["vocab_sha256"] != vocab.sha256:
        raise UserError(
            f"{files[0]} was built from another vocabulary than {vocab_path} (sha256 differs); "
            "rerun `w2v pairs` (rule pairs)"
        )
    return vocab, meta, files


def train(
    model: str,
    pairs: str | Path | list[str | Path],
    vocab_path: str | Path,
    settings: dict,
    out_vec: str | Path,
    out_history: str | Path,
    checkpoint_path: str | Path | None = None,
    device: str = "auto",
    stop_after: int | None = None,
    char_table: str | Path | None = None,
) -> dict:
    """Train `model` ("cbow" or "skipgram") on `pairs` (a pairs file, a folder of part files, or a
    list of part files) and write `out_vec` and `out_history`; return the history.

    `settings` are the `train` config keys (missing ones take `DEFAULTS`) plus `seed`. With a
    `checkpoint_path`, a checkpoint is written after every epoch and a matching one is resumed
    from; it is removed once the outputs are written. `stop_after` ends this call after that many
    epochs (checkpoint written, no outputs), as a kill would. `char_table` is the character table
    (default: chars.tsv beside the vocabulary), read when the `chars` setting is not "none"; the
    characters' vectors go to `chars_path(out_vec)`, which holds no rows without characters.
    """
    if model not in MODELS:
        raise UserError(f"unknown model {model!r}; expected one of {MODELS}")
    vocab_path = Path(vocab_path)
    cfg = full_settings(settings)
    vocab, meta, files = _check_inputs(model, pairs, vocab_path)
    window, seed = meta["window"], int(cfg["seed"])
    source = PairsDataset(files, model, window)
    dev = resolve_device(device)
    # On a GPU this pass also puts the pairs on the device (when they fit), ready for every epoch.
    source.check_ids(len(vocab), dev)

    # Both live on the training device for the whole run (the masks and draws are made there).
    keep_prob = jingu.cuda.to_device(sampling.keep_probabilities(vocab.counts, cfg["sample"]), dev)
    unigram = jingu.cuda.to_device(sampling.unigram_table(vocab.counts, cfg["ns_exponent"]), dev)
    table_path = Path(char_table) if char_table is not None else vocab_path.with_name("chars.tsv")
    composition = composition_for(cfg, vocab, table_path)
    net = build_model(model, len(vocab), cfg, device=dev, generator=np.random.default_rng([seed, 0x1A17]),
                      composition=composition)
    opt = make_optimizer(cfg["optimizer"], net.parameters(), cfg["alpha"])
    history = {
        "model": model,
        "device": dev,
        "config": {**cfg, "window": window},
        "vocab_size": len(vocab),
        "n_tokens": meta["n_tokens"],
        "epochs": [],
    }
    fp = fingerprint(model, cfg, vocab.sha256, meta, source.num_rows,
                     chars_sha256=composition.chars.sha256 if composition is not None else None)
    start = 0
    if checkpoint_path is not None:
        state = load_checkpoint(checkpoint_path, fp, device=dev)
        if state is not None:
            net.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            history["epochs"] = list(state["history"])
            start = int(state["epoch"])
            log.info("resuming %s from %s after epoch %d of %d", model, checkpoint_path, start, cfg["epochs"])

    end = cfg["epochs"] if stop_after is None else min(cfg["epochs"], start + stop_after)
    epochs = Epochs(net, opt, source, cfg, keep_prob, unigram, seed, meta["n_tokens"], dev)
    try:
        for epoch in range(start, end):
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported by the NaN guard
                record = epochs.run(epoch)
            history["epochs"].append(record)
            log.info(
                "%s epoch %d/%d: loss %.4f, alpha %.5f, %.0f words/s, %.1f s",
                model, epoch + 1, cfg["epochs"], record["loss"], record["alpha"], record["words_per_sec"],
                record["seconds"],
            )
            if checkpoint_path is not None:  # every worker has finished the epoch
                save_checkpoint(
                    checkpoint_path,
                    {
                        "fingerprint": fp,
                        "epoch": epoch + 1,
                        "model": net.state_dict(),
                        "optimizer": opt.state_dict(),
                        "history": history["epochs"],
                        "rng": {"seed": seed, "next_epoch": epoch + 1},
                    },
                )
    finally:
        epochs.close()
    if len(history["epochs"]) < cfg["epochs"]:
        return history

    seconds = sum(e["seconds"] for e in history["epochs"])
    history["train_seconds"] = seconds
    history["words_per_sec"] = meta["n_tokens"] * cfg["epochs"] / seconds if seconds > 0 else None
    history["final_loss"] = history["epochs"][-1]["loss"]
    write_vectors(out_vec, vocab.tokens, net.vectors())
    write_char_vectors(chars_path(out_vec), composition.chars.chars if composition else (), net.char_vectors())
    with atomic_open(out_history) as handle:
        json.dump(history, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    if checkpoint_path is not None:
        Path(checkpoint_path).unlink(missing_ok=True)
    return history


def write_vectors(path: str | Path, tokens: list[str], vectors: np.ndarray) -> None:
    """word2vec text format without the padding row (row 0), written atomically."""
    KeyedVectors(tokens[1:], np.asarray(vectors[1:], dtype=np.float32)).save_word2vec_format(path)


def write_char_vectors(path: str | Path, chars: Sequence[str], vectors: np.ndarray) -> None:
    """The characters' vectors in word2vec text format, written atomically. Word-only training writes
    the file with no rows, so that one left by an earlier run with characters never pairs with
    word-only vectors."""
    KeyedVectors(list(chars), np.asarray(vectors, dtype=np.float32)).save_word2vec_format(path)


def composition_for(cfg: dict, vocab: Vocabulary, table_path: Path) -> Composition | None:
    """How words are made of characters under the `chars` setting (None: word vectors only)."""
    compose = COMPOSITIONS[cfg["chars"]]
    if compose is None:
        return None
    full = load_char_table(table_path)
    table = full.at_least(cfg["min_char_count"])
    if not len(table):
        raise UserError(
            f"no character of {table_path} occurs at least train.min_char_count={cfg['min_char_count']} times; "
            "lower it, or set train.chars to none"
        )
    unknown = {c for token in vocab.tokens[1:] for c in token} - set(full.chars)
    if unknown:
        raise UserError(f"{table_path} lacks characters of the vocabulary's words (e.g. {sorted(unknown)[:3]}); "
                        "it was written for another vocabulary: rerun `w2v vocab` (rule vocab)")
    return compose(vocab.tokens, table)
