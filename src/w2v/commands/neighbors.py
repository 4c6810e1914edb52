"""`w2v neighbors`: print the nearest neighbours of words, from arguments or typed interactively."""

from __future__ import annotations

import argparse
import sys
from typing import IO, Iterable


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "neighbors",
        help="print the nearest neighbours of words",
        description=(
            "Print the words most similar (cosine) to each WORD. Without words, read queries from "
            "standard input, one or more a line (a prompt is shown when it is a terminal). A query "
            "'a b - c' asks for the words nearest to a + b - c. A word outside the vocabulary gets a vector "
            "composed from its characters when the model has character vectors (VECTORS with its suffix "
            "made .chars.vec), and is marked so; other unknown words are reported with the closest known "
            "spellings."
        ),
    )
    parser.add_argument("vectors", help="word2vec file (results/cbow.vec)")
    parser.add_argument("words", nargs="*", help="query words; none for interactive queries")
    parser.add_argument("--topn", type=int, default=10, help="neighbours per word (default 10)")
    parser.add_argument("--binary", action="store_true",
                        help="read the vector file as binary word2vec (detected from its first row without it)")
    parser.add_argument("--chars", default="auto", metavar="FILE",
                        help="character vectors for words outside the vocabulary (default: the .chars.vec file "
                             "beside VECTORS when there is one; 'none' for no composition)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from w2v.errors import UserError
    from w2v.vectors import KeyedVectors

    if args.topn < 1:
        raise UserError(f"--topn must be at least 1, got {args.topn}")
    chars = None if args.chars == "none" else args.chars
    kv = KeyedVectors.load_word2vec_format(args.vectors, binary=True if args.binary else None, chars=chars)
    if args.words:
        found = [answer(kv, [w], args.topn, sys.stdout) for w in args.words]
        return 0 if all(found) else 1
    interactive = sys.stdin.isatty()
    if interactive:
        print(f"{len(kv):,} words loaded. Type a word (or 'a b - c'), an empty line or Ctrl-D to quit.")
    for query in _queries(sys.stdin, interactive):
        answer(kv, query, args.topn, sys.stdout)
    return 0


def _queries(stream: IO[str], interactive: bool) -> Iterable[list[str]]:
    while True:
        if interactive:
            try:
                line = input("word> ")
            except EOFError:
                print()
                return
            if not line.strip():
                return
        else:
            line = stream.readline()
            if not line:
                return
        if line.strip():
            yield line.split()


def answer(kv, query: list[str], topn: int, out: IO[str]) -> bool:
    """Print the neighbours of one query ('w', several words summed, or 'a b - c'); False if unknown."""
    positive, negative, target = [], [], None
    for word in query:
        if word == "-":
            target = negative
        else:
            (target if target is not None else positive).append(word)
    title = " + ".join(positive) + "".join(f" - {w}" for w in negative)
    missing = [w for w in positive + negative if not kv.has_vector(w)]
    if missing:
        for word in missing:
            hints = kv.closest_keys(word, 5)
            hint = f"; did you mean: {' '.join(hints)}" if hints else ""
            print(f"{word}: not in the vocabulary{hint}", file=out)
        return False
    if not positive and not negative:
        return False
    for word in dict.fromkeys(w for w in positive + negative if kv.is_composed(w)):
        print(f"{word}: not in the vocabulary; vector composed from its characters", file=out)
    found = kv.most_similar(positive, negative, topn=topn)
    print(f"{title}:", file=out)
    width = max((_width(w) for w, _ in found), default=0)
    for rank, (word, score) in enumerate(found, start=1):
        print(f"{rank:>4}  {word}{' ' * (width - _width(word))}  {score:.3f}", file=out)
    return True


def _width(text: str) -> int:
    """Terminal columns of `text` (CJK characters take two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
