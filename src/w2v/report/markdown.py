"""The similarity report as Markdown: plain tables and short prose, figures linked relatively."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from w2v.report.figures import display_name
from w2v.report.inputs import TokenStats, loss_trend
from w2v.vectors import KeyedVectors


@dataclass
class ModelResult:
    """One trained model and its scores."""

    name: str
    kv: KeyedVectors
    history: dict
    aliases: dict | None = None
    analogies: dict | None = None
    test_sets: list[dict] | None = None  # w2v.testsets.TestSets.scores


@dataclass
class ReportData:
    """Everything the report shows (figure paths are relative to the report file)."""

    corpus: str
    tokens: TokenStats
    vocab_words: int
    vocab_tokens: int
    min_count: int | None
    models: list[ModelResult]
    queries: list[str]
    topn: int
    aliases_path: str = ""
    groups: list[list[str]] = field(default_factory=list)
    analogies_path: str = ""
    restrict_vocab: int = 300_000
    loss_figure: str = ""
    pca_figure: str = ""
    explorer: str = ""


def fmt(value, digits: int = 3) -> str:
    """A number for a table cell; an en dash for None."""
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    """A Markdown table; `align` holds one l/r per column (default: first left, others right)."""
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else ":---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines + [""]


def code(text: str) -> str:
    """`text` from a user's file as a Markdown code span, fenced by more backticks than it holds."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render(data: ReportData) -> str:
    """The whole report. Every word, name and path from a user's files is escaped (`_md`, `code`),
    so markup in them shows as text."""
    lines = [f"# Word vectors of {code(data.corpus)}: similarity report", ""]
    lines += _glance(data)
    lines += _summary(data)
    lines += _neighbours(data)
    if data.groups:
        lines += _aliases(data)
    if data.analogies_path:
        lines += _analogies(data)
    if data.models[0].test_sets:
        lines += _test_sets(data)
    lines += _reading_notes(data)
    return "\n".join(lines).rstrip() + "\n"


def _hit_key(data: ReportData) -> str:
    return f"hit_at_{data.topn}"


def _glance(data: ReportData) -> list[str]:
    lines = ["## At a glance", ""]
    header = ["model", "final loss", "training time", "words/s"]
    if data.groups:
        header += [f"alias hit@{data.topn}", "alias MRR"]
    if data.analogies_path:
        header += ["analogies 3CosAdd", "analogies 3CosMul"]
    rows = []
    for m in data.models:
        row = [display_name(m.name), fmt(m.history["final_loss"], 4),
               f"{m.history['train_seconds']:.1f} s", f"{m.history['words_per_sec']:,.0f}"]
        if data.groups:
            row += [fmt(m.aliases[_hit_key(data)]), fmt(m.aliases["mrr"])]
        if data.analogies_path:
            row += [fmt(m.analogies["accuracy_add"]), fmt(m.analogies["accuracy_mul"])]
        rows.append(row)
    lines += table(header, rows)
    for m in data.models:
        first, last = loss_trend(m.history)
        n = len(m.history["epochs"])
        who = f"**{display_name(m.name)}**"
        if first is None or last is None:
            lines.append(f"- {who}: the loss is missing or not finite: training diverged; lower `train.alpha`.")
        elif n > 1 and last < first:
            lines.append(f"- {who}: loss fell from {first:.4f} to {last:.4f} ({100 * (first - last) / first:.0f} % lower) over {n} epochs.")
        elif n > 1:
            lines.append(f"- {who}: **loss did not fall** ({first:.4f} at epoch 1, {last:.4f} at epoch {n}): check the learning rate.")
        else:
            lines.append(f"- {who}: one epoch, loss {last:.4f}.")
    if data.groups and len(data.models) > 1:
        scored = [m for m in data.models if m.aliases["mrr"] is not None]
        if scored:
            best = max(scored, key=lambda m: m.aliases["mrr"])
            lines.append(f"- Alias retrieval is best with **{display_name(best.name)}** (MRR {best.aliases['mrr']:.3f}).")
    return lines + [""]


def _summary(data: ReportData) -> list[str]:
    t = data.tokens
    lines = ["## Run summary", ""]
    lines.append(
        f"Corpus {code(data.corpus)}: {t.sentences:,} sentences, {t.tokens:,} tokens, {t.distinct:,} distinct words. "
        f"Vocabulary: {data.vocab_words:,} words"
        + (f" (seen at least {data.min_count} times)" if data.min_count else "")
        + f", covering {data.vocab_tokens:,} tokens ({100 * data.vocab_tokens / max(t.tokens, 1):.1f} %)."
    )
    lines.append("")
    names = [display_name(m.name) for m in data.models]
    rows = [
        ["device", *(m.history["device"] for m in data.models)],
        ["vectors", *(f"{len(m.kv):,} × {m.kv.vector_size}" for m in data.models)],
        ["training time", *(f"{m.history['train_seconds']:.1f} s" for m in data.models)],
        ["words/s", *(f"{m.history['words_per_sec']:,.0f}" for m in data.models)],
        ["final loss", *(fmt(m.history["final_loss"], 4) for m in data.models)],
    ]
    if any(m.kv.chars is not None for m in data.models):
        rows.append(["character vectors", *(f"{len(m.kv.chars):,}" if m.kv.chars is not None else "–" for m in data.models)])
    keys = sorted({k for m in data.models for k in m.history["config"]})
    for key in keys:
        rows.append([f"`{key}`", *(str(m.history["config"].get(key, "–")) for m in data.models)])
    lines += table(["", *names], rows, "l" + "r" * len(names))
    if data.loss_figure:
        lines += [f"![Training loss per epoch]({data.loss_figure})", ""]
        lines += ["*Loss per epoch (mean per training example; CBOW and skip-gram count examples differently, so compare shapes, not levels).*", ""]
    return lines


def _md(text: str) -> str:
    """`text` from a user's file as literal Markdown: ASCII punctuation backslash-escaped.

    "|" is left to `table`, which escapes it in cells (and elsewhere it is plain text).
    """
    return _MD_SPECIAL.sub(r"\\\g<0>", text)


_MD_SPECIAL = re.compile(r"[!-/:-@\[-`{}~]")
COMPOSED = "*(composed)*"


def _answers(kv: KeyedVectors, query: str, topn: int) -> list[tuple[str, float]]:
    """Neighbours of a vocabulary word or of a composed one; none for a word without a vector."""
    return kv.most_similar(query, topn=topn) if kv.has_vector(query) else []


def _neighbours(data: ReportData) -> list[str]:
    lines = ["## Nearest neighbours", ""]
    lines.append(f"The {data.topn} words with the highest cosine similarity to each query word.")
    if any(m.kv.is_composed(q) for q in data.queries for m in data.models):
        lines.append("A query outside a model's vocabulary is answered, where the model has character vectors, "
                     f"with the neighbours of the mean of its characters' vectors, marked {COMPOSED}.")
    lines.append("")
    overview = []
    for query in data.queries:
        cells = []
        for m in data.models:
            found = "、".join(_md(w) for w, _ in _answers(m.kv, query, min(5, data.topn)))
            cells.append(found + (f" {COMPOSED}" if m.kv.is_composed(query) else "") if found
                         else "*(not in vocabulary)*")
        overview.append([f"**{_md(query)}**", *cells])
    if overview:
        lines += ["The nearest five at a glance:", ""]
        lines += table(["query", *(display_name(m.name) for m in data.models)], overview, "l" * (len(data.models) + 1))
    header = ["#"]
    for m in data.models:
        header += [display_name(m.name), "cos"]
    for query in data.queries:
        lines += [f"### {_md(query)}", ""]
        lines += _missing_query(data, query)
        answers = [_answers(m.kv, query, data.topn) for m in data.models]
        if not any(answers):
            continue
        rows = []
        for rank in range(data.topn):
            row = [str(rank + 1)]
            for found in answers:
                row += [_md(found[rank][0]), f"{found[rank][1]:.3f}"] if rank < len(found) else ["", ""]
            rows.append(row)
        lines += table(header, rows, "r" + "lr" * len(data.models))
    return lines


def _missing_query(data: ReportData, query: str) -> list[str]:
    """Notes for a query outside some model's vocabulary: composed, or hints at known spellings."""
    lines = []
    composed = [display_name(m.name) for m in data.models if m.kv.is_composed(query)]
    if composed:
        lines += [f"*Not in the vocabulary of {', '.join(composed)}: neighbours of the vector composed from "
                  "its characters.*", ""]
    missing = [display_name(m.name) for m in data.models if not m.kv.has_vector(query)]
    if missing:
        hint = data.models[0].kv.closest_keys(query, 3)
        lines += [f"*Not in the vocabulary of {', '.join(missing)}*"
                  + (f"; known spellings nearby: {', '.join(map(_md, hint))}." if hint else "."), ""]
    return lines


def _aliases(data: ReportData) -> list[str]:
    k = data.topn
    lines = ["## Alias retrieval", ""]
    lines.append(
        f"Groups from {code(data.aliases_path)} list the names of one character. For each name in the "
        f"vocabulary, every other vocabulary word is ranked by cosine similarity; the rank of the nearest "
        f"other name of the same group is the score. hit@{k}: share of names whose partner ranks in the top {k}; "
        "MRR: mean of 1 / rank; coverage: share of the group's names in the vocabulary."
    )
    lines.append("")
    lines += _alias_summary(data)
    header = ["group", "in vocabulary"]
    for m in data.models:
        header += [f"{display_name(m.name)} hit@{k}", f"{display_name(m.name)} MRR"]
    rows = []
    for g, group in enumerate(data.groups):
        known = sum(w in data.models[0].kv for w in group)
        row = [" ".join(map(_md, group)), f"{known}/{len(group)}"]
        for m in data.models:
            entry = m.aliases["per_group"][g]
            row += [fmt(entry[_hit_key(data)]), fmt(entry["mrr"])]
        rows.append(row)
    lines += table(header, rows, "ll" + "rr" * len(data.models))
    lines += _names_outside(data)
    lines += ["<details markdown=\"1\"><summary>Rank of each name's nearest partner</summary>", ""]
    rows = []
    for g, group in enumerate(data.groups):
        for w in group:
            rows.append([_md(w), *(_rank_cell(m.aliases["per_group"][g], w) for m in data.models)])
    lines += table(["name", *(display_name(m.name) for m in data.models)], rows)
    lines += ["</details>", ""]
    if data.pca_figure:
        lines += [f"![Alias-group words, PCA of the unit vectors]({data.pca_figure})", ""]
        lines += ["*Alias-group words projected on the first two principal components; one colour per group, "
                  "named in the legend by its first name. Names of one group should sit together.*", ""]
    return lines


def _alias_summary(data: ReportData) -> list[str]:
    """Per model: the scores of the vocabulary names, then (if any) of the composed ones."""
    k, lines = data.topn, []
    composed = any(m.aliases["composed"]["evaluated"] for m in data.models)
    if composed:
        lines += ["Names outside the vocabulary are scored, where a model has character vectors, with the mean "
                  f"of their characters' vectors, and marked {COMPOSED}; they are counted apart, so that the "
                  "first columns compare models with and without characters.", ""]
    rows, header = [], ["model", f"hit@{k}", "MRR", "coverage", "names scored"]
    for m in data.models:
        rows.append([display_name(m.name), fmt(m.aliases[_hit_key(data)]), fmt(m.aliases["mrr"]),
                     fmt(m.aliases["coverage"]), str(m.aliases["evaluated"])])
        if composed:
            c = m.aliases["composed"]
            rows[-1] += [str(c["evaluated"]), fmt(c[_hit_key(data)]), fmt(c["mrr"])]
    if composed:
        header += ["composed names scored", f"composed hit@{k}", "composed MRR"]
    return lines + table(header, rows)


def _names_outside(data: ReportData) -> list[str]:
    """Which alias names are outside the vocabulary: composed from characters, or with no vector at all."""
    if not any(m.aliases["composed"]["words"] for m in data.models):
        missing = sorted(set(data.models[0].aliases["no_vector"]))
        return [f"Names not in the vocabulary: {'、'.join(map(_md, missing))}.", ""] if missing else []
    lines = ["Names not in the vocabulary:", ""]
    for m in data.models:
        composed, none = m.aliases["composed"]["words"], m.aliases["no_vector"]
        parts = [f"composed from their characters: {'、'.join(map(_md, composed))}" if composed else "",
                 f"no vector at all: {'、'.join(map(_md, none))}" if none else ""]
        lines.append(f"- {display_name(m.name)}: " + ("; ".join(p for p in parts if p) or "none") + ".")
    return lines + [""]


def _rank_cell(entry: dict, word: str) -> str:
    rank = fmt(entry["ranks"][word])
    return f"{rank} {COMPOSED}" if word in entry["composed"] else rank


def _analogies(data: ReportData) -> list[str]:
    first = data.models[0].analogies
    lines = ["## Analogies", ""]
    lines.append(
        f"Questions from {code(data.analogies_path)}: *a* is to *b* as *c* is to *d*; a model answers with the "
        f"word (other than a, b, c) that maximises 3CosAdd, cos(x, b) − cos(x, a) + cos(x, c), or 3CosMul "
        f"(Levy & Goldberg 2014). Answers come from the {data.restrict_vocab:,} most frequent words; "
        "questions with a word outside them are not covered. Accuracy is over covered questions."
    )
    lines.append("")
    header = ["section", "questions", "covered"]
    for m in data.models:
        header += [f"{display_name(m.name)} 3CosAdd", f"{display_name(m.name)} 3CosMul"]
    rows = []
    for s, section in enumerate(first["sections"] + [first]):
        name = "**all**" if s == len(first["sections"]) else _md(section["section"])
        row = [name, str(section["questions"]), fmt(section["coverage"], 2)]
        for m in data.models:
            entry = m.analogies["sections"][s] if s < len(first["sections"]) else m.analogies
            row += [fmt(entry["accuracy_add"]), fmt(entry["accuracy_mul"])]
        rows.append(row)
    lines += table(header, rows)
    lines += ['<details markdown="1"><summary>First question of each section, with the 3CosAdd answers</summary>', ""]
    rows, seen = [], set()
    for q, detail in enumerate(first["details"]):
        if detail["section"] in seen:
            continue
        seen.add(detail["section"])
        answers = [m.analogies["details"][q]["add"] for m in data.models]
        words = [_md(detail[key]) for key in "abc"]
        rows.append([f"{words[0]} : {words[1]} :: {words[2]} : ?", _md(detail["expected"]),
                     *(_md(answer) if answer else "(not covered)" for answer in answers)])
    lines += table(["question", "expected", *(display_name(m.name) for m in data.models)], rows, "ll" + "l" * len(data.models))
    lines += ["</details>", ""]
    return lines


def _cell(entry: dict | None, digits: int = 3) -> str:
    """A score with the number of items it is over, "0.046 (412)"; an en dash without an entry."""
    return "–" if entry is None else f"{fmt(entry['score'], digits)} ({entry['used']:,})"


def _test_sets(data: ReportData) -> list[str]:
    lines = ["## Public test sets", ""]
    lines.append(
        "Analogy sets: 3CosAdd top-1 accuracy, *a* is to *b* as *c* is to *?*, answers among the "
        f"{data.restrict_vocab:,} most frequent words other than a, b, c. Word-pair sets: Spearman's rho "
        "between the cosines and the people's scores. Both as gensim's `evaluate_word_analogies` and "
        "`evaluate_word_pairs`: items with a word outside the vocabulary are left out, so a score holds "
        "over the covered items only (in brackets). *With characters*: unknown words answered from their "
        "characters' vectors (answers stay vocabulary words); – where a model composes none of the set's words."
    )
    lines.append("")
    rows = []
    for s, first in enumerate(data.models[0].test_sets):
        for m in data.models:
            entry = m.test_sets[s]
            rows.append([_md(first["name"]), display_name(m.name),
                         "accuracy" if first["kind"] == "analogies" else "rho", f"{first['total']:,}",
                         fmt(entry["vocab"]["coverage"], 3), _cell(entry["vocab"]),
                         fmt(entry["chars"]["coverage"], 3) if entry["chars"] else "–", _cell(entry["chars"])])
    lines += table(["set", "model", "measure", "items", "coverage", "score (covered)",
                    "coverage with characters", "score with characters (covered)"], rows, "lllrrrrr")
    rows = []
    for s, first in enumerate(data.models[0].test_sets):
        if first["kind"] != "analogies":
            continue
        for c, section in enumerate(first["vocab"]["sections"]):
            row = [f"{_md(first['name'])}: {_md(section['section'])}", f"{section['questions']:,}"]
            for m in data.models:
                entry = m.test_sets[s]
                row += [_cell(entry["vocab"]["sections"][c]),
                        _cell(entry["chars"]["sections"][c] if entry["chars"] else None)]
            rows.append(row)
    if rows:
        header = ["category", "questions"]
        for m in data.models:
            header += [display_name(m.name), f"{display_name(m.name)} with characters"]
        lines += ['<details markdown="1"><summary>Accuracy per category (covered questions)</summary>', ""]
        lines += table(header, rows) + ["</details>", ""]
    paths = ", ".join(_md(t["path"]) for t in data.models[0].test_sets)
    return lines + [f"Files: {paths} (sources and licences in their folder's README).", ""]


def _reading_notes(data: ReportData) -> list[str]:
    return [
        "## How to read this report",
        "",
        "- Cosine similarity runs from −1 to 1. Its typical level differs between models and settings, "
        "so compare the order of neighbours across models rather than raw values.",
        "- A small novel gives few examples of each relation, so analogy accuracy stays low even for good "
        "vectors; alias retrieval is the steadier measure here. Compare models on the same corpus and settings.",
        "- Figures are SVG with their words kept as text, so any browser draws the Chinese; a PNG copy "
        "of each sits beside it for viewers without SVG.",
        *([f"- Browse both models in [{data.explorer}]({data.explorer}): search with completion, neighbours "
           "side by side, a zoomable map of the frequent words, analogies."] if data.explorer else []),
        "- Regenerate with `snakemake --cores 4 results/similarity_report.md`; query any word with "
        "`w2v neighbors results/cbow.vec 孙悟空`.",
        "",
    ]
