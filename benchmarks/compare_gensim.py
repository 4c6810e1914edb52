"""Train gensim's Word2Vec and ours on the same segmented corpus, in one run, and compare.

For each model (CBOW, skip-gram) it prints training seconds, words/s (in-vocabulary corpus words
per second, as gensim and the C tool count them), alias hit@10 and MRR on the alias groups, and
our/gensim ratios. Shared hyperparameters: vector_size, window, negative, min_count, sample,
epochs, seed; the rest (alpha, batch size, ...) come from our config (gensim keeps its defaults).

    python benchmarks/compare_gensim.py                         # CPU, results/tokens.txt, 20 epochs
    python benchmarks/compare_gensim.py --rounds 3              # medians of 3 alternating runs each
    python benchmarks/compare_gensim.py --device cuda --repeat 10 --skip-gensim
    python benchmarks/compare_gensim.py --models cbow --epochs 5 --set batch_size=2048

Runs without gensim (its rows are then "n/a") and without jieba or snakemake, so it also runs on
a GPU machine (needs results/tokens.txt there). `--gensim-wps` lets you enter a CPU figure measured
elsewhere to get GPU ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tokens", default=str(REPO / "results/tokens.txt"), help="segmented corpus (w2v clean output)")
    p.add_argument("--config", default=str(REPO / "config/config.yaml"), help="config whose train section we use")
    p.add_argument("--aliases", default=str(REPO / "data/eval/xiyouji_aliases.txt"))
    p.add_argument("--models", nargs="+", default=["cbow", "skipgram"], choices=["cbow", "skipgram"])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--repeat", type=int, default=1, help="repeat the corpus N times (min_count scales with it)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    p.add_argument("--workers", type=int, default=2,
                   help="gensim's worker threads and ours (train.workers, Hogwild processes on the CPU)")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads for ours (set before NumPy loads)")
    p.add_argument("--rounds", type=int, default=1,
                   help="train each side N times, alternating ours and gensim so machine noise hits both "
                        "alike; the table shows medians (seconds, words/s and gensim's scores)")
    p.add_argument("--skip-gensim", action="store_true", help="train only ours")
    p.add_argument("--gensim-wps", type=float, nargs="*", default=None,
                   help="gensim words/s measured elsewhere, one per model, for the ratio when gensim is skipped")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one of our train settings (JSON value), e.g. batch_size=4096")
    p.add_argument("--json", default=None, help="also write the results as JSON here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    sys.path.insert(0, str(REPO / "src"))
    import logging  # noqa: PLC0415

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        import yaml  # noqa: PLC0415

        config = yaml.safe_load(Path(args.config).read_text(encoding="utf-8"))
    except ImportError:  # a bare GPU machine: our defaults (w2v.train.DEFAULTS), window 5, min_count 3
        print("note: PyYAML is missing, using the built-in defaults instead of", args.config)
        config = {}
    min_count = int(config.get("vocab", {}).get("min_count", 3))
    window = int(config.get("pairs", {}).get("window", 5))
    seed = int(config.get("seed", 1))
    rows = []
    with tempfile.TemporaryDirectory(prefix="compare_gensim.") as tmp:
        tmp = Path(tmp)
        tokens = prepare_tokens(Path(args.tokens), args.repeat, tmp)
        vocab_path, pairs = prepare_pairs(tokens, min_count * args.repeat, window, seed, tmp)
        for i, model in enumerate(args.models):
            settings = model_settings(config, model, args)
            ours_runs, their_runs = [], []
            for _ in range(max(1, args.rounds)):
                ours_runs.append(run_ours(model, pairs[model], vocab_path, settings, args, tmp))
                if args.skip_gensim:
                    given = args.gensim_wps[i] if args.gensim_wps and i < len(args.gensim_wps) else None
                    their_runs.append({"impl": "gensim", "model": model, "seconds": None, "words_per_sec": given,
                                       "hit_at_10": None, "mrr": None, "note": "given" if given else "skipped"})
                else:
                    their_runs.append(run_gensim(model, tokens, settings, min_count * args.repeat, window,
                                                 ours_runs[-1]["n_tokens"], args))
            rows += [median_row(their_runs), median_row(ours_runs)]
    print_table(rows, args)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


def prepare_tokens(tokens: Path, repeat: int, tmp: Path) -> Path:
    if not tokens.exists():
        sys.exit(f"error: {tokens} does not exist; run `snakemake --cores 4 results/tokens.txt` first")
    if repeat == 1:
        return tokens
    out = tmp / "tokens.txt"
    text = tokens.read_text(encoding="utf-8")
    with open(out, "w", encoding="utf-8") as handle:
        for _ in range(repeat):
            handle.write(text)
    return out


def prepare_pairs(tokens: Path, min_count: int, window: int, seed: int, tmp: Path) -> tuple[Path, dict]:
    """Vocabulary and pairs for `tokens`, built with the pipeline's own code (timed separately)."""
    from w2v.pairs import write_pairs  # noqa: PLC0415
    from w2v.vocab import load_vocab, make_vocab  # noqa: PLC0415

    vocab_path = tmp / "vocab.tsv"
    make_vocab(tokens, vocab_path, min_count=min_count)
    pairs = {"cbow": tmp / "cbow.parquet", "skipgram": tmp / "skipgram.parquet"}
    write_pairs(tokens, load_vocab(vocab_path), pairs["cbow"], pairs["skipgram"], window, seed)
    return vocab_path, pairs


def model_settings(config: dict, model: str, args: argparse.Namespace) -> dict:
    section = dict(config.get("train") or {})
    values = {k: v for k, v in section.items() if k not in ("cbow", "skipgram")}
    values.update(section.get(model) or {})
    values["seed"] = int(config.get("seed", 1))
    values["epochs"] = args.epochs
    values["workers"] = args.workers
    for item in args.set:
        key, _, raw = item.partition("=")
        values[key] = json.loads(raw) if raw[:1] in "0123456789-[{\"tfn" else raw
    values.pop("device", None)
    return values


def alias_scores(keys: list[str], vectors, aliases: str) -> dict:
    from w2v.evaluation import alias_metrics, load_alias_groups  # noqa: PLC0415
    from w2v.vectors import KeyedVectors  # noqa: PLC0415

    m = alias_metrics(KeyedVectors(keys, vectors), load_alias_groups(aliases))
    return {"hit_at_10": m["hit_at_10"], "mrr": m["mrr"]}


def run_ours(model: str, pairs: Path, vocab_path: Path, settings: dict, args: argparse.Namespace, tmp: Path) -> dict:
    from w2v.train import train  # noqa: PLC0415
    from w2v.vectors import KeyedVectors  # noqa: PLC0415

    vec, hist = tmp / f"{model}.vec", tmp / f"{model}.history.json"
    history = train(model, pairs, vocab_path, settings, vec, hist, device=args.device)
    kv = KeyedVectors.load_word2vec_format(vec)
    device = history["device"] + (f" x{settings['workers']}" if history["device"] == "cpu" else "")
    return {"impl": "ours", "model": model, "device": device, "seconds": history["train_seconds"],
            "words_per_sec": history["words_per_sec"], "n_tokens": history["n_tokens"],
            **alias_scores(kv.index_to_key, kv.vectors, args.aliases), "settings": settings}


def run_gensim(model: str, tokens: Path, settings: dict, min_count: int, window: int, n_tokens: int,
               args: argparse.Namespace) -> dict:
    try:
        from gensim.models import Word2Vec  # noqa: PLC0415
    except ImportError:
        return {"impl": "gensim", "model": model, "seconds": None, "words_per_sec": None,
                "hit_at_10": None, "mrr": None, "note": "gensim not installed"}
    sentences = [line.split() for line in tokens.read_text(encoding="utf-8").splitlines() if line]
    w2v = Word2Vec(vector_size=settings.get("vector_size", 100), window=window, negative=settings.get("negative", 5),
                   min_count=min_count, sample=settings.get("sample", 1e-3), sg=int(model == "skipgram"),
                   cbow_mean=1, workers=args.workers, seed=settings["seed"])
    w2v.build_vocab(sentences)
    start = time.perf_counter()
    w2v.train(sentences, total_examples=len(sentences), epochs=args.epochs)
    seconds = time.perf_counter() - start
    return {"impl": "gensim", "model": model, "device": f"cpu x{args.workers}", "seconds": seconds,
            "words_per_sec": n_tokens * args.epochs / seconds,
            **alias_scores(list(w2v.wv.index_to_key), w2v.wv.vectors, args.aliases)}


def median_row(runs: list[dict]) -> dict:
    """One row for several runs of one side: the median of each figure, plus every run's words/s."""
    import statistics  # noqa: PLC0415

    row = dict(runs[0])
    for key in ("seconds", "words_per_sec", "hit_at_10", "mrr"):
        values = [r[key] for r in runs if r.get(key) is not None]
        row[key] = statistics.median(values) if values else None
    if len(runs) > 1:
        row["rounds"] = [{k: r.get(k) for k in ("seconds", "words_per_sec", "hit_at_10", "mrr")} for r in runs]
    return row


def _fmt(x: float | None, spec: str) -> str:
    return "n/a" if x is None else format(x, spec)


def print_table(rows: list[dict], args: argparse.Namespace) -> None:
    rounds = f", median of {args.rounds} alternating rounds" if args.rounds > 1 else ""
    print(f"\n{args.epochs} epochs, corpus x{args.repeat}, ours on {args.device} ({args.threads} BLAS thread(s)), "
          f"workers {args.workers}{rounds}\n")
    print("| model | impl | device | seconds | words/s | alias hit@10 | alias MRR |")
    print("|---|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['impl']} | {r.get('device', '')} | {_fmt(r['seconds'], '.1f')} | "
              f"{_fmt(r['words_per_sec'], ',.0f')} | {_fmt(r['hit_at_10'], '.3f')} | {_fmt(r['mrr'], '.3f')} |")
    for r in rows:
        if "rounds" in r:
            each = ", ".join(_fmt(x["words_per_sec"], ",.0f") for x in r["rounds"])
            print(f"{r['model']} {r['impl']} words/s per round: {each}")
    print("\n| model | words/s ours/gensim | MRR ours/gensim | hit@10 ours/gensim |")
    print("|---|---:|---:|---:|")
    for g, o in zip(rows[0::2], rows[1::2]):
        def ratio(key):
            return o[key] / g[key] if o.get(key) is not None and g.get(key) else None

        print(f"| {o['model']} | {_fmt(ratio('words_per_sec'), '.2f')} | {_fmt(ratio('mrr'), '.2f')} | "
              f"{_fmt(ratio('hit_at_10'), '.2f')} |")


if __name__ == "__main__":
    sys.exit(main())
