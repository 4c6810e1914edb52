"""`w2v evaluate`: score trained vectors and write the similarity report, its figures and the explorer page."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from w2v.commands._args import positive_int

if TYPE_CHECKING:
    from w2v.report.inputs import TokenStats


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="write the similarity report (neighbours, alias retrieval, analogies, test sets, figures)",
        description=(
            "Score each model's vectors (nearest neighbours of the query words, alias retrieval, "
            "analogies, public analogy and word-similarity test sets) and write a Markdown report with figures linked relatively; with --explorer, also "
            "a self-contained HTML page to browse the models (search, neighbours, map, analogies)."
        ),
    )
    parser.add_argument("--vectors", nargs="+", required=True, metavar="VEC",
                        help="word2vec text files, one per model (results/cbow.vec results/skipgram.vec)")
    parser.add_argument("--histories", nargs="+", required=True, metavar="JSON",
                        help="training histories in the same order (results/cbow.history.json ...)")
    counts = parser.add_mutually_exclusive_group(required=True)  # the report's corpus counts, from one of:
    counts.add_argument("--corpus-stats", metavar="JSON",
                        help="corpus statistics written by `w2v vocab` (results/corpus.json)")
    counts.add_argument("--tokens", metavar="FILE", help="a clean token file, counted as it is read (results/tokens.txt)")
    parser.add_argument("--vocab", required=True, help="vocabulary TSV (results/vocab.tsv)")
    parser.add_argument("--queries", nargs="*", default=[], metavar="WORD",
                        help="words whose neighbours to list (`eval.queries`)")
    parser.add_argument("--topn", type=positive_int, default=10, help="neighbours per query and k of hit@k (`eval.topn`)")
    parser.add_argument("--aliases", default="", help="alias groups file; empty for none (`eval.aliases`)")
    parser.add_argument("--analogies", default="", help="analogy file (gensim/CA8 format); empty for none (`eval.analogies`)")
    parser.add_argument("--analogy-sets", nargs="*", default=[], metavar="FILE",
                        help="public analogy test sets (CA8 files), summarised by accuracy and coverage (`eval.analogy_sets`)")
    parser.add_argument("--word-pairs", nargs="*", default=[], metavar="FILE",
                        help="word-similarity test sets (COS960), scored by Spearman's rho (`eval.word_pairs`)")
    parser.add_argument("--restrict-vocab", type=positive_int, default=300_000,
                        help="analogy answers among the N most frequent words (`eval.restrict_vocab`)")
    parser.add_argument("--font", default="", help="CJK font file for figure labels (`eval.font`)")
    parser.add_argument("--corpus", default="",
                        help="corpus name shown in the report (`corpus`); default: the --corpus-stats or --tokens path")
    parser.add_argument("--min-count", type=positive_int, default=None, help="vocabulary min_count shown in the report")
    parser.add_argument("-o", "--output", required=True, help="report to write (results/similarity_report.md)")
    parser.add_argument("--figures", required=True, help="folder for figures and metrics.json (results/report)")
    parser.add_argument("--explorer", default="", help="explorer page to write (results/explorer.html); empty for none")
    parser.add_argument("--explorer-words", type=positive_int, default=20_000,
                        help="words per model in the explorer, most frequent first (`eval.explorer_words`)")
    parser.add_argument("--map-words", type=positive_int, default=1_000,
                        help="most frequent words on the explorer's map, besides the alias groups (`eval.map_words`)")
    parser.add_argument(
        "--settings", default="", metavar="JSON",
        help=("the values above as one JSON object keyed by their long names with underscores "
              "(how the workflow passes config `eval`); a flag given with a non-default value wins"),
    )
    parser.set_defaults(func=run, defaults={a.dest: a.default for a in parser._actions})


def run(args: argparse.Namespace) -> int:
    from w2v.errors import UserError
    from w2v.report import build_report

    apply_settings(args)
    if len(args.vectors) != len(args.histories):
        raise UserError(f"--vectors names {len(args.vectors)} files but --histories {len(args.histories)}; give one history per model")
    build_report(
        args.vectors, args.histories, corpus_counts(args), args.vocab, args.output, args.figures,
        queries=args.queries, topn=args.topn, aliases=args.aliases, analogies=args.analogies,
        analogy_sets=args.analogy_sets, word_pairs=args.word_pairs, restrict_vocab=args.restrict_vocab,
        font=args.font, corpus=args.corpus or args.corpus_stats or args.tokens, min_count=args.min_count,
        explorer=args.explorer, explorer_words=args.explorer_words, map_words=args.map_words,
    )
    return 0


def corpus_counts(args: argparse.Namespace) -> TokenStats:
    """The corpus's counts from --corpus-stats or --tokens; a file given to the wrong one is a clear error."""
    from w2v.errors import UserError
    from w2v.report.inputs import corpus_stats, count_tokens

    if args.tokens is not None:
        if args.tokens.endswith(".json"):
            raise UserError(f"--tokens {args.tokens}: a JSON file; give corpus statistics with --corpus-stats, "
                            "--tokens takes a clean token file")
        return count_tokens(args.tokens)
    try:
        return corpus_stats(args.corpus_stats)
    except UserError as exc:
        raise UserError(f"--corpus-stats {exc} (a clean token file goes to --tokens)") from None


def apply_settings(args: argparse.Namespace) -> None:
    """Fill the options still at their defaults from `--settings` (JSON); unknown keys are an error."""
    import json

    from w2v.errors import UserError

    if not args.settings:
        return
    try:
        values = json.loads(args.settings)
    except json.JSONDecodeError as exc:
        raise UserError(f"--settings: not valid JSON ({exc})") from None
    settable = set(args.defaults) - {"settings", "help", "func", "defaults"}
    unknown = sorted(set(values) - settable) if isinstance(values, dict) else ["(not an object)"]
    if unknown:
        raise UserError(f"--settings: unknown keys {', '.join(unknown)}; known: {', '.join(sorted(settable))}")
    for key, value in values.items():
        if getattr(args, key) == args.defaults[key]:
            setattr(args, key, value)
