"""`w2v train`: train CBOW or skip-gram on a pairs file and write word vectors plus a history."""

from __future__ import annotations

import argparse
import json
import logging

from w2v.errors import UserError

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train CBOW or skip-gram word vectors on jingu",
        description=(
            "Train MODEL on PAIRS (from `w2v pairs`) with the vocabulary VOCAB; write word2vec text "
            "vectors and a JSON history. With --checkpoint, a checkpoint is written after each epoch "
            "and a rerun with the same settings resumes from it."
        ),
    )
    parser.add_argument("--model", required=True, choices=["cbow", "skipgram"], help="which model to train")
    parser.add_argument(
        "--pairs", required=True, nargs="+",
        help="pairs part files, or a folder of them (results/pairs/{model}/part-*.parquet)",
    )
    parser.add_argument("--vocab", required=True, help="vocabulary file (results/vocab.tsv)")
    parser.add_argument(
        "--settings",
        default="{}",
        help="JSON object of `train` config keys (vector_size, epochs, alpha, ...) plus seed; missing keys take defaults",
    )
    parser.add_argument("--device", default=None, choices=["auto", "cpu", "cuda"], help="overrides train.device")
    parser.add_argument("--checkpoint", default=None, help="checkpoint file to write each epoch and resume from")
    parser.add_argument("--out-vec", required=True, help="vectors to write (results/{model}.vec)")
    parser.add_argument("--out-history", required=True, help="history to write (results/{model}.history.json)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        settings = json.loads(args.settings)
    except json.JSONDecodeError as exc:
        raise UserError(f"--settings is not valid JSON ({exc}); pass an object such as '{{\"epochs\": 5}}'") from None
    if not isinstance(settings, dict):
        raise UserError("--settings must be a JSON object of train settings")
    from w2v.train import train  # noqa: PLC0415  (keeps `w2v --help` quick)

    device = args.device or settings.get("device", "auto")
    history = train(
        args.model, args.pairs, args.vocab, settings, args.out_vec, args.out_history,
        checkpoint_path=args.checkpoint, device=device,
    )
    log.info(
        "%s: %d epochs in %.1f s (%.0f words/s), final loss %.4f -> %s",
        args.model, len(history["epochs"]), history["train_seconds"], history["words_per_sec"] or 0,
        history["final_loss"], args.out_vec,
    )
    return 0
