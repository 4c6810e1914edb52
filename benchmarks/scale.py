"""How the pipeline scales with the corpus: per-rule time, time per million tokens, peak memory, disk.

Makes corpora of about 1 M, 10 M and 100 M tokens from the default novel (repeated; with
`--variant shifted`, each copy's CJK characters shifted so that every copy brings new words and the
vocabulary grows with the corpus), runs the workflow on each in a scratch folder up to one CBOW epoch
(`results/cbow.vec`, `train.epochs: 1`), and prints one table per corpus from Snakemake's benchmark
files: per rule the jobs, their summed wall time, seconds per million tokens and the largest job's
peak RSS; then the disk each stage wrote and the end-to-end wall time.

    python benchmarks/scale.py                                  # 1M, 10M, 100M tokens, repeated novel
    python benchmarks/scale.py --tokens 1e6 1e7 --variant shifted
    python benchmarks/scale.py --tokens 1e6 --cores 2 --json scale.json

Shards follow the corpus size (`--shard-mb` of raw text per shard, at least `--cores`), so every
per-shard job gets the same amount of work whatever the corpus size and its memory should stay flat.
Ratios between sizes are what to read; absolute figures swing with the machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
NOVEL = REPO / "data" / "raw" / "xiyouji.txt"
NOVEL_TOKENS = 369_202  # clean tokens of one copy of the novel (results/corpus.json of the default run)
CJK_FIRST, CJK_SIZE = 0x4E00, 0x9FFF - 0x4E00 + 1
STAGES = {  # what each stage writes, for the disk column
    "segment": ["results/segmented"],
    "clean": ["results/tokens"],
    "count": ["results/counts"],
    "vocab": ["results/vocab.tsv", "results/corpus.json"],
    "pairs": ["results/pairs/cbow", "results/pairs/skipgram"],
    "train": ["results/cbow.vec"],
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tokens", type=float, nargs="+", default=[1e6, 1e7, 1e8], help="corpus sizes in tokens")
    p.add_argument("--variant", choices=["repeat", "shifted"], default="repeat",
                   help="repeat the novel, or shift each copy's characters (vocabulary grows with size)")
    p.add_argument("--shard-mb", type=float, default=32.0, help="raw text per shard, in MB")
    p.add_argument("--cores", type=int, default=os.cpu_count() or 2, help="snakemake --cores")
    p.add_argument("--workdir", default=str(REPO / "results" / "scale"), help="scratch folder (kept)")
    p.add_argument("--json", default=None, help="also write the measurements as JSON here")
    return p.parse_args(argv)


def shift_table(copy: int) -> dict[int, int]:
    """str.translate table moving CJK ideographs by a copy-dependent offset (0 for copy 0)."""
    offset = (copy * 1009) % CJK_SIZE
    return {CJK_FIRST + i: CJK_FIRST + (i + offset) % CJK_SIZE for i in range(CJK_SIZE)} if offset else {}


def make_corpus(path: Path, tokens: float, variant: str) -> int:
    """Write about `tokens` tokens of the novel to `path`; return the number of copies."""
    text = NOVEL.read_text(encoding="utf-8")
    copies = max(1, round(tokens / NOVEL_TOKENS))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file() and path.with_suffix(".copies").read_text() == f"{copies} {variant}":
        return copies
    with open(path, "w", encoding="utf-8") as out:
        for copy in range(copies):
            out.write(text.translate(shift_table(copy)) if variant == "shifted" else text)
    path.with_suffix(".copies").write_text(f"{copies} {variant}")
    return copies


def prepare_workdir(root: Path, corpus: Path, shard_mb: float) -> None:
    """The repository's workflow in `root`, configured for `corpus`, one CBOW epoch."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for item in ("Snakefile", "workflow", "config"):
        src = REPO / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / item)
    (root / "data").mkdir()
    shutil.copytree(REPO / "data" / "eval", root / "data" / "eval")
    shutil.copy(REPO / "data" / "userdict.txt", root / "data" / "userdict.txt")
    overrides = {"corpus": str(corpus), "segment": {"shard_mb": shard_mb}, "train": {"epochs": 1, "device": "cpu"}}
    (root / "config" / "scale.yaml").write_text(yaml.safe_dump(overrides), encoding="utf-8")


def read_benchmarks(root: Path) -> dict[str, list[dict[str, float]]]:
    """Snakemake's benchmark rows by rule (the folder or file name under results/benchmarks)."""
    jobs: dict[str, list[dict[str, float]]] = defaultdict(list)
    base = root / "results" / "benchmarks"
    for tsv in sorted(base.rglob("*.tsv")):
        rel = tsv.relative_to(base)
        rule = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        with open(tsv, encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        for row in rows[-1:]:
            jobs[rule].append({"s": float(row["s"]), "max_rss": float(row["max_rss"] or 0)})
    return jobs


def disk_mb(root: Path, paths: list[str]) -> float:
    total = 0
    for rel in paths:
        path = root / rel
        files = [path] if path.is_file() else path.rglob("*") if path.is_dir() else []
        total += sum(f.stat().st_size for f in files if f.is_file())
    return total / 1e6


def run_one(tokens: float, args: argparse.Namespace) -> dict:
    work = Path(args.workdir)
    corpus = work / "corpora" / f"{args.variant}-{tokens:.0e}.txt"
    copies = make_corpus(corpus, tokens, args.variant)
    mb = corpus.stat().st_size / 1e6
    shard_mb = min(args.shard_mb, mb / args.cores)  # a shard per core at least
    shards = max(1, round(mb / shard_mb))
    root = work / f"run-{args.variant}-{tokens:.0e}"
    prepare_workdir(root, corpus.resolve(), shard_mb)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(args.cores), "results/cbow.vec",
           "--configfile", "config/scale.yaml", "--quiet", "rules"]
    t0 = time.perf_counter()
    result = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if result.returncode != 0:
        sys.exit(f"snakemake failed on {corpus}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    stats = json.loads((root / "results" / "corpus.json").read_text(encoding="utf-8"))
    history = json.loads((root / "results" / "cbow.history.json").read_text(encoding="utf-8"))
    rules = {}
    for rule, jobs in read_benchmarks(root).items():
        seconds = sum(j["s"] for j in jobs)
        rules[rule] = {
            "jobs": len(jobs), "seconds": seconds, "s_per_m_tokens": seconds / (stats["tokens"] / 1e6),
            "max_rss_mb": max(j["max_rss"] for j in jobs), "disk_mb": disk_mb(root, STAGES.get(rule, [])),
        }
    return {
        "variant": args.variant, "copies": copies, "raw_mb": mb, "shards": shards, "tokens": stats["tokens"],
        "vocab_words": stats["vocab_words"], "wall_s": wall, "cbow_words_per_sec": history["words_per_sec"],
        "rules": rules,
    }


def print_table(run: dict) -> None:
    print(f"\n### {run['tokens'] / 1e6:.1f} M tokens ({run['variant']}, {run['copies']} copies, "
          f"{run['raw_mb']:.0f} MB raw, {run['shards']} shards, {run['vocab_words']:,} words)\n")
    print("| rule | jobs | seconds (sum) | s per M tokens | largest job's peak RSS (MB) | disk (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for rule, r in run["rules"].items():
        print(f"| {rule} | {r['jobs']} | {r['seconds']:.1f} | {r['s_per_m_tokens']:.2f} | "
              f"{r['max_rss_mb']:.0f} | {r['disk_mb']:.0f} |")
    print(f"\nEnd to end (text stages + 1 CBOW epoch): {run['wall_s']:.0f} s wall; "
          f"CBOW {run['cbow_words_per_sec'] / 1e6:.2f} M words/s.")


def print_ratios(runs: list[dict]) -> None:
    """Per rule: time per token and peak RSS of the largest corpus against the one 10x smaller."""
    if len(runs) < 2:
        return
    small, large = runs[-2], runs[-1]
    scale = large["tokens"] / small["tokens"]
    print(f"\n### {large['tokens'] / 1e6:.0f} M against {small['tokens'] / 1e6:.0f} M tokens ({scale:.1f}x the corpus)\n")
    print("| rule | time per token (ratio; target <= 1.3) | peak RSS (ratio; target <= 1.25) |")
    print("|---|---:|---:|")
    for rule in large["rules"]:
        if rule not in small["rules"]:
            continue
        a, b = small["rules"][rule], large["rules"][rule]
        print(f"| {rule} | {b['s_per_m_tokens'] / a['s_per_m_tokens']:.2f} | {b['max_rss_mb'] / max(a['max_rss_mb'], 1):.2f} |")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    runs = []
    for tokens in sorted(args.tokens):
        print(f"running {tokens:.0e} tokens ({args.variant}) ...", file=sys.stderr, flush=True)
        run = run_one(tokens, args)
        runs.append(run)
        print_table(run)
    print_ratios(runs)
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
