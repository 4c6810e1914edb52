"""`w2v count`: count the tokens of one clean token shard."""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "count",
        help="count the tokens of one clean shard (Parquet)",
        description=(
            "Count every token of TOKENS (one sentence a line) and write OUTPUT, a Parquet file of "
            "(token, count) with the shard's sentence and token totals; `w2v vocab` merges them."
        ),
    )
    parser.add_argument("tokens", help="clean token file (results/tokens/shard-N.txt)")
    parser.add_argument("-o", "--output", required=True, help="counts file to write (results/counts/shard-N.parquet)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from w2v.counts import count_tokens_file, write_counts

    counts = count_tokens_file(args.tokens)
    write_counts(counts, args.output)
    log.info(
        "%s: %d sentences, %d tokens, %d distinct -> %s",
        args.tokens, counts.sentences, counts.tokens, counts.table.num_rows, args.output,
    )
    return 0
