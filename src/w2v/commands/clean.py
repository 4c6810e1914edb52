"""`w2v clean`: drop punctuation and symbols from segmented shards; one sentence a line."""

from __future__ import annotations

import argparse

from w2v.commands._args import boolean


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "clean",
        help="remove punctuation/symbols, split sentences",
        description=(
            "Concatenate segmented shards in the given order, drop punctuation, symbol and "
            "whitespace tokens, and write one sentence per line to OUTPUT."
        ),
    )
    parser.add_argument("shards", nargs="+", help="segmented shard files, in corpus order")
    parser.add_argument("--digits", type=boolean, default=False, help="true/false: keep number tokens (`clean.digits`)")
    parser.add_argument("--latin", type=boolean, default=True, help="true/false: keep Latin-letter tokens (`clean.latin`)")
    parser.add_argument("-o", "--output", required=True, help="token file to write (results/tokens/shard-N.txt)")
    parser.add_argument(
        "--counts", default=None,
        help="also write the tokens' counts here (Parquet, results/counts/shard-N.parquet), for `w2v vocab`",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from collections import Counter

    from w2v.text.clean import CleanOptions, clean_files

    counts = Counter() if args.counts else None
    stats = clean_files(args.shards, args.output, CleanOptions(digits=args.digits, latin=args.latin), counts)
    if args.counts:
        from w2v.data.counts import shard_counts, write_counts

        write_counts(shard_counts(counts, stats.sentences), args.counts)
    return 0
