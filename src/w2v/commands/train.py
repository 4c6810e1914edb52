"""`w2v train`: train CBOW or skip-gram on a pairs file and write word vectors plus a history.

Every train setting has its own flag (`--vector-size`, `--alpha`, ...), built from the config schema;
the workflow passes the whole `train` section as `--settings '{json}'` instead, and flags override it.
"""

from __future__ import annotations

import argparse
import json
import logging

from w2v.config import add_train_flags, model_names, train_defaults
from w2v.errors import UserError

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train CBOW or skip-gram word vectors on jingu",
        description=(
            "Train MODEL on PAIRS (from `w2v pairs`) with the vocabulary VOCAB; write word2vec text "
            "vectors and a JSON history. With --checkpoint, a checkpoint is written after each epoch "
            "and a rerun with the same settings resumes from it. Settings come from the schema's "
            "defaults, then --settings, then the flags below."
        ),
    )
    parser.add_argument("--model", required=True, choices=model_names(), help="which model to train")
    parser.add_argument(
        "--pairs", required=True, nargs="+",
        help="pairs part files, or a folder of them (results/pairs/{model}/part-*.parquet)",
    )
    parser.add_argument("--vocab", required=True, help="vocabulary file (results/vocab.tsv)")
    parser.add_argument(
        "--char-table", default=None,
        help="character table (results/chars.tsv), read when --chars is not none; default: chars.tsv "
             "beside the vocabulary",
    )
    parser.add_argument(
        "--settings",
        default="{}",
        help="JSON object of train settings (the `train` config keys plus seed), as the workflow passes "
             "them; missing keys take the defaults, and the flags below override it",
    )
    parser.add_argument("--checkpoint", default=None, help="checkpoint file to write each epoch and resume from")
    parser.add_argument("--out-vec", required=True, help="vectors to write (results/{model}.vec)")
    parser.add_argument("--out-history", required=True, help="history to write (results/{model}.history.json)")
    add_train_flags(parser)
    parser.set_defaults(func=run)


def settings_from_args(args: argparse.Namespace) -> dict:
    """--settings JSON, overridden by every train flag given on the command line."""
    try:
        settings = json.loads(args.settings)
    except json.JSONDecodeError as exc:
        raise UserError(f"--settings is not valid JSON ({exc}); pass an object such as '{{\"epochs\": 5}}'") from None
    if not isinstance(settings, dict):
        raise UserError("--settings must be a JSON object of train settings, such as '{\"epochs\": 5}'")
    flags = {key: getattr(args, key) for key in train_defaults(placement=True) if hasattr(args, key)}
    return {**settings, **flags}


def run(args: argparse.Namespace) -> int:
    from w2v.training.settings import TrainSettings  # noqa: PLC0415  (keeps `w2v --help` quick)
    from w2v.training.train import TrainFiles, train  # noqa: PLC0415

    settings = TrainSettings.from_mapping(settings_from_args(args))  # bad values stop here, before any input is read
    files = TrainFiles(pairs=args.pairs, vocab=args.vocab, vec=args.out_vec, history=args.out_history,
                       checkpoint=args.checkpoint, chars=args.char_table)
    history = train(args.model, files, settings)
    log.info(
        "%s: %d epochs in %.1f s (%.0f words/s), final loss %.4f -> %s",
        args.model, len(history["epochs"]), history["train_seconds"], history["words_per_sec"] or 0,
        history["final_loss"], args.out_vec,
    )
    return 0
