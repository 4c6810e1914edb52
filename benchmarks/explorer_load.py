"""How big the explorer page is and how soon it answers, opened in headless Chromium.

Opens the page (default results/explorer.html) several times in a fresh Chromium profile and prints
its size against the 10 MB budget, the median time from navigation start until the page answers
input (its script has decoded the vectors and drawn the maps) against the 2 s budget, and the median
time of one neighbour query over both models. Needs Playwright and a Chromium (Debian's `chromium`,
or the path in W2V_CHROMIUM).

    python benchmarks/explorer_load.py results/explorer.html --runs 5 --word 孙悟空
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SIZE_BUDGET_MB, READY_BUDGET_MS = 10.0, 2000.0


def measure(page_path: Path, runs: int, word: str) -> dict:
    """Size in MB, and per run: ready time and query time in milliseconds."""
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("W2V_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("no Chromium found: apt-get install chromium, or set W2V_CHROMIUM")
    ready, query = [], []
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(profile, executable_path=chromium, args=FLAGS, headless=True)
        for _ in range(runs):
            page = context.new_page()
            page.goto(page_path.resolve().as_uri())
            page.wait_for_selector("body[data-ready=true]", timeout=60_000)
            ready.append(page.evaluate("w2vExplorer.readyMs"))
            query.append(page.evaluate("w => { const t = performance.now(); w2vExplorer.query(w); return performance.now() - t; }", word))
            page.close()
        context.close()
    return {"size_mb": page_path.stat().st_size / 1e6, "ready_ms": ready, "query_ms": query}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", nargs="?", default="results/explorer.html", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--word", default="孙悟空", help="word to query once per run")
    args = parser.parse_args(argv)
    if not args.page.is_file():
        print(f"{args.page} not found: build it with `snakemake --cores 4 results/similarity_report.md`", file=sys.stderr)
        return 2
    got = measure(args.page, args.runs, args.word)
    ready, query = statistics.median(got["ready_ms"]), statistics.median(got["query_ms"])
    print(f"page: {args.page}, {got['size_mb']:.2f} MB ({got['size_mb'] / SIZE_BUDGET_MB:.2f}x the {SIZE_BUDGET_MB:.0f} MB budget)")
    print(f"ready after {ready:.0f} ms, median of {args.runs} ({ready / READY_BUDGET_MS:.2f}x the {READY_BUDGET_MS:.0f} ms budget); "
          f"runs: {', '.join(f'{v:.0f}' for v in got['ready_ms'])}")
    print(f"one query ({args.word}, both models): {query:.1f} ms, median of {args.runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
