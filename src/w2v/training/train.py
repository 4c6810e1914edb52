"""Train a registered model (CBOW or skip-gram) on jingu from a pairs dataset; write word2vec vectors
and a history.

`train(model, files, settings)` is what `w2v train`, the Snakemake rule and the benchmarks call.
Word2vec's math is kept (gensim's subsampling, shrinking windows, unigram^0.75 negatives, linear
decay from `alpha` to `min_alpha`, input vectors uniform(-0.5/dim, 0.5/dim), output vectors zero)
but examples are processed in mini-batches whose summed loss goes through jingu's autograd, with
row-sparse gradients and a sparse optimizer step. It runs in four steps: `prepare` (check the
inputs, choose the device's pipeline once, build the model), `resume` (from a matching checkpoint),
`fit` (the epochs, a checkpoint after each) and `export` (the outputs appear only once training has
finished). With `chars` (see `w2v.data.chars`), words are composed from their characters too, and
the characters' vectors are written beside the word vectors.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import jingu
from w2v.data.chars import COMPOSITIONS, Composition, load_char_table
from w2v.data.pairs import read_dataset_metadata
from w2v.data.vocab import Vocabulary, load_vocab
from w2v.errors import UserError
from w2v.io import atomic_open
from w2v.training import sampling
from w2v.training.checkpoint import fingerprint, load_checkpoint, save_checkpoint
from w2v.training.loop import Epochs, Setup, TrainingDiverged  # noqa: F401 - raised by train(), importable from here
from w2v.training.optim import RowAdagrad
from w2v.training.pipeline import BatchPlan, pipeline_for
from w2v.training.reader import PairsDataset
from w2v.training.registry import ModelKind, build_model, model_kind
from w2v.training.settings import TrainSettings
from w2v.vectors import KeyedVectors, chars_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainFiles:
    """The files of one training run: the `pairs` (a file, a folder of part files, or a list of part
    files) and `vocab` it reads, the vectors (`vec`) and `history` it writes, an optional
    `checkpoint` written after every epoch and resumed from, and the character table `chars`
    (default: chars.tsv beside the vocabulary), read when the `chars` setting is not "none"."""

    pairs: Any
    vocab: str | Path
    vec: str | Path
    history: str | Path
    checkpoint: str | Path | None = None
    chars: str | Path | None = None

    def char_table(self) -> Path:
        return Path(self.chars) if self.chars is not None else Path(self.vocab).with_name("chars.tsv")


@dataclass
class Prepared:
    """What `prepare` made: the run, the vocabulary and character composition it exports with, the
    fingerprint a checkpoint must match, and the history so far."""

    run: Setup
    vocab: Vocabulary
    composition: Composition | None
    fingerprint: str
    history: dict


def train(model: str, files: TrainFiles, settings: TrainSettings | Mapping[str, Any]) -> dict:
    """Train `model` (a name in `w2v.training.registry.MODELS`) under `settings` (a `TrainSettings`,
    or config keys that the schema's defaults complete) and write `files.vec` and `files.history`;
    return the history."""
    settings = settings if isinstance(settings, TrainSettings) else TrainSettings.from_mapping(dict(settings))
    prepared = prepare(model_kind(model), files, settings)
    epochs = Epochs(prepared.run)
    try:
        fit(epochs, prepared, files.checkpoint, start=resume(prepared, files.checkpoint))
    finally:
        epochs.close()
    export(prepared, files)
    return prepared.history


def prepare(kind: ModelKind, files: TrainFiles, settings: TrainSettings) -> Prepared:
    """Check the inputs, choose the pipeline of the device once, and build the model and optimizer."""
    vocab, meta, parts = _check_inputs(kind, files.pairs, Path(files.vocab))
    source = PairsDataset(parts, kind.pairs, meta["window"])
    device = resolve_device(settings.device)
    pipeline = pipeline_for(device, settings.workers)
    pipeline.prepare(source, len(vocab))
    composition = composition_for(settings, vocab, files.char_table())
    net = build_model(kind.name, len(vocab), settings, backend=pipeline.backend,
                      generator=np.random.default_rng([settings.seed, 0x1A17]), composition=composition)
    plan = BatchPlan(
        kind.mask, meta["window"], pipeline.put(sampling.keep_probabilities(vocab.counts, settings.sample)),
        pipeline.put(sampling.unigram_table(vocab.counts, settings.ns_exponent)), settings.batch_size,
        settings.shuffle_buffer, settings.negatives, settings.shared_negatives, settings.negative_group,
    )
    opt = make_optimizer(settings.optimizer, net.parameters(), settings.alpha, dense=pipeline.dense_updates)
    run = Setup(net, opt, source, plan, pipeline, settings, meta["n_tokens"])
    fp = fingerprint(kind.name, settings.as_dict(), vocab.sha256, meta, source.num_rows,
                     chars_sha256=composition.chars.sha256 if composition is not None else None)
    history = {"model": kind.name, "device": device, "config": {**settings.as_dict(), "window": meta["window"]},
               "vocab_size": len(vocab), "n_tokens": meta["n_tokens"], "epochs": []}
    return Prepared(run, vocab, composition, fp, history)


def resume(prepared: Prepared, checkpoint: str | Path | None) -> int:
    """Load a checkpoint that matches this run's fingerprint; return the epochs it holds (0 without)."""
    if checkpoint is None:
        return 0
    run = prepared.run
    state = load_checkpoint(checkpoint, prepared.fingerprint, device=run.pipeline.device)
    if state is None:
        return 0
    run.net.load_state_dict(state["model"])
    run.opt.load_state_dict(state["optimizer"])
    prepared.history["epochs"] = list(state["history"])
    log.info("resuming %s from %s after epoch %d of %d", prepared.history["model"], checkpoint, int(state["epoch"]),
             run.settings.epochs)
    return int(state["epoch"])


def fit(epochs: Epochs, prepared: Prepared, checkpoint: str | Path | None, start: int) -> None:
    """Train the epochs from `start`, writing a checkpoint after each (every worker has finished it)."""
    run, history = prepared.run, prepared.history
    for epoch in range(start, run.settings.epochs):
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported by the NaN guard
            record = epochs.run(epoch)
        history["epochs"].append(record)
        log.info("%s epoch %d/%d: loss %.4f, alpha %.5f, %.0f words/s, %.1f s", history["model"], epoch + 1,
                 run.settings.epochs, record["loss"], record["alpha"], record["words_per_sec"], record["seconds"])
        if checkpoint is not None:
            save_checkpoint(checkpoint, {
                "fingerprint": prepared.fingerprint, "epoch": epoch + 1, "model": run.net.state_dict(),
                "optimizer": run.opt.state_dict(), "history": history["epochs"],
            })  # no generator state: every draw is a function of (seed, epoch, counter)


def export(prepared: Prepared, files: TrainFiles) -> None:
    """Write the vectors, the characters' vectors and the history; remove the checkpoint."""
    run, history = prepared.run, prepared.history
    seconds = sum(e["seconds"] for e in history["epochs"])
    history["train_seconds"] = seconds
    history["words_per_sec"] = run.n_tokens * run.settings.epochs / seconds if seconds > 0 else None
    history["final_loss"] = history["epochs"][-1]["loss"]
    write_vectors(files.vec, prepared.vocab.tokens, run.net.vectors())
    chars = prepared.composition.chars.chars if prepared.composition else ()
    write_char_vectors(chars_path(files.vec), chars, run.net.char_vectors())
    with atomic_open(files.history) as handle:
        json.dump(history, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    if files.checkpoint is not None:
        Path(files.checkpoint).unlink(missing_ok=True)


def make_optimizer(name: str, params: Any, lr: float, dense: bool = False) -> jingu.optim.Optimizer:
    """jingu's SGD (word2vec's rule), or row-wise Adagrad for large batches (`dense`: its update
    scatters into the whole table, as a GPU prefers)."""
    if name == "adagrad":
        return RowAdagrad(params, lr=lr, dense=dense)
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


def _check_inputs(kind: ModelKind, pairs: Any, vocab_path: Path) -> tuple[Vocabulary, dict, list[Path]]:
    vocab = load_vocab(vocab_path)
    meta, files = read_dataset_metadata(pairs)
    if meta["format"] != kind.pairs.format:
        raise UserError(f"{files[0]} holds {meta['format']} rows, but model {kind.name!r} needs {kind.pairs.format}")
    if meta["vocab_sha256"] != vocab.sha256:
        raise UserError(
            f"{files[0]} was built from another vocabulary than {vocab_path} (sha256 differs); "
            "rerun `w2v pairs` (rule pairs)"
        )
    return vocab, meta, files


def write_vectors(path: str | Path, tokens: list[str], vectors: np.ndarray) -> None:
    """word2vec text format without the padding row (row 0), written atomically."""
    KeyedVectors(tokens[1:], np.asarray(vectors[1:], dtype=np.float32)).save_word2vec_format(path)


def write_char_vectors(path: str | Path, chars: Sequence[str], vectors: np.ndarray) -> None:
    """The characters' vectors in word2vec text format, written atomically. Word-only training writes
    the file with no rows, so that one left by an earlier run with characters never pairs with
    word-only vectors."""
    KeyedVectors(list(chars), np.asarray(vectors, dtype=np.float32)).save_word2vec_format(path)


def composition_for(settings: TrainSettings, vocab: Vocabulary, table_path: Path) -> Composition | None:
    """How words are made of characters under the `chars` setting (None: word vectors only)."""
    compose = COMPOSITIONS[settings.chars]
    if compose is None:
        return None
    full = load_char_table(table_path)
    table = full.at_least(settings.min_char_count)
    if not len(table):
        raise UserError(
            f"no character of {table_path} occurs at least train.min_char_count={settings.min_char_count} times; "
            "lower it, or set train.chars to none"
        )
    unknown = {c for token in vocab.tokens[1:] for c in token} - set(full.chars)
    if unknown:
        raise UserError(f"{table_path} lacks characters of the vocabulary's words (e.g. {sorted(unknown)[:3]}); "
                        "it was written for another vocabulary: rerun `w2v vocab` (rule vocab)")
    return compose(vocab.tokens, table)
