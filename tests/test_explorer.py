"""The explorer page: its data without a browser, and its behaviour in headless Chromium (Playwright).

The browser tests skip with a reason where Playwright or Chromium is missing, and fail instead when
W2V_REQUIRE_BROWSER is set (CI sets it, after installing Debian's chromium).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from w2v.cli import main
from w2v.report.explorer import explorer_data, render_explorer, script_json
from w2v.vectors import KeyedVectors

DATA = Path(__file__).parent / "data" / "eval"
# Words a corpus may hold that must stay text: each would run code if it reached the page as markup.
EVIL = ["<script>window.__pwned=1</script>", "<img/src=x/onerror=window.__pwned=2>", "</script><!--", "a&amp;b"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def counts_of(vocab: Path) -> dict[str, int]:
    rows = [line.split("\t") for line in vocab.read_text(encoding="utf-8").splitlines()[2:]]
    return {token: int(count) for _, token, count in rows}


def evaluate(tmp_path: Path, vectors: list[Path], vocab: Path = DATA / "vocab.tsv", *extra: str) -> Path:
    """Run `w2v evaluate` with --explorer; return the page."""
    out = tmp_path / "results"
    argv = ["evaluate", "--vectors", *map(str, vectors),
            "--histories", str(DATA / "cbow.history.json"), str(DATA / "skipgram.history.json"),
            "--tokens", str(DATA / "tokens.txt"), "--vocab", str(vocab), "--topn", "3",
            "--aliases", str(DATA / "tiny_aliases.txt"), "-o", str(out / "similarity_report.md"),
            "--figures", str(out / "report"), "--explorer", str(out / "explorer.html"), *extra]
    assert main(argv) == 0
    return out / "explorer.html"


def page_data(page: Path) -> dict:
    text = page.read_text(encoding="utf-8")
    start = text.index('<script type="application/json" id="w2v-data">') + len('<script type="application/json" id="w2v-data">')
    return json.loads(text[start:text.index("</script>", start)])


# ---------------------------------------------------------------- without a browser
def test_script_json_cannot_end_its_element() -> None:
    data = {"words": EVIL + ["孙悟空"], "n": 1}
    text = script_json(data)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == data


def test_data_holds_unit_vectors_counts_and_the_map(tmp_path) -> None:
    kv = KeyedVectors.load_word2vec_format(DATA / "cbow.vec")
    groups = [["孙悟空", "悟空"], ["八戒", "missing"]]
    data = explorer_data([("cbow", kv)], counts_of(DATA / "vocab.tsv"), groups, "tiny", max_words=6, map_words=2)
    model = data["models"][0]
    assert model["words"] == kv.index_to_key[:6] and model["total_words"] == 9
    assert model["counts"] == [counts_of(DATA / "vocab.tsv")[w] for w in model["words"]]
    unit = np.frombuffer(base64.b64decode(model["vectors"]), dtype="<f2").reshape(6, kv.vector_size)
    np.testing.assert_allclose(unit, kv.unit_vectors[:6], atol=1e-3)
    # the 2 most frequent words, then the alias words among the 6 kept: 孙悟空 (row 5), 八戒 (row 3);
    # 悟空 (row 6) is not kept
    assert [kv.index_to_key[i] for i in model["map"]["index"]] == ["唐僧", "妖精", "孙悟空", "八戒"]
    assert model["map"]["group"] == [-1, -1, 0, 1]
    expected = model["map"]["index"]
    assert len(model["map"]["x"]) == len(expected) == len(model["map"]["y"])


def test_default_novel_sized_page_stays_under_10_mb() -> None:
    """13,719 words x 100 dimensions for both models (the default novel's vocabulary)."""
    rng = np.random.default_rng(0)
    words = [f"词{i}" for i in range(13_719)]
    models = [(name, KeyedVectors(words, rng.normal(size=(len(words), 100)).astype(np.float32)))
              for name in ("cbow", "skipgram")]
    page = render_explorer(explorer_data(models, {w: 3 for w in words}, [], "xiyouji"))
    size = len(page.encode("utf-8"))
    assert 7e6 < size < 10e6, size


def test_evaluate_writes_the_explorer_and_links_it(tmp_path) -> None:
    page = evaluate(tmp_path, [DATA / "cbow.vec", DATA / "skipgram.vec"], DATA / "vocab.tsv", "--explorer-words", "5")
    data = page_data(page)
    assert [m["label"] for m in data["models"]] == ["CBOW", "skip-gram"]
    assert [len(m["words"]) for m in data["models"]] == [5, 5]
    assert data["groups"] == [["孙悟空", "悟空", "行者"], ["八戒", "呆子"]]
    assert "](explorer.html)" in (tmp_path / "results" / "similarity_report.md").read_text(encoding="utf-8")
    text = page.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text and "src=" not in text  # nothing to fetch


# ---------------------------------------------------------------- in Chromium
def chromium_path() -> str | None:
    return os.environ.get("W2V_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def skip_without_browser() -> None:
    """Skip (fail, under W2V_REQUIRE_BROWSER) where Playwright or Chromium is missing."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "Playwright is not installed (pip install -e '.[test]')"
    else:
        reason = None if chromium_path() else "no Chromium found (apt-get install chromium, or set W2V_CHROMIUM)"
    if reason and os.environ.get("W2V_REQUIRE_BROWSER"):
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium context (Playwright driving the system browser)."""
    skip_without_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=chromium_path(),
            args=CHROMIUM_FLAGS, headless=True, viewport={"width": 1300, "height": 1000},
        )
        yield context
        context.close()


@pytest.fixture
def open_page(browser):
    """Open a page from a file; afterwards check it raised no error and requested nothing else."""
    pages = []

    def opener(path: Path):
        page = browser.new_page()
        page.errors, page.requests = [], []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.on("request", lambda request: page.requests.append(request.url))
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-ready=true]", timeout=15_000)
        pages.append(page)
        return page

    yield opener
    for page in pages:
        assert page.errors == []
        assert all(url.startswith("file://") for url in page.requests), page.requests
        page.close()


def neighbour_rows(page, model: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"#neighbours-{model} tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))")


def test_search_completion_neighbours_map_click_and_screenshot(tmp_path, open_page) -> None:
    page = open_page(evaluate(tmp_path, [DATA / "cbow.vec", DATA / "skipgram.vec"]))
    page.click("#query")
    page.keyboard.type("孙")
    page.wait_for_selector("#completions li")
    assert page.inner_text("#completions li:first-child .completion-word") == "孙悟空"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    counts = counts_of(DATA / "vocab.tsv")
    for model in ("cbow", "skipgram"):
        expected = KeyedVectors.load_word2vec_format(DATA / f"{model}.vec").most_similar("孙悟空", topn=3)
        rows = neighbour_rows(page, model)
        assert [r[1] for r in rows] == [w for w, _ in expected]
        for row, (word, cosine) in zip(rows, expected):
            assert abs(float(row[2]) - cosine) <= 2e-3 and row[3] == str(counts[word])
    # hover shows the word, a click on a point queries it (here in the skip-gram map)
    point = page.evaluate("w2vExplorer.screenPoint(1, '八戒')")
    page.mouse.move(point["x"], point["y"])
    assert page.is_visible("#tooltip") and page.inner_text("#tooltip").startswith("八戒")
    page.mouse.click(point["x"], point["y"])
    assert page.input_value("#query") == "八戒"
    assert neighbour_rows(page, "cbow")[0][1] == KeyedVectors.load_word2vec_format(DATA / "cbow.vec").most_similar("八戒")[0][0]
    # zoom about the cursor doubles distances to it; a drag moves every point by the drag
    other = page.evaluate("w2vExplorer.screenPoint(1, '唐僧')")
    page.mouse.move(point["x"], point["y"])
    page.mouse.wheel(0, -462)  # exp(462 * 0.0015) = 2
    zoomed = page.evaluate("w2vExplorer.screenPoint(1, '唐僧')")
    assert zoomed["x"] - point["x"] == pytest.approx(2 * (other["x"] - point["x"]), abs=1)
    page.mouse.down()
    page.mouse.move(point["x"] + 40, point["y"] + 25, steps=4)
    page.mouse.up()
    moved = page.evaluate("w2vExplorer.screenPoint(1, '唐僧')")
    assert (moved["x"] - zoomed["x"], moved["y"] - zoomed["y"]) == pytest.approx((40, 25), abs=1)
    assert page.input_value("#query") == "八戒"  # a drag is not a click
    shot = tmp_path / "explorer.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000


def test_analogy_follows_gensims_rule(tmp_path, open_page) -> None:
    page = open_page(evaluate(tmp_path, [DATA / "cbow.vec", DATA / "skipgram.vec"]))
    for box, word in zip("abc", ["八戒", "妖精", "唐僧"]):
        page.fill(f"#analogy-{box}", word)
    page.click("#analogy-form button")
    for model in ("cbow", "skipgram"):
        kv = KeyedVectors.load_word2vec_format(DATA / f"{model}.vec")
        expected = kv.most_similar(positive=["八戒", "唐僧"], negative=["妖精"], topn=3)
        rows = page.eval_on_selector_all(f"#analogy-{model} tbody tr", "rows => rows.map(r => r.cells[1].textContent)")
        assert rows == [w for w, _ in expected]
    page.fill("#analogy-a", "不在")
    page.click("#analogy-form button")
    assert "Not in this model: 不在" in page.inner_text("#analogy-cbow")


def test_words_with_markup_stay_text(tmp_path, open_page) -> None:
    kv = KeyedVectors.load_word2vec_format(DATA / "cbow.vec")
    base = kv.vectors[kv.key_to_index["孙悟空"]]
    rng = np.random.default_rng(1)
    evil = np.stack([base + 0.01 * rng.normal(size=base.shape) for _ in EVIL]).astype(np.float32)
    vectors = tmp_path / "evil.vec"
    KeyedVectors(kv.index_to_key + EVIL, np.vstack([kv.vectors, evil])).save_word2vec_format(vectors)
    vocab = tmp_path / "vocab.tsv"
    rows = sorted(counts_of(DATA / "vocab.tsv").items(), key=lambda kv_: (-kv_[1], kv_[0])) + [(w, 1) for w in sorted(EVIL)]
    vocab.write_text("id\ttoken\tcount\n0\t<pad>\t0\n" + "".join(f"{i}\t{w}\t{c}\n" for i, (w, c) in enumerate(rows, 1)),
                     encoding="utf-8")
    page = open_page(evaluate(tmp_path, [vectors, vectors], vocab))
    page.fill("#query", EVIL[0])
    page.press("#query", "Enter")
    shown = [r[1] for r in neighbour_rows(page, "cbow")]
    assert len(shown) == 3 and set(shown) <= set(EVIL) | set(kv.index_to_key) and set(shown) & set(EVIL)
    page.fill("#query", "<")
    page.dispatch_event("#query", "input")
    assert set(page.eval_on_selector_all("#completions .completion-word", "e => e.map(x => x.textContent)")) == set(EVIL[:3])
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("document.scripts.length") == 2


def test_load_benchmark_prints_size_and_ready_time(tmp_path) -> None:
    skip_without_browser()
    page = evaluate(tmp_path, [DATA / "cbow.vec", DATA / "skipgram.vec"])
    script = Path(__file__).parent.parent / "benchmarks" / "explorer_load.py"
    # its own process: Playwright's sync API runs one instance per thread, and the fixture's may be open
    run = subprocess.run([sys.executable, str(script), str(page), "--runs", "2", "--word", "八戒"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "x the 10 MB budget" in run.stdout and "median of 2" in run.stdout
    assert "one query (八戒, both models)" in run.stdout


# ---------------------------------------------------------------- character vectors and the map's labels
def cbow_with_chars(tmp_path: Path) -> Path:
    """The fixture's CBOW vectors with a character file beside them: 孙, 大 and 行 have vectors."""
    vec = tmp_path / "cbow.vec"
    vec.write_bytes((DATA / "cbow.vec").read_bytes())
    kv = KeyedVectors.load_word2vec_format(DATA / "cbow.vec")
    rows = np.stack([kv["孙悟空"], kv["妖精"], kv["悟空"] + kv["打"]])
    KeyedVectors(["孙", "大", "行"], rows).save_word2vec_format(tmp_path / "cbow.chars.vec")
    return vec


def test_data_holds_character_vectors_and_the_projection(tmp_path) -> None:
    page = evaluate(tmp_path, [cbow_with_chars(tmp_path), DATA / "skipgram.vec"])
    cbow, skipgram = page_data(page)["models"]
    kv = KeyedVectors.load_word2vec_format(tmp_path / "cbow.vec")
    assert cbow["chars"]["keys"] == ["孙", "大", "行"] and "chars" not in skipgram
    raw = np.frombuffer(base64.b64decode(cbow["chars"]["vectors"]), dtype="<f2").reshape(3, kv.vector_size)
    np.testing.assert_allclose(raw, kv.chars.vectors, rtol=1e-3, atol=1e-4)  # raw rows, not unit ones
    # the map's projection places any word as its points were placed
    pca = cbow["map"]["pca"]
    project = lambda v: (v - np.array(pca["mean"])) @ np.array(pca["axes"]).T  # noqa: E731
    xy = project(kv.unit_vectors[cbow["map"]["index"]])
    np.testing.assert_allclose(xy, np.array([cbow["map"]["x"], cbow["map"]["y"]]).T, atol=1e-4)
    # 行者 (tiny_aliases group 0) is outside the vocabulary: CBOW places it by its composed vector
    assert cbow["map"]["composed"]["words"] == ["行者"] and cbow["map"]["composed"]["group"] == [0]
    at = project(kv.get_vector("行者", norm=True))
    assert (cbow["map"]["composed"]["x"][0], cbow["map"]["composed"]["y"][0]) == pytest.approx(tuple(at), abs=1e-4)
    assert skipgram["map"]["composed"]["words"] == []


def test_an_unknown_word_shows_its_composed_neighbours(tmp_path, open_page) -> None:
    page = open_page(evaluate(tmp_path, [cbow_with_chars(tmp_path), DATA / "skipgram.vec"]))
    assert "CBOW: words outside the vocabulary are composed from their characters" in page.inner_text("#summary")
    page.fill("#query", "孙大圣")
    page.press("#query", "Enter")
    kv = KeyedVectors.load_word2vec_format(tmp_path / "cbow.vec")
    expected = kv.most_similar("孙大圣", topn=3)
    rows = neighbour_rows(page, "cbow")
    assert [r[1] for r in rows] == [w for w, _ in expected]
    for row, (_, cosine) in zip(rows, expected):
        assert abs(float(row[2]) - cosine) <= 2e-3
    note = page.inner_text("#neighbours-cbow .note")
    assert "composed" in note and "“孙大圣” is not in the vocabulary; vector composed from its characters (2 of 3 known)" in note
    assert "is not among the 9 words of this model" in page.inner_text("#neighbours-skipgram")
    assert neighbour_rows(page, "skipgram") == []
    # on CBOW's map the composed query is placed and ringed with its neighbours; skip-gram has nothing to ring
    marks = page.evaluate("w2vExplorer.marks(0)")
    assert marks["query"] == ["孙大圣"] and sorted(marks["neighbours"]) == sorted(w for w, _ in expected)
    assert page.evaluate("w2vExplorer.marks(1)") == {"query": [], "neighbours": [], "added": []}
    # the composed alias name 行者 is a point of its own: hover names it as composed
    point = page.evaluate("w2vExplorer.screenPoint(0, '行者')")
    page.mouse.move(point["x"], point["y"])
    assert page.inner_text("#tooltip") == "行者 · composed"
    # an analogy may use a composed word too
    for box, word in zip("abc", ["孙大圣", "妖精", "唐僧"]):
        page.fill(f"#analogy-{box}", word)
    page.click("#analogy-form button")
    got = page.eval_on_selector_all("#analogy-cbow tbody tr", "rows => rows.map(r => r.cells[1].textContent)")
    assert got == [w for w, _ in kv.most_similar(["孙大圣", "唐僧"], ["妖精"], topn=3)]
    assert "Not in this model: 孙大圣" in page.inner_text("#analogy-skipgram")


def random_page(tmp_path: Path, n: int = 1500, map_words: int = 100) -> tuple[Path, KeyedVectors, list[list[str]]]:
    rng = np.random.default_rng(3)
    words = [f"w{i:04d}" for i in range(n)]
    kv = KeyedVectors(words, rng.normal(size=(n, 16)).astype(np.float32))
    groups = [words[500:503], words[700:703], words[900:903]]
    data = explorer_data([("cbow", kv)], {w: n - i for i, w in enumerate(words)}, groups, "random",
                         topn=10, map_words=map_words)
    page = tmp_path / "explorer.html"
    page.write_text(render_explorer(data), encoding="utf-8")
    return page, kv, groups


def overlapping(labels: list[dict]) -> list[tuple[str, str]]:
    return [(a["word"], b["word"]) for n, a in enumerate(labels) for b in labels[n + 1:]
            if a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]]


def test_map_labels_what_matters_without_overlaps(tmp_path, open_page) -> None:
    page_path, kv, groups = random_page(tmp_path)
    page = open_page(page_path)
    labels = page.evaluate("w2vExplorer.labels(0)")
    words = {label["word"] for label in labels}
    assert overlapping(labels) == []
    assert 15 <= len(labels) <= 30 + 9  # a few frequent words and the alias groups, not all 109 points
    assert len(words & {w for g in groups for w in g}) >= 6  # most alias words find room
    page.select_option("#labels", "all")
    assert len(page.evaluate("w2vExplorer.labels(0)")) == 109  # every point, overlaps and all
    page.select_option("#labels", "auto")
    point = page.evaluate("w2vExplorer.screenPoint(0, 'w0000')")
    page.mouse.move(point["x"], point["y"])
    page.mouse.wheel(0, -924)  # 4x
    zoomed = page.evaluate("w2vExplorer.labels(0)")
    assert overlapping(zoomed) == []


def test_a_query_s_neighbours_are_all_placed_ringed_and_labelled(tmp_path, open_page) -> None:
    page_path, kv, _ = random_page(tmp_path)
    page = open_page(page_path)
    page.fill("#query", "w1200")  # not on the map, nor are most of its neighbours
    page.press("#query", "Enter")
    expected = [w for w, _ in kv.most_similar("w1200", topn=10)]
    marks = page.evaluate("w2vExplorer.marks(0)")
    assert marks["query"] == ["w1200"] and sorted(marks["neighbours"]) == sorted(expected)
    assert len(set(marks["added"]) - {"w1200"}) >= 5  # neighbours the map did not hold
    labels = page.evaluate("w2vExplorer.labels(0)")
    assert {"w1200", *expected} <= {label["word"] for label in labels}
    assert overlapping([l for l in labels if l["word"] not in expected and l["word"] != "w1200"]) == []
    # each added point sits where the map's own PCA puts it: the screen is an affine image of the map
    data = page_data(page_path)["models"][0]["map"]
    pca = data["pca"]
    project = lambda w: (kv.get_vector(w, norm=True) - np.array(pca["mean"])) @ np.array(pca["axes"]).T  # noqa: E731
    (a, b) = [page.evaluate(f"w2vExplorer.screenPoint(0, '{w}')") for w in ("w0001", "w0050")]
    (pa, pb) = project("w0001"), project("w0050")
    scale = (b["x"] - a["x"]) / (pb[0] - pa[0])
    for word in marks["added"]:
        at, p = page.evaluate(f"w2vExplorer.screenPoint(0, '{word}')"), project(word)
        assert at["x"] == pytest.approx(a["x"] + scale * (p[0] - pa[0]), abs=1.5)
        assert at["y"] == pytest.approx(a["y"] - scale * (p[1] - pa[1]), abs=1.5)
    page.select_option("#labels", "query")
    assert sorted(l["word"] for l in page.evaluate("w2vExplorer.labels(0)")) == sorted(["w1200", *expected])
