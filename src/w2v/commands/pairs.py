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
            "relation up to --window within a sentence, with its offset, as Parquet files for CBOW "
            "and/or skip-gram."
        ),
    )
    parser.add_argument("tokens", help="clean token file (results/tokens.txt)")
    parser.add_argument("--vocab", required=True, help="vocabulary file (results/vocab.tsv)")
    parser.add_argument("--window", type=positive_int, default=5, help="largest center-context distance (`pairs.window`)")
    parser.add_argument("--seed", type=non_negative_int, default=1, help="seed stored in the metadata (`seed`)")
    parser.add_argument("--cbow", default=None, help="CBOW file to write (results/pairs/cbow/part-N.parquet)")
    parser.add_argument("--skipgram", default=None, help="skip-gram file to write (results/pairs/skipgram/part-N.parquet)")
    parser.add_argument(
        "--stats", default=None,
        help="corpus statistics from `w2v vocab --stats` (results/corpus.json); with --part, TOKENS is that "
        "shard of the corpus and the files become part of a dataset",
    )
    parser.add_argument("--part", type=non_negative_int, default=None, help="which shard TOKENS is (needs --stats)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from w2v.data.counts import CorpusStats
    from w2v.errors import UserError
    from w2v.data.pairs import Part, write_pairs
    from w2v.data.vocab import load_vocab

    if args.window > 50:
        raise UserError(f"--window {args.window} is above the limit of 50 (config key `pairs.window`)")
    if args.cbow is None and args.skipgram is None:
        raise UserError("w2v pairs: give --cbow, --skipgram or both (the files to write)")
    vocab = load_vocab(args.vocab)
    part = Part()
    if (args.stats is None) != (args.part is None):
        raise UserError("w2v pairs: --stats and --part go together")
    if args.stats is not None:
        stats = CorpusStats.read(args.stats)
        if stats.vocab_sha256 != vocab.sha256:
            raise UserError(f"{args.stats} was written with another vocabulary than {args.vocab}; rerun `w2v vocab` (rule vocab)")
        if args.part >= len(stats.shards):
            raise UserError(f"--part {args.part} is out of range: {args.stats} describes {len(stats.shards)} shards")
        shard = stats.shards[args.part]
        part = Part(args.part, len(stats.shards), shard["first_position"], shard["vocab_tokens"])
    write_pairs(args.tokens, vocab, args.cbow, args.skipgram, args.window, args.seed, part=part)
    return 0
