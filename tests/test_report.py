"""The similarity report built from tiny fixtures (tests/data/eval), and the evaluate command."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from w2v.cli import main
from w2v.errors import UserError
from w2v.evaluation import alias_metrics, load_alias_groups
from w2v.report import build_report
from w2v.report.inputs import count_tokens
from w2v.vectors import KeyedVectors
from w2v.data.vocab import make_vocab

DATA = Path(__file__).parent / "data" / "eval"
REPO = Path(__file__).parent.parent
QUERIES = ["孙悟空", "唐僧", "孙大圣"]  # the last is not in the vocabulary


def build(tmp_path: Path, **kwargs):
    args = dict(
        vectors=[DATA / "cbow.vec", DATA / "skipgram.vec"],
        histories=[DATA / "cbow.history.json", DATA / "skipgram.history.json"],
        stats=count_tokens(DATA / "tokens.txt"),
        vocab=DATA / "vocab.tsv",
        output=tmp_path / "results" / "similarity_report.md",
        figures_dir=tmp_path / "results" / "report",
        queries=QUERIES,
        topn=3,
        aliases=str(DATA / "tiny_aliases.txt"),
        analogies=str(DATA / "tiny_analogies.txt"),
        font="",
        corpus="data/raw/tiny.txt",
    )
    args.update(kwargs)
    data = build_report(**args)
    return data, args["output"].read_text(encoding="utf-8")


def check_tables(markdown: str) -> None:
    """Every Markdown table row has as many cells as its header (so renderers keep the columns)."""
    blocks = re.findall(r"((?:^\|.*\|\n)+)", markdown, flags=re.M)
    assert blocks
    for block in blocks:
        rows = [re.split(r"(?<!\\)\|", row)[1:-1] for row in block.strip().split("\n")]
        assert {len(r) for r in rows} == {len(rows[0])}, block
        assert set(rows[1][0].strip()) <= set(":-")


def test_report_has_every_section(tmp_path) -> None:
    data, md = build(tmp_path)
    for heading in ["# Word vectors of `data/raw/tiny.txt`", "## At a glance", "## Run summary",
                    "## Nearest neighbours", "## Alias retrieval", "## Analogies"]:
        assert heading in md
    check_tables(md)
    # run summary: corpus counts from the fixtures (10 sentences, 39 tokens, 9 vocabulary words)
    assert "10 sentences, 39 tokens" in md and "Vocabulary: 9 words" in md
    assert "| device | cpu | cpu |" in md
    assert "loss fell from 2.0000 to 1.0000" in md
    # figures linked relatively, and the files exist
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert links == ["report/loss.svg", "report/aliases_pca.svg"]
    for link in links:
        assert (tmp_path / "results" / link).stat().st_size > 1000
        assert (tmp_path / "results" / link).with_suffix(".png").stat().st_size > 1000  # the fallback
    assert not list((tmp_path / "results").rglob("*.tmp"))


HOSTILE = ["<script>alert(1)</script>", "a|b", "*x*", "`y`", "[x](y)", "$\\frac{x$"]


def test_markup_from_users_files_is_shown_as_text(tmp_path) -> None:
    aliases = tmp_path / "aliases.txt"
    aliases.write_text(" ".join(HOSTILE[::-1]) + " 孙悟空 悟空\n八戒 呆子\n", encoding="utf-8")  # "$..$" names the group
    analogies = tmp_path / "analogies.txt"
    analogies.write_text(": <i>section</i>\n唐僧 孙悟空 如来 <b>观音</b>\n", encoding="utf-8")
    _, md = build(tmp_path, queries=[*HOSTILE, "孙悟空"], aliases=str(aliases), analogies=str(analogies),
                  corpus="data/`<b>x</b>`.txt")
    check_tables(md)  # "|" in a word does not add a column
    outside_code = md.replace("``data/`<b>x</b>`.txt``", "")  # a code span shows its text as it is
    assert "<script>" not in outside_code and "<b>" not in outside_code and "<i>" not in outside_code
    for raw, escaped in [("<script>alert(1)</script>", r"\<script\>alert\(1\)\<\/script\>"), ("*x*", r"\*x\*"),
                         ("`y`", r"\`y\`"), ("[x](y)", r"\[x\]\(y\)")]:
        assert f"### {escaped}" in md  # the heading of the query
        assert raw not in md.replace(escaped, "")
    names_line = next(line for line in md.splitlines() if line.startswith("Names not in the vocabulary"))
    assert r"\<script\>" in names_line and r"\*x\*" in names_line
    assert "# Word vectors of ``data/`<b>x</b>`.txt``" in md  # a code span that its own backticks cannot end
    assert r"\<i\>section\<\/i\>" in md and r"\<b\>观音\<\/b\>" in md


def test_neighbours_side_by_side_and_oov_query_marked(tmp_path) -> None:
    _, md = build(tmp_path)
    section = md.split("### 孙悟空")[1].split("###")[0]
    cbow = KeyedVectors.load_word2vec_format(DATA / "cbow.vec").most_similar("孙悟空", topn=3)
    sg = KeyedVectors.load_word2vec_format(DATA / "skipgram.vec").most_similar("孙悟空", topn=3)
    first = f"| 1 | {cbow[0][0]} | {cbow[0][1]:.3f} | {sg[0][0]} | {sg[0][1]:.3f} |"
    assert first in section
    assert "| # | CBOW | cos | skip-gram | cos |" in section
    oov = md.split("### 孙大圣")[1].split("##")[0]
    assert "Not in the vocabulary of CBOW, skip-gram" in oov and "孙悟空" in oov  # a suggestion


def test_alias_and_analogy_numbers_match_the_library(tmp_path) -> None:
    _, md = build(tmp_path)
    groups = load_alias_groups(DATA / "tiny_aliases.txt")
    metrics = json.loads((tmp_path / "results" / "report" / "metrics.json").read_text(encoding="utf-8"))
    for name, label in [("cbow", "CBOW"), ("skipgram", "skip-gram")]:
        kv = KeyedVectors.load_word2vec_format(DATA / f"{name}.vec")
        expected = alias_metrics(kv, groups, topn=3)
        row = f"| {label} | {expected['hit_at_3']:.3f} | {expected['mrr']:.3f} | {expected['coverage']:.3f} | {expected['evaluated']} |"
        assert row in md
        assert metrics["models"][name]["aliases"]["mrr"] == pytest.approx(expected["mrr"])
    # the tiny analogy file mostly uses words outside this vocabulary: 0 of 6 covered
    assert metrics["models"]["cbow"]["analogies"]["questions"] == 6
    assert metrics["models"]["cbow"]["analogies"]["answered"] == 0
    assert "| **all** | 6 | 0.00 | – | – | – | – |" in md
    assert "(not covered)" in md


def test_public_test_sets_table_and_metrics(tmp_path) -> None:
    analogies = tmp_path / "ca8_[x].txt"  # markup in a file or category name reaches the report escaped
    analogies.write_text(": a*b\n唐僧 孙悟空 八戒 悟空\n唐僧 八戒 孙悟空 悟空\n唐僧 沙僧 八戒 悟空\n: c\n打 挑 担 在\n",
                         encoding="utf-8")
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("唐僧 孙悟空 3 3 3\n孙悟空 悟空 4 4 4\n打 担 1 1 1\n八戒 沙僧 2 2 2\n在 挑 0 0 0\n", encoding="utf-8")
    _, md = build(tmp_path, analogy_sets=[str(analogies)], word_pairs=[str(pairs)])
    check_tables(md)
    section = md.split("## Public test sets")[1].split("\n## ")[0]
    metrics = json.loads((tmp_path / "results" / "report" / "metrics.json").read_text(encoding="utf-8"))
    from w2v.testsets import TestSets

    for name, label in [("cbow", "CBOW"), ("skipgram", "skip-gram")]:
        kv = KeyedVectors.load_word2vec_format(DATA / f"{name}.vec")
        expected = TestSets([analogies], [pairs]).scores(kv)
        assert metrics["models"][name]["test_sets"] == expected
        ca8, cos = expected
        assert ca8["vocab"]["used"] == 3 and cos["vocab"]["used"] == 4 and ca8["chars"] is None
        assert (f"| ca8\\_\\[x\\] | {label} | accuracy | 4 | 0.750 | {ca8['vocab']['score']:.3f} (3) | – | – |"
                in section)
        assert f"| pairs | {label} | rho | 5 | 0.800 | {cos['vocab']['score']:.3f} (4) | – | – |" in section
    assert "| ca8\\_\\[x\\]: a\\*b | 3 |" in section and "ca8_[x]" not in md


def svg_texts(path: Path) -> list[str]:
    """The text elements of an SVG figure, as a browser reads them."""
    import xml.etree.ElementTree as ET

    return [t.text for t in ET.parse(path).iter("{http://www.w3.org/2000/svg}text") if t.text]


def test_svg_figure_keeps_chinese_as_text_without_any_font(tmp_path, monkeypatch) -> None:
    """On a machine without a CJK font the SVG still names every word; the legend names each group by its first name."""
    monkeypatch.setattr("w2v.report.find_cjk_font", lambda font: None)
    build(tmp_path, font="")
    pca = tmp_path / "results" / "report" / "aliases_pca.svg"
    texts = svg_texts(pca)
    legend = ["孙悟空", "八戒"]  # first names of the two tiny groups
    for word in ["孙悟空", "悟空", "行者", "八戒", "呆子"]:
        in_vocab = word in KeyedVectors.load_word2vec_format(DATA / "cbow.vec")
        # two panels: each word labels a point in both, and a group's first name also heads its legend entry
        assert texts.count(word) == (2 * in_vocab + 2 * (word in legend)), word
    assert texts.count("group (first name)") == 2 and "group 1" not in texts
    assert "<path" in pca.read_text(encoding="utf-8")  # points drawn, glyphs not: no <use> of font outlines
    assert 'id="DejaVuSans' not in pca.read_text(encoding="utf-8")
    monkeypatch.undo()
    with pytest.raises(UserError, match="eval.font"):
        build(tmp_path / "bad", font=str(tmp_path / "missing.ttf"))
    assert not (tmp_path / "bad").exists()  # nothing written


def test_chinese_in_the_figure_drawn_by_chromium(tmp_path) -> None:
    """Headless Chromium renders the SVG's words (as text, with whatever fonts it has)."""
    from test_explorer import CHROMIUM_FLAGS, chromium_path, skip_without_browser

    skip_without_browser()
    build(tmp_path)
    pca = tmp_path / "results" / "report" / "aliases_pca.svg"
    shot = tmp_path / "shot.png"
    run = subprocess.run([chromium_path(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                          f"--screenshot={shot}", "--window-size=1320,580", pca.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert shot.stat().st_size > 10_000, run.stderr[-2000:]


def test_sections_can_be_left_out(tmp_path) -> None:
    _, md = build(tmp_path, aliases="", analogies="", queries=[])
    assert "## Alias retrieval" not in md and "## Analogies" not in md and "alias hit@" not in md
    assert "## Public test sets" not in md
    assert (tmp_path / "results" / "report" / "aliases_pca.svg").exists()  # the workflow expects it
    check_tables(md)


def test_same_inputs_same_outputs(tmp_path) -> None:
    build(tmp_path / "a")
    build(tmp_path / "b")
    for name in ["similarity_report.md", "report/metrics.json", "report/loss.svg", "report/aliases_pca.svg",
                 "report/loss.png", "report/aliases_pca.png"]:
        assert (tmp_path / "a" / "results" / name).read_bytes() == (tmp_path / "b" / "results" / name).read_bytes(), name


def test_bad_history_names_the_key_and_writes_nothing(tmp_path) -> None:
    bad = tmp_path / "cbow.history.json"
    history = json.loads((DATA / "cbow.history.json").read_text(encoding="utf-8"))
    del history["final_loss"]
    bad.write_text(json.dumps(history), encoding="utf-8")
    with pytest.raises(UserError, match=r"cbow.history.json: key 'final_loss' is missing; rerun `w2v train`"):
        build(tmp_path, histories=[bad, DATA / "skipgram.history.json"])
    assert not (tmp_path / "results").exists()


def test_evaluate_command(tmp_path, capsys) -> None:
    out = tmp_path / "r" / "similarity_report.md"
    argv = ["evaluate", "--vectors", str(DATA / "cbow.vec"), str(DATA / "skipgram.vec"),
            "--histories", str(DATA / "cbow.history.json"), str(DATA / "skipgram.history.json"),
            "--tokens", str(DATA / "tokens.txt"), "--vocab", str(DATA / "vocab.tsv"),
            "--queries", "唐僧", "--topn", "2", "--aliases", str(DATA / "tiny_aliases.txt"), "--analogies=",
            "-o", str(out), "--figures", str(tmp_path / "r" / "figs")]
    assert main(argv) == 0
    md = out.read_text(encoding="utf-8")
    assert "![Training loss per epoch](figs/loss.svg)" in md and "## Analogies" not in md
    assert main(argv[:-4] + ["--histories", str(DATA / "cbow.history.json"), "-o", str(out), "--figures", "x"]) == 2
    assert "give one history per model" in capsys.readouterr().err


def test_evaluate_counts_the_corpus_from_its_statistics_or_a_token_file(tmp_path, capsys) -> None:
    stats = tmp_path / "corpus.json"
    make_vocab(DATA / "tokens.txt", tmp_path / "vocab.tsv", stats_path=stats)
    base = ["evaluate", "--vectors", str(DATA / "cbow.vec"), "--histories", str(DATA / "cbow.history.json"),
            "--vocab", str(DATA / "vocab.tsv"), "--aliases=", "--analogies=", "--figures", str(tmp_path / "figs")]
    reports = {}
    for flag, path in (("--corpus-stats", stats), ("--tokens", DATA / "tokens.txt")):
        out = tmp_path / f"{flag[2:]}.md"
        assert main([*base, flag, str(path), "--corpus", "tiny", "-o", str(out)]) == 0
        reports[flag] = out.read_text(encoding="utf-8")
        assert "Corpus `tiny`: " in reports[flag]
    assert reports["--corpus-stats"] == reports["--tokens"]  # the same counts either way
    out = ["-o", str(tmp_path / "x.md")]
    assert main([*base, "--tokens", str(stats), *out]) == 2
    err = capsys.readouterr().err
    assert f"--tokens {stats}: a JSON file; give corpus statistics with --corpus-stats" in err
    assert main([*base, "--corpus-stats", str(DATA / "tokens.txt"), *out]) == 2
    assert "not a valid JSON file" in (err := capsys.readouterr().err) and "a clean token file goes to --tokens" in err
    with pytest.raises(SystemExit):
        main([*base, *out])
    assert "one of the arguments --corpus-stats --tokens is required" in capsys.readouterr().err
    assert not (tmp_path / "x.md").exists()


def test_evaluate_takes_its_settings_as_json(tmp_path, capsys) -> None:
    out = tmp_path / "similarity_report.md"
    base = ["evaluate", "--vectors", str(DATA / "cbow.vec"), str(DATA / "skipgram.vec"),
            "--histories", str(DATA / "cbow.history.json"), str(DATA / "skipgram.history.json"),
            "--tokens", str(DATA / "tokens.txt"), "--vocab", str(DATA / "vocab.tsv"),
            "-o", str(out), "--figures", str(tmp_path / "figs")]
    settings = '{"queries": ["\\u003cb\\u003e", "唐僧"], "topn": 2, "aliases": "", "corpus": "c.txt"}'
    assert main([*base, "--settings", settings]) == 0
    md = out.read_text(encoding="utf-8")
    assert r"### \<b\>" in md and "### 唐僧" in md and "Corpus `c.txt`" in md  # the escapes decoded, then escaped
    assert main([*base, "--settings", '{"topm": 2}']) == 2
    assert "--settings: unknown keys topm" in capsys.readouterr().err


@pytest.mark.slow
def test_snakemake_rule_and_html_report(tmp_path) -> None:
    """Rule `evaluate` runs on the fixtures laid out as results/, and `snakemake --report` works."""
    work = tmp_path / "wf"
    work.mkdir()
    for item in ["Snakefile", "workflow", "config", "data"]:
        src = REPO / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / item)
    results = work / "results"
    results.mkdir()
    for name in ["cbow.vec", "skipgram.vec", "cbow.history.json", "skipgram.history.json", "vocab.tsv"]:
        shutil.copy(DATA / name, results / name)
    for model in ("cbow", "skipgram"):  # word-only models: character files without rows, as training writes
        dim = KeyedVectors.load_word2vec_format(DATA / f"{model}.vec").vector_size
        KeyedVectors([], np.zeros((0, dim))).save_word2vec_format(results / f"{model}.chars.vec")
    make_vocab(DATA / "tokens.txt", tmp_path / "vocab.tsv", stats_path=results / "corpus.json")
    config_path = work / "config" / "config.yaml"  # markup in the config must not reach the HTML report's page
    config_path.write_text(config_path.read_text(encoding="utf-8").replace(
        "queries: [", "queries: ['<script>alert(1)</script>', 'a|b', '*x*', "), encoding="utf-8")

    def snakemake(target: str) -> subprocess.CompletedProcess:
        # the target first: --allowed-rules takes every word after it
        return subprocess.run([sys.executable, "-m", "snakemake", target, "--cores", "1", "--allowed-rules", "evaluate", "projector"],
                              cwd=work, capture_output=True, text=True)

    run = snakemake("results/similarity_report.md")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "explorer: results/explorer.html" in run.stdout + run.stderr
    assert (results / "explorer.html").stat().st_size > 10_000
    run = snakemake("results/projector/projector_config.json")
    assert run.returncode == 0, run.stderr[-3000:]
    config = json.loads((results / "projector" / "projector_config.json").read_text(encoding="utf-8"))
    assert [e["tensorPath"] for e in config["embeddings"]] == ["cbow_tensor.tsv", "skipgram_tensor.tsv"]
    md = (results / "similarity_report.md").read_text(encoding="utf-8")
    assert "## Alias retrieval" in md and "## Analogies" in md and "### 孙悟空" in md
    assert "scored cbow" in (results / "logs" / "evaluate" / "evaluate.log").read_text(encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "snakemake", "--report", "results/report.html"],
                         cwd=work, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    page = (results / "report.html").read_text(encoding="utf-8")
    assert len(page) > 10_000 and "alert(1)" in page  # the evaluate job's params are shown...
    assert "<script>alert" not in page and "</script>'" not in page  # ...with no markup that could end the page's script
    assert r"### \<script\>alert\(1\)\<\/script\>" in md


# ---------------------------------------------------------------- character vectors
def cbow_with_chars(tmp_path: Path) -> Path:
    """The fixture's CBOW vectors with a character file beside them: 孙, 大 and 行 have vectors, 呆 and 子 not."""
    vec = tmp_path / "cbow.vec"
    vec.write_bytes((DATA / "cbow.vec").read_bytes())
    kv = KeyedVectors.load_word2vec_format(DATA / "cbow.vec")
    KeyedVectors(["孙", "大", "行"], np.stack([kv["孙悟空"], kv["妖精"], kv["悟空"] + kv["打"]])).save_word2vec_format(
        tmp_path / "cbow.chars.vec")
    return vec


def test_composed_query_and_alias_names_are_scored_and_marked(tmp_path) -> None:
    vec = cbow_with_chars(tmp_path)
    aliases = tmp_path / "aliases.txt"
    aliases.write_text("孙悟空 悟空 行者 *行*\n八戒 呆子\n", encoding="utf-8")
    _, md = build(tmp_path, vectors=[vec, DATA / "skipgram.vec"], aliases=str(aliases))
    check_tables(md)
    kv = KeyedVectors.load_word2vec_format(vec)
    assert kv.is_composed("孙大圣") and kv.is_composed("行者") and not kv.has_vector("呆子")
    # the query outside the vocabulary: CBOW answers it from its characters, skip-gram cannot
    oov = md.split("### 孙大圣")[1].split("##")[0]
    assert "*Not in the vocabulary of CBOW: neighbours of the vector composed from its characters.*" in oov
    assert "*Not in the vocabulary of skip-gram*; known spellings nearby: 孙悟空" in oov
    first = kv.most_similar("孙大圣", topn=3)[0]
    assert f"| 1 | {first[0]} | {first[1]:.3f} |  |  |" in oov
    assert f"| **孙大圣** | {'、'.join(w for w, _ in kv.most_similar('孙大圣', topn=3))} *(composed)* | *(not in vocabulary)* |" in md
    # alias names: 行者 and *行* composed in CBOW, 呆子 has no vector; the vocabulary columns are unchanged
    expected = alias_metrics(kv, load_alias_groups(aliases), topn=3)
    assert expected["composed"]["words"] == ["行者", "*行*"] and expected["composed"]["evaluated"] == 2
    c = expected["composed"]
    assert (f"| CBOW | {expected['hit_at_3']:.3f} | {expected['mrr']:.3f} | {expected['coverage']:.3f} | 2 "
            f"| 2 | {c['hit_at_3']:.3f} | {c['mrr']:.3f} |") in md
    assert "| skip-gram |" in md and "| 0 | – | – |" in md
    assert "- CBOW: composed from their characters: 行者、\\*行\\*; no vector at all: 呆子." in md
    assert "- skip-gram: no vector at all: 行者、\\*行\\*、呆子." in md
    rank = expected["per_group"][0]["ranks"]["行者"]
    assert f"| 行者 | {rank} *(composed)* | – |" in md
    assert "*行*" not in md.replace("\\*行\\*", "")  # the name is escaped everywhere
    assert "| character vectors | 3 | – |" in md
    metrics = json.loads((tmp_path / "results" / "report" / "metrics.json").read_text(encoding="utf-8"))
    cbow, sg = metrics["models"]["cbow"], metrics["models"]["skipgram"]
    assert cbow["aliases"]["composed"] == c and cbow["aliases"]["no_vector"] == ["呆子"]
    assert sg["aliases"]["composed"]["evaluated"] == 0 and sg["aliases"]["no_vector"] == ["行者", "*行*", "呆子"]
    assert cbow["character_vectors"] == 3 and sg["character_vectors"] == 0


def test_without_character_vectors_the_alias_section_is_as_before(tmp_path) -> None:
    _, md = build(tmp_path)
    assert "Names not in the vocabulary: 呆子、行者." in md
    assert "composed" not in md and "character vectors" not in md
