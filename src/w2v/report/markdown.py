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


def _neighbours(data: ReportData) -> list[str]:
    lines = ["## Nearest neighbours", ""]
    lines.append(f"The {data.topn} words with the highest cosine similarity to each query word.")
    lines.append("")
    overview = []
    for query in data.queries:
        cells = ["、".join(_md(w) for w, _ in m.kv.most_similar(query, topn=min(5, data.topn))) if query in m.kv
                 else "*(not in vocabulary)*" for m in data.models]
        overview.append([f"**{_md(query)}**", *cells])
    if overview:
        lines += ["The nearest five at a glance:", ""]
        lines += table(["query", *(display_name(m.name) for m in data.models)], overview, "l" * (len(data.models) + 1))
    header = ["#"]
    for m in data.models:
        header += [display_name(m.name), "cos"]
    for query in data.queries:
        lines += [f"### {_md(query)}", ""]
        missing = [display_name(m.name) for m in data.models if query not in m.kv]
        if missing:
            hint = data.models[0].kv.closest_keys(query, 3)
            lines.append(f"*Not in the vocabulary of {', '.join(missing)}*"
                         + (f"; known spellings nearby: {', '.join(map(_md, hint))}." if hint else "."))
            lines.append("")
            if len(missing) == len(data.models):
                continue
        answers = [m.kv.most_similar(query, topn=data.topn) if query in m.kv else [] for m in data.models]
        rows = []
        for rank in range(data.topn):
            row = [str(rank + 1)]
            for found in answers:
                row += [_md(found[rank][0]), f"{found[rank][1]:.3f}"] if rank < len(found) else ["", ""]
            rows.append(row)
        lines += table(header, rows, "r" + "lr" * len(data.models))
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
    rows = [[display_name(m.name), fmt(m.aliases[_hit_key(data)]), fmt(m.aliases["mrr"]),
             fmt(m.aliases["coverage"]), str(m.aliases["evaluated"])] for m in data.models]
    lines += table(["model", f"hit@{k}", "MRR", "coverage", "names scored"], rows)
    header = ["group", "in vocabulary"]
    for m in data.models:
        header += [f"{display_name(m.name)} hit@{k}", f"{display_name(m.name)} MRR"]
    rows = []
    first = data.models[0].aliases["per_group"]
    for g, group in enumerate(data.groups):
        known = sum(w in data.models[0].kv for w in group)
        row = [" ".join(map(_md, group)), f"{known}/{len(group)}"]
        for m in data.models:
            entry = m.aliases["per_group"][g]
            row += [fmt(entry[_hit_key(data)]), fmt(entry["mrr"])]
        rows.append(row)
    lines += table(header, rows, "ll" + "rr" * len(data.models))
    missing = sorted({w for entry in first for w, r in entry["ranks"].items() if w not in data.models[0].kv})
    if missing:
        lines += [f"Names not in the vocabulary: {'、'.join(map(_md, missing))}.", ""]
    lines += ["<details markdown=\"1\"><summary>Rank of each name's nearest partner</summary>", ""]
    rows = []
    for g, group in enumerate(data.groups):
        for w in group:
            rows.append([_md(w), *(fmt(m.aliases["per_group"][g]["ranks"][w]) for m in data.models)])
    lines += table(["name", *(display_name(m.name) for m in data.models)], rows)
    lines += ["</details>", ""]
    if data.pca_figure:
        lines += [f"![Alias-group words, PCA of the unit vectors]({data.pca_figure})", ""]
        lines += ["*Alias-group words projected on the first two principal components; one colour per group, "
                  "named in the legend by its first name. Names of one group should sit together.*", ""]
    return lines


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
