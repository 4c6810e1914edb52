"""Peak memory of the count merge per job, by distinct tokens and partitions (`vocab.count_partitions`).

Writes synthetic shards' counts files (as `w2v clean --counts` does) holding D distinct tokens of
three CJK characters: the `--frequent` most frequent in every shard with Zipf counts, every other
token in one shard only, counted once or twice (web text's long tail of rare tokens). Then runs, as
the workflow's jobs would and one at a time, `w2v count-merge` for every partition and
`w2v vocab --merged` (with `--stats` and `--chars`), each as a child process, and reports each
kind of job's largest peak RSS (`os.wait4`'s ru_maxrss) and summed wall time. `--baseline` also runs
the in-memory merge (`w2v vocab` on the counts files alone: one job holding every distinct token).

    python benchmarks/count_merge.py --distinct 2e6 5e6 --partitions 1 4 8 --baseline
    python benchmarks/count_merge.py --distinct 2e7 --partitions 8 16 --json merge.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from w2v.data.counts import ShardCounts, write_counts  # noqa: E402

CJK_FIRST, CJK_SIZE = 0x4E00, 3500


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--distinct", type=float, nargs="+", default=[2e6], help="distinct tokens of the corpus")
    p.add_argument("--partitions", type=int, nargs="+", default=[1, 8], help="count_partitions to try")
    p.add_argument("--shards", type=int, default=16, help="counts files (shards)")
    p.add_argument("--frequent", type=int, default=100_000, help="tokens present in every shard")
    p.add_argument("--min-count", type=int, default=3)
    p.add_argument("--max-vocab-size", default="none", help="vocab.max_vocab_size (none for no cap)")
    p.add_argument("--baseline", action="store_true", help="also run the in-memory merge (one job)")
    p.add_argument("--workdir", default=str(REPO / "results" / "count_merge_bench"), help="scratch folder")
    p.add_argument("--json", default=None, help="also write the rows as JSON here")
    return p.parse_args(argv)


def tokens(ids: np.ndarray) -> pa.Array:
    """Token `i` as three CJK characters (the digits of i in base 3,500), built as UTF-8 bytes at once."""
    digits = np.stack([ids // CJK_SIZE**2, ids // CJK_SIZE % CJK_SIZE, ids % CJK_SIZE], axis=1) + CJK_FIRST
    utf8 = np.stack([0xE0 | digits >> 12, 0x80 | (digits >> 6) & 0x3F, 0x80 | digits & 0x3F], axis=2)
    data = pa.py_buffer(utf8.astype(np.uint8).tobytes())
    offsets = pa.py_buffer((np.arange(len(ids) + 1, dtype=np.int32) * 9).tobytes())
    return pa.StringArray.from_buffers(len(ids), offsets, data)


def write_shards(folder: Path, distinct: int, shards: int, frequent: int) -> list[Path]:
    """The shards' counts files of a corpus of `distinct` tokens (see the module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    common = np.arange(frequent, dtype=np.int64)
    for k in range(shards):
        rare = np.arange(frequent + k, distinct, shards, dtype=np.int64)
        ids = np.concatenate([common, rare])
        counts = np.concatenate([np.maximum(1, 1_000_000 // (common + 1) // shards), 1 + (rare % 3 == 0)])
        table = pa.table({"token": tokens(ids), "count": pa.array(counts, pa.int64())})
        paths.append(folder / f"shard-{k:03d}.parquet")
        write_counts(ShardCounts(table, sentences=len(ids), tokens=int(counts.sum())), paths[-1])
    return paths


# Linux gives an exec'd child the peak RSS of the process it was forked from as its own starting
# peak, so jobs are started from this small launcher, not from the benchmark's large process.
LAUNCHER = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))\n"
)


def run_job(args: list[str]) -> tuple[float, float]:
    """Run `w2v ARGS` as a child process; its wall seconds and peak RSS in MB."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", LAUNCHER, sys.executable, "-m", "w2v", *args],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    rss_kb, status = map(int, done.stdout.split())
    if status != 0:
        raise SystemExit(f"w2v {args[0]} failed:\n{done.stderr}")
    return seconds, rss_kb / 1024  # ru_maxrss is in KB on Linux


def measure(paths: list[Path], out: Path, parts: int, settings: list[str]) -> dict:
    """Every partition's merge, then the vocabulary from them: the largest RSS and summed time of each."""
    merged, merge_rss, merge_s = [], 0.0, 0.0
    for part in range(parts):
        merged.append(out / f"part-{part}.parquet")
        seconds, rss = run_job(["count-merge", *map(str, paths), "--partition", str(part),
                                "--partitions", str(parts), *settings, "-o", str(merged[-1])])
        merge_rss, merge_s = max(merge_rss, rss), merge_s + seconds
    vocab_s, vocab_rss = run_job(["vocab", *map(str, paths), "--merged", *map(str, merged), *settings,
                                  "-o", str(out / "vocab.tsv"), "--stats", str(out / "corpus.json"),
                                  "--chars", str(out / "chars.tsv")])
    return {"merge_jobs": parts, "merge_peak_mb": round(merge_rss), "merge_s": round(merge_s, 1),
            "vocab_peak_mb": round(vocab_rss), "vocab_s": round(vocab_s, 1)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = ["--min-count", str(args.min_count), "--max-vocab-size", args.max_vocab_size]
    rows = []
    for distinct in (int(d) for d in args.distinct):
        root = Path(args.workdir) / f"d{distinct}"
        start = time.perf_counter()
        paths = write_shards(root / "counts", distinct, args.shards, args.frequent)
        print(f"{distinct:,} distinct tokens: {args.shards} counts files in {time.perf_counter() - start:.0f} s",
              flush=True)
        reference = None
        if args.baseline:
            seconds, rss = run_job(["vocab", *map(str, paths), *settings, "-o", str(root / "one" / "vocab.tsv")])
            rows.append({"distinct": distinct, "partitions": "in-memory", "merge_jobs": 1, "merge_peak_mb": round(rss),
                         "merge_s": round(seconds, 1), "vocab_peak_mb": None, "vocab_s": None})
            reference = (root / "one" / "vocab.tsv").read_bytes()
            print(rows[-1], flush=True)
        for parts in args.partitions:
            out = root / f"p{parts}"
            rows.append({"distinct": distinct, "partitions": parts, **measure(paths, out, parts, settings)})
            if reference is not None and (out / "vocab.tsv").read_bytes() != reference:
                raise SystemExit(f"{parts} partitions gave another vocab.tsv than the in-memory merge")
            print(rows[-1], flush=True)
            shutil.rmtree(out)
        shutil.rmtree(root)
    print("\n| distinct tokens | partitions | largest merge job | merge jobs' time | vocab job | vocab job's time |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        vocab = "–" if r["vocab_peak_mb"] is None else f"{r['vocab_peak_mb']:,} MB"
        vocab_s = "–" if r["vocab_s"] is None else f"{r['vocab_s']} s"
        print(f"| {r['distinct']:,} | {r['partitions']} | {r['merge_peak_mb']:,} MB | {r['merge_s']} s "
              f"| {vocab} | {vocab_s} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
