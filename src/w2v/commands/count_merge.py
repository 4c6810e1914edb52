"""`w2v count-merge`: merge one hash partition of the shards' token counts (a job per partition)."""

from __future__ import annotations

import argparse

from w2v.commands._args import non_negative_int, optional_positive_int, positive_int


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "count-merge",
        help="merge one hash partition of the shards' counts into vocabulary candidates",
        description=(
            "Sum the counts of the tokens of partition --partition of --partitions (by CRC-32 of the "
            "token) over the shards' counts files INPUTS, reading only that partition's row groups, and "
            "write the words seen at least --min-count times (with --max-vocab-size, only the partition's "
            "most frequent that many) to OUTPUT, for `w2v vocab --merged`."
        ),
    )
    parser.add_argument("inputs", nargs="+", help="counts files from `w2v clean --counts` (.parquet)")
    parser.add_argument("--partition", type=non_negative_int, required=True, help="this job's partition, from 0")
    parser.add_argument("--partitions", type=positive_int, required=True, help="how many (`vocab.count_partitions`)")
    parser.add_argument("--min-count", type=positive_int, default=1, help="drop rarer words (`vocab.min_count`)")
    parser.add_argument(
        "--max-vocab-size", type=optional_positive_int, default=None,
        help="keep at most this many words; none for no cap (`vocab.max_vocab_size`)",
    )
    parser.add_argument(
        "-o", "--output", required=True, help="partition file to write (results/counts/merged/part-P.parquet)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from w2v.data.count_merge import merge_partition, write_partition

    partition = merge_partition(args.inputs, args.partition, args.partitions, args.min_count, args.max_vocab_size)
    write_partition(partition, args.output)
    return 0
