"""`w2v convert`: rewrite a word2vec file as text or binary (the C tool's and gensim's formats)."""

from __future__ import annotations

import argparse
import logging

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="convert word2vec vectors between text and binary",
        description=(
            "Read a word2vec file (text or binary, detected from its first row unless --from says) and "
            "write it in the other format, or in the one --to names. Both formats load in gensim "
            "(KeyedVectors.load_word2vec_format(path, binary=...)) and the original C tools."
        ),
    )
    parser.add_argument("input", help="word2vec file to read (results/cbow.vec)")
    parser.add_argument("output", help="file to write (results/cbow.bin)")
    parser.add_argument("--from", dest="source", choices=["auto", "text", "binary"], default="auto",
                        help="format of INPUT (default: auto, detected)")
    parser.add_argument("--to", choices=["text", "binary"], default=None,
                        help="format of OUTPUT (default: binary when OUTPUT ends in .bin, else text)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from w2v.vectors import KeyedVectors, is_binary_word2vec

    binary_in = is_binary_word2vec(args.input) if args.source == "auto" else args.source == "binary"
    binary_out = args.output.endswith(".bin") if args.to is None else args.to == "binary"
    kv = KeyedVectors.load_word2vec_format(args.input, binary=binary_in)
    kv.save_word2vec_format(args.output, binary=binary_out)
    logger.info("wrote %s: %d vectors of dimension %d, %s (read as %s)", args.output, len(kv), kv.vector_size,
                "binary" if binary_out else "text", "binary" if binary_in else "text")
    return 0
