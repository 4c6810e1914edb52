"""The similarity report: `build_report` scores the models and writes Markdown plus figures.

Outputs (docs/contracts.md): the report file; in `figures_dir` ``loss.svg`` and ``aliases_pca.svg``
(a note when no alias groups are given), each with a PNG fallback beside it, and ``metrics.json``
(every number of the report, for scripts and benchmarks); optionally the explorer page
(`w2v.report.explorer`). Everything is computed before anything is written, and each file is
written atomically.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from w2v.evaluation import alias_metrics, analogy_scores, load_alias_groups, load_analogies
from w2v.io import atomic_open
from w2v.report.explorer import explorer_data, write_explorer
from w2v.report.figures import find_cjk_font, plot_alias_pca, plot_loss
from w2v.report.inputs import TokenStats, load_history
from w2v.report.markdown import ModelResult, ReportData, render
from w2v.testsets import TestSets
from w2v.vectors import KeyedVectors

logger = logging.getLogger(__name__)

LOSS_SVG = "loss.svg"
PCA_SVG = "aliases_pca.svg"
METRICS_JSON = "metrics.json"


def build_report(
    vectors: list[str | os.PathLike],
    histories: list[str | os.PathLike],
    stats: TokenStats,
    vocab: str | os.PathLike,
    output: str | os.PathLike,
    figures_dir: str | os.PathLike,
    queries: list[str],
    topn: int = 10,
    aliases: str = "",
    analogies: str = "",
    analogy_sets: list[str] = (),
    word_pairs: list[str] = (),
    restrict_vocab: int = 300_000,
    font: str = "",
    corpus: str = "",
    min_count: int | None = None,
    explorer: str | os.PathLike = "",
    explorer_words: int = 20_000,
    map_words: int = 1_000,
) -> ReportData:
    """Score every model and write the report, its figures, metrics.json and (given a path) the explorer.

    `stats`: the corpus's counts (`w2v.report.inputs.corpus_stats` or `count_tokens`); `corpus`: the
    name the report shows for it. `analogy_sets` and `word_pairs` are the public test sets
    (`w2v.testsets`), scored per model.
    """
    from w2v.data.vocab import load_vocab

    if len(vectors) != len(histories):
        raise ValueError(f"need one history per vector file: {len(vectors)} vectors, {len(histories)} histories")
    if not vectors:
        raise ValueError("need at least one vector file")
    groups = load_alias_groups(aliases) if aliases else []
    font_props = find_cjk_font(font) if groups else None  # a bad eval.font fails before any output
    questions = load_analogies(analogies) if analogies else []
    test_sets = TestSets(analogy_sets, word_pairs)
    vocabulary = load_vocab(vocab)
    models = []
    for vec_path, hist_path in zip(vectors, histories):
        history = load_history(hist_path)
        kv = KeyedVectors.load_word2vec_format(vec_path)
        if len(kv) != len(vocabulary) - 1:
            logger.warning("%s holds %d words but %s holds %d: were they built from the same run?",
                           vec_path, len(kv), vocab, len(vocabulary) - 1)
        result = ModelResult(history["model"], kv, history)
        if groups:
            result.aliases = alias_metrics(kv, groups, topn=topn)
        if questions:
            result.analogies = analogy_scores(kv, questions, restrict_vocab=restrict_vocab)
        if test_sets:
            result.test_sets = test_sets.scores(kv, restrict_vocab=restrict_vocab)
        logger.info("scored %s (%d words)", result.name, len(kv))
        models.append(result)

    output = Path(output)
    figures_dir = Path(figures_dir)
    link = Path(os.path.relpath(figures_dir, output.parent)).as_posix()
    data = ReportData(
        corpus=corpus,
        tokens=stats,
        vocab_words=len(vocabulary) - 1,
        vocab_tokens=int(vocabulary.counts.sum()),
        min_count=min_count if min_count is not None else _min_count(models),
        models=models,
        queries=list(queries),
        topn=topn,
        aliases_path=str(aliases),
        groups=groups,
        analogies_path=str(analogies),
        restrict_vocab=restrict_vocab,
        loss_figure=f"{link}/{LOSS_SVG}",
    )
    page = None
    if explorer:
        counts = dict(zip(vocabulary.tokens, vocabulary.counts.tolist()))
        page = explorer_data([(m.name, m.kv) for m in models], counts, groups, data.corpus, topn=topn,
                             max_words=explorer_words, map_words=map_words)
        data.explorer = Path(os.path.relpath(explorer, output.parent)).as_posix()
    plot_loss([m.history for m in models], figures_dir / LOSS_SVG)
    # Always drawn (the workflow expects the file); without groups it says so.
    plot_alias_pca([(m.name, m.kv) for m in models], groups, figures_dir / PCA_SVG, font_props)
    if groups:
        data.pca_figure = f"{link}/{PCA_SVG}"
    if page is not None:
        write_explorer(explorer, page)
    with atomic_open(figures_dir / METRICS_JSON) as out:
        json.dump(metrics(data), out, ensure_ascii=False, indent=1)
        out.write("\n")
    with atomic_open(output) as out:
        out.write(render(data))
    logger.info("wrote %s and figures in %s", output, figures_dir)
    return data


def _min_count(models: list[ModelResult]) -> int | None:
    values = {m.history["config"].get("min_count") for m in models} - {None}
    return values.pop() if len(values) == 1 else None


def metrics(data: ReportData) -> dict:
    """The report's numbers as plain JSON (per model: training summary, alias, analogy and test-set scores)."""
    out = {"corpus": data.corpus, "sentences": data.tokens.sentences, "tokens": data.tokens.tokens,
           "vocab_words": data.vocab_words, "vocab_tokens": data.vocab_tokens, "models": {}}
    for m in data.models:
        h = m.history
        entry = {key: h[key] for key in ("device", "train_seconds", "words_per_sec", "final_loss")}
        entry["epochs"] = len(h["epochs"])
        entry["character_vectors"] = len(m.kv.chars) if m.kv.chars is not None else 0
        if m.aliases is not None:
            entry["aliases"] = {k: v for k, v in m.aliases.items() if k != "per_group"}
            entry["aliases"]["per_group"] = [
                {k: v for k, v in g.items() if k != "ranks"} for g in m.aliases["per_group"]
            ]
        if m.analogies is not None:
            entry["analogies"] = {k: v for k, v in m.analogies.items() if k != "details"}
        if m.test_sets is not None:
            entry["test_sets"] = m.test_sets
        out["models"][m.name] = entry
    return out
