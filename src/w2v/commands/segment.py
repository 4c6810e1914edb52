"""`w2v segment`: cut one shard of the raw corpus into jieba tokens."""

from __future__ import annotations

import argparse
import logging

from w2v.commands._args import boolean, non_negative_int, positive_int
from w2v.errors import UserError

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "segment",
        help="segment one shard of the corpus with jieba",
        description=(
            "Segment one shard of the corpus into OUTPUT: one line per input line, tokens separated by "
            "a space. The shard is either --ranges (the workflow's shards, which belong to files) or "
            "shard SHARD of SHARDS when the corpus files' text is laid end to end and cut into SHARDS "
            "equal ranges; ranges are cut at line starts and a job reads only its own. With "
            "--build-cache, only build jieba's prefix-dictionary cache at --jieba-cache."
        ),
    )
    parser.add_argument(
        "--corpus", nargs="+",
        help="raw text files or folders, in corpus order; .gz/.bz2/.xz read as streams (config key `corpus`)",
    )
    parser.add_argument("--encoding", default="utf-8", help="its encoding (config key `encoding`; default utf-8)")
    parser.add_argument("--user-dict", default="", help="jieba user dictionary; empty for none (`segment.user_dict`)")
    parser.add_argument("--hmm", type=boolean, default=True, help="true/false: jieba's HMM for unknown words (`segment.hmm`)")
    parser.add_argument(
        "--ranges", help='the shard as JSON [[file, start, stop], ...], text byte ranges (as the workflow plans them)',
    )
    parser.add_argument("--shards", type=positive_int, default=1, help="number of equal shards of --corpus")
    parser.add_argument("--shard", type=non_negative_int, default=0, help="which shard to write, 0-based")
    parser.add_argument("--jieba-cache", required=True, help="jieba cache file (built when missing)")
    parser.add_argument("--build-cache", action="store_true", help="only (re)build the jieba cache, then exit")
    parser.add_argument("-o", "--output", help="segmented shard file to write")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from w2v.text.corpus import ShardReader, corpus_files, even_ranges, ranges_from_spec
    from w2v.text.segment import build_cache, make_tokenizer, write_segmented
    from w2v.text.userdict import read_user_dict

    if args.build_cache:
        path = build_cache(args.jieba_cache)
        log.info("jieba cache written to %s", path)
        return 0
    if not (args.corpus or args.ranges) or not args.output:
        raise UserError("w2v segment needs --corpus or --ranges, and --output (or --build-cache)")
    if args.shard >= args.shards:
        raise UserError(f"--shard {args.shard} is out of range for --shards {args.shards} (0..{args.shards - 1})")
    entries = read_user_dict(args.user_dict) if args.user_dict else []
    if args.ranges:
        ranges, what = ranges_from_spec(args.ranges), "shard"
    else:
        ranges, what = even_ranges(corpus_files(args.corpus), args.shards, args.shard), f"shard {args.shard}/{args.shards}"
    reader = ShardReader(ranges, args.encoding)
    tokenizer = make_tokenizer(args.jieba_cache, entries)
    n_tokens = write_segmented(tokenizer, reader, args.output, hmm=args.hmm)
    log.info(
        "%s: %.1f MB of text, %d tokens -> %s", what, reader.bytes_read / 1e6, n_tokens, args.output,
    )
    return 0
