"""The `w2v` command: one subcommand per pipeline stage, each usable without Snakemake."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from w2v import __version__
from w2v.errors import UserError

# Subcommand name -> module under w2v.commands exposing `register(subparsers)`.
# Modules are imported only when the parser is built, so `w2v --help` stays quick.
COMMANDS = ["segment", "clean", "count-merge", "vocab", "pairs", "train", "evaluate", "neighbors", "export", "convert"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="w2v",
        description=(
            "Chinese word2vec pipeline stages (segment, clean, vocab, pairs, train, evaluate) and "
            "tools for the vectors (neighbors, export, convert)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"w2v {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"w2v.commands.{name.replace('-', '_')}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
