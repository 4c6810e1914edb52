"""`w2v vocab`: count the clean tokens and write the vocabulary TSV."""

from __future__ import annotations

import argparse

from w2v.commands._args import optional_positive_int, positive_int


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "vocab",
        help="merge token counts into the vocabulary (id, token, count)",
        description=(
            "Merge the counts of INPUTS (counts files from `w2v clean --counts`, or clean token files, in corpus "
            "order) and write OUTPUT: header id/token/count, row 0 <pad>, then words seen at least "
            "--min-count times by count descending, then token. With --stats, also write the corpus "
            "statistics the pairs stage needs (per shard: tokens in the vocabulary, first position)."
        ),
    )
    parser.add_argument("inputs", nargs="+", help="counts files (.parquet) or clean token files, in corpus order")
    parser.add_argument(
        "--merged", nargs="+", default=None, metavar="PARTITION",
        help="every partition file from `w2v count-merge` (any order): the words are taken from these, and "
        "INPUTS (counts files) are read one at a time only for --stats, so memory follows the kept words",
    )
    parser.add_argument("--min-count", type=positive_int, default=1, help="drop rarer words (`vocab.min_count`)")
    parser.add_argument(
        "--max-vocab-size", type=optional_positive_int, default=None,
        help="keep at most this many words; none for no cap (`vocab.max_vocab_size`)",
    )
    parser.add_argument("-o", "--output", required=True, help="vocabulary file to write (results/vocab.tsv)")
    parser.add_argument("--stats", default=None, help="corpus statistics to write (results/corpus.json)")
    parser.add_argument(
        "--chars", default=None,
        help="character table to write: the kept words' characters with counts (results/chars.tsv)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from w2v.data.vocab import make_vocab

    if args.merged:
        from w2v.data.count_merge import vocab_from_partitions  # noqa: PLC0415

        vocab = vocab_from_partitions(
            args.merged, args.inputs, args.output, args.min_count, args.max_vocab_size, args.stats,
        )
    else:
        vocab = make_vocab(args.inputs, args.output, args.min_count, args.max_vocab_size, args.stats)
    if args.chars is not None:
        from w2v.data.chars import char_table, write_char_table  # noqa: PLC0415  (keeps `w2v --help` quick)

        write_char_table(char_table(vocab), args.chars)
    return 0
