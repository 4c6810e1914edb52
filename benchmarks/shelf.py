"""A growing shelf: adding a book reruns segmentation for that book only.

Makes a shelf of `--books` books (slices of the novel, each with its CJK characters shifted so the
books differ), runs the text stages (`snakemake text`) with one shard per book, adds one more book
and runs again. Prints per run the segment jobs, their summed wall time (Snakemake's benchmark
files) and the text they had to segment, so the second run's time can be set against the new book's
share of the shelf.

    python benchmarks/shelf.py                      # 30 books of 200 KB, then one more
    python benchmarks/shelf.py --books 30 --book-kb 200 --cores 2 --json shelf.json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml
from scale import NOVEL, REPO, prepare_workdir, shift_table


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--books", type=int, default=30, help="books on the shelf before the one added")
    p.add_argument("--book-kb", type=int, default=200, help="text per book, in KB")
    p.add_argument("--cores", type=int, default=2, help="snakemake --cores")
    p.add_argument("--workdir", default=str(REPO / "results" / "shelf"), help="scratch folder (replaced)")
    p.add_argument("--json", default=None, help="also write the measurements as JSON here")
    return p.parse_args(argv)


def write_book(path: Path, index: int, kb: int) -> int:
    """Book `index`: about `kb` KB of the novel's lines from a book-dependent start, characters
    shifted by the book's index. Returns its size in bytes."""
    lines = NOVEL.read_text(encoding="utf-8").splitlines(keepends=True)
    start = (index * 97) % len(lines)
    table = shift_table(index + 1)
    out, size = [], 0
    for line in (lines[start:] + lines[:start]):
        out.append(line.translate(table))
        size += len(out[-1].encode("utf-8"))
        if size >= kb * 1000:
            break
    path.write_text("".join(out), encoding="utf-8")
    return size


def run_text(root: Path, cores: int) -> dict:
    """`snakemake text` in `root`; the segment jobs it ran (benchmark files written since it started)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    start = time.time()
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(cores), "text", "--configfile",
           "config/scale.yaml", "--quiet", "rules"]
    subprocess.run(cmd, cwd=root, env=env, check=True)
    wall = time.time() - start
    seconds, jobs = 0.0, 0
    for tsv in (root / "results" / "benchmarks" / "segment").glob("*.tsv"):
        if tsv.stat().st_mtime >= start:
            with open(tsv, encoding="utf-8") as handle:
                seconds += float(next(csv.DictReader(handle, delimiter="\t"))["s"])
            jobs += 1
    return {"segment_jobs": jobs, "segment_s": round(seconds, 2), "wall_s": round(wall, 1)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path(args.workdir)
    shelf = root / "shelf"
    prepare_workdir(root, shelf.resolve(), args.book_kb / 1000)  # one shard per book
    shelf.mkdir()
    sizes = [write_book(shelf / f"book{i:03d}.txt", i, args.book_kb) for i in range(args.books)]
    config = yaml.safe_load((root / "config" / "scale.yaml").read_text(encoding="utf-8"))
    config["corpus"] = "shelf"
    (root / "config" / "scale.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    first = run_text(root, args.cores)
    added = write_book(shelf / f"book{args.books:03d}.txt", args.books, args.book_kb)
    second = run_text(root, args.cores)
    result = {"books": args.books, "book_kb": args.book_kb, "cores": args.cores,
              "first": {**first, "text_mb": round(sum(sizes) / 1e6, 2)},
              "second": {**second, "text_mb": round(added / 1e6, 2)}}
    result["time_ratio"] = round(second["segment_s"] / first["segment_s"], 4)
    result["text_ratio"] = round(added / sum(sizes), 4)
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
