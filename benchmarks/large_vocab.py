"""Large vocabularies downstream: vector file IO and queries at a million words, against gensim.

Makes N synthetic Chinese-like words (1 to 4 characters drawn from 3,500 CJK code points, so keys
share characters as real ones do) with float32 vectors, then times, ours and gensim's in the same
run: writing and reading word2vec text and binary files, and loading the text file plus one
`most_similar` query. Prints seconds and gensim/ours ratios (above 1: ours is faster), then our
own figures with no gensim peer: spelling suggestions for an unknown word (`w2v neighbors`),
alias retrieval and analogies.

    python benchmarks/large_vocab.py                      # 1,000,000 x 100
    python benchmarks/large_vocab.py --words 2000000
    python benchmarks/large_vocab.py --words 20000 --skip-gensim
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from w2v.evaluation import alias_metrics, predict_analogies  # noqa: E402
from w2v.vectors import KeyedVectors  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--words", type=int, default=1_000_000, help="vocabulary size (default 1,000,000)")
    p.add_argument("--dim", type=int, default=100, help="vector dimension (default 100)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-gensim", action="store_true", help="time ours only")
    p.add_argument("--json", help="also write the rows here")
    return p.parse_args(argv)


def make_keys(n: int, rng: np.random.Generator) -> list[str]:
    """n distinct words of 1-4 CJK characters, mostly two (as in segmented Chinese text)."""
    chars = np.array([chr(c) for c in range(0x4E00, 0x4E00 + 3500)])
    keys: dict[str, None] = {}
    while len(keys) < n:
        m = 2 * (n - len(keys)) + 1000
        lengths = rng.choice([1, 2, 3, 4], size=m, p=[0.02, 0.6, 0.28, 0.1])
        picks = chars[rng.integers(0, len(chars), size=(m, 4))]
        for row, length in zip(picks, lengths):
            keys["".join(row[:length])] = None
            if len(keys) == n:
                break
    return list(keys)


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rng = np.random.default_rng(args.seed)
    keys = make_keys(args.words, rng)
    vectors = rng.standard_normal((args.words, args.dim), dtype=np.float32) * np.float32(0.3)
    ours = KeyedVectors(keys, vectors)
    gensim_kv = None
    if not args.skip_gensim:
        try:
            from gensim.models import KeyedVectors as GensimKV
        except ImportError:
            print("gensim is not installed: timing ours only")
        else:
            gensim_kv = GensimKV(args.dim)
            gensim_kv.add_vectors(keys, vectors)
    query = keys[len(keys) // 3]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for binary in (False, True):
            kind = "binary" if binary else "text"
            path, theirs = Path(tmp) / f"ours.{kind}", Path(tmp) / f"gensim.{kind}"
            row = {"step": f"write {kind}"}
            row["ours"], _ = timed(lambda: ours.save_word2vec_format(path, binary=binary))
            if gensim_kv is not None:
                row["gensim"], _ = timed(lambda: gensim_kv.save_word2vec_format(str(theirs), binary=binary))
            rows.append(row)
            row = {"step": f"read {kind}"}
            row["ours"], back = timed(lambda: KeyedVectors.load_word2vec_format(path, binary=binary))
            assert back.index_to_key == keys and np.array_equal(back.vectors, vectors), "round trip differs"
            del back
            if gensim_kv is not None:
                row["gensim"], g = timed(lambda: GensimKV.load_word2vec_format(str(path), binary=binary))
                assert np.array_equal(g.vectors, vectors), "gensim reads our file differently"
                del g
            rows.append(row)
            print(f"{kind}: our file {path.stat().st_size / 1e6:,.0f} MB", flush=True)
        text = Path(tmp) / "ours.text"
        row = {"step": "load text + 1 most_similar"}
        row["ours"], _ = timed(lambda: KeyedVectors.load_word2vec_format(text).most_similar(query, topn=10))
        if gensim_kv is not None:
            row["gensim"], _ = timed(lambda: GensimKV.load_word2vec_format(str(text)).most_similar(query, topn=10))
        rows.append(row)

    only = {}
    only["most_similar, unit vectors cached"], _ = timed(lambda: ours.most_similar(query, topn=10))
    unknown = keys[7][::-1] + "乙"
    only["closest_keys (first query, builds the index)"], _ = timed(lambda: ours.closest_keys(unknown))
    only["closest_keys (next query)"], _ = timed(lambda: ours.closest_keys(keys[11][::-1]))
    groups = [list(pair) for pair in zip(keys[:400:2], keys[1:400:2])]
    only["alias_metrics, 400 words"], _ = timed(lambda: alias_metrics(ours, groups))
    questions = [tuple(keys[i : i + 4]) for i in range(0, 400, 4)]
    only["analogies, 100 questions, restrict_vocab 300k"], _ = timed(lambda: predict_analogies(ours, questions))

    print(f"\n{args.words:,} words x {args.dim}, float32\n")
    print("| step | ours s | gensim s | gensim / ours |")
    print("|---|---:|---:|---:|")
    for row in rows:
        g = row.get("gensim")
        ratio = f"{g / row['ours']:.2f}" if g else "n/a"
        print(f"| {row['step']} | {row['ours']:.2f} | {f'{g:.2f}' if g else 'n/a'} | {ratio} |")
    print("\n| ours only | s |\n|---|---:|")
    for name, seconds in only.items():
        print(f"| {name} | {seconds:.3f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "ours_only": only}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
