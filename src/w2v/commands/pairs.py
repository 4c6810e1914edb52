"""`w2v pairs`: write the CBOW and skip-gram window-pair Parquet files."""

from __future__ import annotations

import argparse

from w2v.commands._args import non_negative_int, positive_int


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "pairs",
        help="write CBOW and skip-gram window pairs (Parquet)",
        description=(
            "Map TOKENS to vocabulary ids (rare words dropped) and write every (center, context) "
            "relation up to --window within a sentence, with its offset, as two Parquet files."
        ),
    )
    parser.add_argument("tokens", help="clean token file (results/tokens.txt)")
    parser.add_argument("--vocab", required=True, help="vocabulary file (results/vocab.tsv)")
    parser.add_argument("--window", type=positive_int, default=5, help="largest center-context distance (`pairs.window`)")
    parser.add_argument("--seed", type=non_negative_int, default=1, help="seed stored in the metadata (`seed`)")
    parser.add_argument("--cbow", required=True, help="CBOW file to write (results/pairs/cbow.parquet)")
    parser.add_argument("--skipgram", required=True, help="skip-gram file to write (results/pairs/skipgram.parquet)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from w2v.errors import UserError
    from w2v.pairs import write_pairs
    from w2v.vocab import load_vocab

    if args.window > 50:
        raise UserError(f"--window {args.window} is above the limit of 50 (config key `pairs.window`)")
    vocab = load_vocab(args.vocab)
    write_pairs(args.tokens, vocab, args.cbow, args.skipgram, args.window, args.seed)
    return 0
