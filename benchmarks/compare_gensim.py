"""Train gensim's Word2Vec, gensim's FastText and ours on the same segmented corpus, in one run, and compare.

For each model (CBOW, skip-gram) and seed it prints, for each side, training seconds, words/s
(in-vocabulary corpus words per second, as gensim and the C tool count them), alias hit@10 and MRR on
the alias groups, the public test sets (config `eval.analogy_sets` and `eval.word_pairs`: CA8 3CosAdd
accuracy and COS960 Spearman rho over the covered questions, with their count, as gensim's
`evaluate_word_analogies` / `evaluate_word_pairs` count them; for sides that compose vectors from
characters, also the figures with composed words) and OOV hit@10; then, per model, the mean and sample standard deviation of alias MRR over the seeds for both sides,
and our/gensim ratios of the means, of the standard deviations and of words/s; and the median
our/gensim ratio of per-group standard deviations over the alias groups both sides score in the same
band (`--per-group` prints every group's mean and std, to see which groups a spread comes from). Shared
hyperparameters: vector_size, window, negative, min_count, sample, epochs, seed; the rest (alpha,
batch size, ...) come from our config (gensim keeps its defaults, or takes `--gensim-set`).

    python benchmarks/compare_gensim.py                         # CPU, results/tokens/, 20 epochs
    python benchmarks/compare_gensim.py --rounds 3              # medians of 3 alternating runs each
    python benchmarks/compare_gensim.py --corpus data/raw-extra/shuihuzhuan.txt \
        --user-dict data/userdict_shuihuzhuan.txt --aliases data/eval/shuihuzhuan_aliases.txt --seeds 1 2 3
    python benchmarks/compare_gensim.py --device cuda --repeat 10 --skip-gensim
    python benchmarks/compare_gensim.py --seeds 1 --skip-ours   # the gensim rows only
    python benchmarks/compare_gensim.py --models cbow --epochs 5 --set batch_size=2048
    python benchmarks/compare_gensim.py --models skipgram --gensim-set alpha=0.05   # gensim off its defaults

gensim's FastText (`--skip-fasttext` leaves it out) runs with `min_n=1, max_n=2` (a word's characters
and character pairs) and every other setting as gensim's Word2Vec here (`--fasttext-set` adds keywords).
Ours composes from characters when its training writes a chars file (`--set chars=cwe`).

OOV hit@10: each alias group (file order) holds out max(1, round(n / 3)) of its n names, drawn from
numpy's default_rng(seed) (one generator per seed, a permutation per group); their occurrences are
removed from the training tokens, as `min_count` drops a word, and every side trains once more on
them (same settings and seed). For each held-out name, the side's vector of it (composed from
characters where the side can) asks for its 10 nearest vocabulary words by cosine; a hit when one is
another name of its group. A side that cannot give the name a vector scores a miss; the figure is
hits / held-out names. `--skip-oov` skips these trainings.

`--corpus` takes a raw text and segments and cleans it with the pipeline's own functions (config
sections `segment` and `clean`) into a temporary token file; `--tokens` takes a token file as is.

Runs without gensim (its rows are then "n/a") and without jieba or snakemake, so it also runs on
a GPU machine (needs a token file there). `--gensim-wps` lets you enter a CPU figure measured
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
    source = p.add_mutually_exclusive_group()
    source.add_argument("--tokens", default=str(REPO / "results/tokens"),
                        help="clean token file, or a folder of them in name order (w2v clean output; "
                             "default results/tokens, the workflow's shards)")
    source.add_argument("--corpus", default=None,
                        help="raw text instead: segmented (jieba) and cleaned with w2v's functions into a temp file")
    p.add_argument("--user-dict", default=None,
                   help="jieba user dictionary for --corpus (default: the config's segment.user_dict; '' for none)")
    p.add_argument("--encoding", default=None, help="encoding of --corpus (default: the config's encoding)")
    p.add_argument("--config", default=str(REPO / "config/config.yaml"), help="config whose train section we use")
    p.add_argument("--aliases", default=str(REPO / "data/eval/xiyouji_aliases.txt"), help="alias groups to score")
    p.add_argument("--seeds", type=int, nargs="+", default=None,
                   help="train each model once per seed (default: the config's seed); the summary gives the "
                        "mean and sample standard deviation of alias MRR over them")
    p.add_argument("--models", nargs="+", default=["cbow", "skipgram"], choices=["cbow", "skipgram"])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--repeat", type=int, default=1, help="repeat the corpus N times (min_count scales with it)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    p.add_argument("--workers", type=int, default=2,
                   help="gensim's worker threads, and ours (train.workers, Hogwild processes on the CPU) where "
                        "the config does not set a model's own (skip-gram's override keeps 1)")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads for ours (set before NumPy loads)")
    p.add_argument("--rounds", type=int, default=1,
                   help="train each side N times, alternating ours and gensim so machine noise hits both "
                        "alike; the table shows medians (seconds, words/s and gensim's scores)")
    p.add_argument("--skip-gensim", action="store_true", help="train only ours")
    p.add_argument("--skip-ours", action="store_true", help="train only gensim's Word2Vec and FastText")
    p.add_argument("--skip-fasttext", action="store_true", help="leave gensim's FastText out")
    p.add_argument("--skip-oov", action="store_true", help="leave out OOV hit@10 (one more training per side)")
    p.add_argument("--analogy-sets", nargs="*", default=None, metavar="FILE",
                   help="analogy test sets to score (default: the config's eval.analogy_sets)")
    p.add_argument("--word-pairs", nargs="*", default=None, metavar="FILE",
                   help="word-pair test sets to score (default: the config's eval.word_pairs)")
    p.add_argument("--gensim-wps", type=float, nargs="*", default=None,
                   help="gensim words/s measured elsewhere, one per model, for the ratio when gensim is skipped")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one of our train settings (JSON value), e.g. batch_size=4096")
    p.add_argument("--gensim-set", action="append", default=[], metavar="KEY=VALUE",
                   help="pass one more keyword to gensim's Word2Vec (JSON value), e.g. alpha=0.05; the shared "
                        "settings (--set sample=0 and the like) already reach both sides")
    p.add_argument("--fasttext-set", action="append", default=[], metavar="KEY=VALUE",
                   help="pass one more keyword to gensim's FastText only (JSON value), e.g. bucket=200000")
    p.add_argument("--per-group", action="store_true",
                   help="also print each alias group's MRR over the seeds (mean and std, both sides), to see "
                        "which groups a spread comes from")
    p.add_argument("--json", default=None, help="also write the results as JSON here")
    args = p.parse_args(argv)
    # Parsed now, so a malformed one fails before the corpus is segmented or anything trains.
    args.our_options = parse_assignments(args.set)
    args.gensim_options = parse_assignments(args.gensim_set)
    args.fasttext_options = parse_assignments(args.fasttext_set)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    sys.path.insert(0, str(REPO / "src"))
    import logging  # noqa: PLC0415

    from w2v.errors import UserError  # noqa: PLC0415

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    import yaml  # noqa: PLC0415

    from w2v.config import with_defaults  # noqa: PLC0415

    config = with_defaults(yaml.safe_load(Path(args.config).read_text(encoding="utf-8")) or {})
    min_count, window = config["vocab"]["min_count"], config["pairs"]["window"]
    seeds = args.seeds or [config["seed"]]
    rows = []
    try:
        args.test_sets = load_test_sets(args, config)
        with tempfile.TemporaryDirectory(prefix="compare_gensim.") as tmp:
            tmp = Path(tmp)
            tokens = prepare_tokens(args, config, tmp)
            args.n_tokens = in_vocab_tokens(tokens, min_count * args.repeat)
            vocab_path, pairs = prepare_pairs(tokens, min_count * args.repeat, window, seeds[0], tmp)
            held_out = {}
            for i, model in enumerate(args.models):
                given = args.gensim_wps[i] if args.gensim_wps and i < len(args.gensim_wps) else None
                for seed in seeds:
                    settings = model_settings(config, model, args, seed)
                    found = compare_rounds(model, tokens, pairs[model], vocab_path, settings,
                                           min_count * args.repeat, window, given, args, tmp)
                    if not args.skip_oov:
                        if seed not in held_out:
                            held_out[seed] = prepare_held_out(tokens, args.aliases, seed, min_count * args.repeat,
                                                              window, tmp / f"oov-{seed}")
                        attach_oov(found, model, settings, held_out[seed], min_count * args.repeat, window, args)
                    rows += found
    except UserError as exc:
        sys.exit(f"error: {exc}")
    summary = summarize(rows)
    attach_group_spreads(summary, rows, args.aliases)
    print_table(rows, summary, args)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "summary": summary}, indent=2) + "\n", encoding="utf-8")
    return 0


def compare_rounds(model: str, tokens: Path, pairs: Path, vocab_path: Path, settings: dict, min_count: int,
                   window: int, given_wps: float | None, args: argparse.Namespace, tmp: Path) -> list[dict]:
    """gensim's row and ours for one model and seed: medians of --rounds runs, alternating the two sides."""
    runs = {"gensim": [], "fasttext": [], "ours": []}
    for _ in range(max(1, args.rounds)):
        if not args.skip_ours:
            runs["ours"].append(run_ours(model, pairs, vocab_path, settings, args, tmp))
        if args.skip_gensim:
            runs["gensim"].append({"impl": "gensim", "model": model, "seconds": None, "words_per_sec": given_wps,
                                   "hit_at_10": None, "mrr": None, "note": "given" if given_wps else "skipped"})
        else:
            runs["gensim"].append(run_gensim("gensim", model, tokens, settings, min_count, window, args))
            if not args.skip_fasttext:
                runs["fasttext"].append(run_gensim("fasttext", model, tokens, settings, min_count, window, args))
        done = ", ".join(f"{impl} MRR {_fmt(r[-1]['mrr'], '.3f')} {_fmt(r[-1]['words_per_sec'], ',.0f')} words/s"
                         for impl, r in runs.items() if r)
        print(f"{model} seed {settings['seed']}: {done}", file=sys.stderr, flush=True)
    return [{**median_row(r), "seed": settings["seed"]} for r in runs.values() if r]


def prepare_tokens(args: argparse.Namespace, config: dict, tmp: Path) -> Path:
    """The token file to train on: --tokens as is, or --corpus segmented and cleaned; repeated --repeat times."""
    if args.corpus:
        tokens = segment_corpus(Path(args.corpus), args, config, tmp)
    else:
        tokens = Path(args.tokens)
        if not tokens.exists():
            sys.exit(f"error: {tokens} does not exist; run `snakemake --cores 4 text` first "
                     "or pass a raw text with --corpus")
        if tokens.is_dir():  # the workflow's shards, joined in corpus order
            joined = tmp / "tokens.txt"
            joined.write_text("".join(p.read_text(encoding="utf-8") for p in sorted(tokens.glob("*.txt"))),
                              encoding="utf-8")
            tokens = joined
    if args.repeat == 1:
        return tokens
    out = tmp / "repeated.txt"
    text = tokens.read_text(encoding="utf-8")
    with open(out, "w", encoding="utf-8") as handle:
        for _ in range(args.repeat):
            handle.write(text)
    return out


def segment_corpus(corpus: Path, args: argparse.Namespace, config: dict, tmp: Path) -> Path:
    """Segment and clean `corpus` as the workflow's segment and clean rules do (one shard: same tokens)."""
    from w2v.text.clean import CleanOptions, clean_files  # noqa: PLC0415
    from w2v.text.corpus import ShardReader, corpus_files, even_ranges  # noqa: PLC0415
    from w2v.text.segment import make_tokenizer, write_segmented  # noqa: PLC0415
    from w2v.text.userdict import read_user_dict  # noqa: PLC0415

    segment = config.get("segment") or {}
    # the config's paths are relative to the repository, as the workflow runs there
    user_dict = args.user_dict
    if user_dict is None:
        user_dict = str(REPO / segment["user_dict"]) if segment.get("user_dict") else ""
    encoding = args.encoding or config.get("encoding", "utf-8")
    tokenizer = make_tokenizer(tmp / "jieba.cache", read_user_dict(user_dict) if user_dict else [])
    segmented, tokens = tmp / "segmented.txt", tmp / "tokens.txt"
    reader = ShardReader(even_ranges(corpus_files([corpus]), 1, 0), encoding)
    write_segmented(tokenizer, reader, segmented, hmm=bool(segment.get("hmm", True)))
    clean = config.get("clean") or {}
    clean_files([segmented], tokens, CleanOptions(digits=bool(clean.get("digits", False)),
                                                  latin=bool(clean.get("latin", True))))
    return tokens


def prepare_pairs(tokens: Path, min_count: int, window: int, seed: int, tmp: Path) -> tuple[Path, dict]:
    """Vocabulary and pairs for `tokens`, built with the pipeline's own code (timed separately)."""
    from w2v.data.chars import char_table, write_char_table  # noqa: PLC0415
    from w2v.data.pairs import write_pairs  # noqa: PLC0415
    from w2v.data.vocab import load_vocab, make_vocab  # noqa: PLC0415

    vocab_path = tmp / "vocab.tsv"
    vocab = make_vocab(tokens, vocab_path, min_count=min_count)
    write_char_table(char_table(vocab), tmp / "chars.tsv")  # beside the vocabulary, where training looks
    pairs = {"cbow": tmp / "cbow.parquet", "skipgram": tmp / "skipgram.parquet"}
    write_pairs(tokens, load_vocab(vocab_path), pairs["cbow"], pairs["skipgram"], window, seed)
    return vocab_path, pairs


def model_settings(config: dict, model: str, args: argparse.Namespace, seed: int) -> dict:
    from w2v.config import model_settings as config_settings  # noqa: PLC0415

    values = config_settings(config, model)
    values["seed"] = seed
    values["epochs"] = args.epochs
    values["workers"] = ((config.get("train") or {}).get(model) or {}).get("workers", args.workers)
    values.update(args.our_options)
    values.pop("device", None)
    return values


def parse_assignments(items: list[str]) -> dict:
    """KEY=VALUE strings as a dict, each value read as JSON where it looks like JSON, else as a string."""
    values = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            sys.exit(f"error: {item!r} is not KEY=VALUE")
        values[key] = json.loads(raw) if raw[:1] in "0123456789-[{\"tfn" else raw
    return values


def load_test_sets(args: argparse.Namespace, config: dict):
    """The public test sets to score: --analogy-sets / --word-pairs, else the config's (paths from the repository)."""
    from w2v.testsets import TestSets  # noqa: PLC0415

    ev = config.get("eval") or {}
    analogies = args.analogy_sets if args.analogy_sets is not None else [REPO / p for p in ev.get("analogy_sets", [])]
    pairs = args.word_pairs if args.word_pairs is not None else [REPO / p for p in ev.get("word_pairs", [])]
    return TestSets(analogies, pairs)


def scores(kv, args: argparse.Namespace) -> dict:
    """Alias hit@10, MRR and per-group MRR, and each test set's figures (vocabulary only and with characters)."""
    from w2v.evaluation import alias_metrics, load_alias_groups  # noqa: PLC0415

    m = alias_metrics(kv, load_alias_groups(args.aliases))
    sets = [{k: v for k, v in entry.items() if k != "path"} for entry in args.test_sets.scores(kv)]
    return {"hit_at_10": m["hit_at_10"], "mrr": m["mrr"], "group_mrr": [g["mrr"] for g in m["per_group"]],
            "test_sets": sets}


def train_ours(model: str, pairs: Path, vocab_path: Path, settings: dict, args: argparse.Namespace, tmp: Path):
    """Our vectors (with their chars file, when training writes one) and the training history."""
    from w2v.training.train import TrainFiles, train  # noqa: PLC0415
    from w2v.vectors import KeyedVectors  # noqa: PLC0415

    vec, hist = tmp / f"{model}.vec", tmp / f"{model}.history.json"
    history = train(model, TrainFiles(pairs=pairs, vocab=vocab_path, vec=vec, history=hist),
                    {**settings, "device": args.device})
    return KeyedVectors.load_word2vec_format(vec), history


def run_ours(model: str, pairs: Path, vocab_path: Path, settings: dict, args: argparse.Namespace, tmp: Path) -> dict:
    kv, history = train_ours(model, pairs, vocab_path, settings, args, tmp)
    device = history["device"] + (f" x{settings['workers']}" if history["device"] == "cpu" else "")
    return {"impl": "ours", "model": model, "device": device, "seconds": history["train_seconds"],
            "words_per_sec": history["words_per_sec"], "n_tokens": history["n_tokens"],
            **scores(kv, args), "settings": settings}


def train_gensim(kind: str, model: str, tokens: Path, settings: dict, min_count: int, window: int,
                 args: argparse.Namespace):
    """gensim's Word2Vec (`kind` "gensim") or FastText ("fasttext") on `tokens`: (vectors as ours, seconds, alpha)."""
    from gensim.models import FastText, Word2Vec  # noqa: PLC0415

    sentences = [line.split() for line in tokens.read_text(encoding="utf-8").splitlines() if line]
    options = {"vector_size": settings["vector_size"], "window": window, "negative": settings["negative"],
               "min_count": min_count, "sample": settings["sample"], "sg": int(model == "skipgram"),
               "cbow_mean": 1, "workers": args.workers, "seed": settings["seed"]}
    options.update(args.gensim_options)  # --gensim-set wins, even over a shared setting
    if kind == "fasttext":
        options.update({"min_n": 1, "max_n": 2, **args.fasttext_options})
    trainer = (FastText if kind == "fasttext" else Word2Vec)(**options)
    trainer.build_vocab(sentences)
    start = time.perf_counter()
    trainer.train(sentences, total_examples=len(sentences), epochs=args.epochs)
    seconds = time.perf_counter() - start
    return as_ours(trainer.wv, composes=kind == "fasttext"), seconds, trainer.alpha


def as_ours(wv, composes: bool):
    """gensim's vectors as our KeyedVectors; FastText's compose any other word from its n-grams, as gensim does."""
    from w2v.vectors import KeyedVectors  # noqa: PLC0415

    if not composes:
        return KeyedVectors(list(wv.index_to_key), wv.vectors)

    class FastTextVectors(KeyedVectors):
        def has_vector(self, word: str) -> bool:
            return word in self or bool(word)  # min_n 1: every non-empty word has n-grams

        def get_vector(self, word: str, norm: bool = False):
            if word in self:
                return super().get_vector(word, norm=norm)
            return wv.get_vector(word, norm=norm)  # composed from its n-grams by gensim

        def is_composed(self, word: str) -> bool:
            return word not in self and bool(word)

    return FastTextVectors(list(wv.index_to_key), wv.vectors)


def run_gensim(kind: str, model: str, tokens: Path, settings: dict, min_count: int, window: int,
               args: argparse.Namespace) -> dict:
    try:
        import gensim  # noqa: F401, PLC0415
    except ImportError:
        return {"impl": kind, "model": model, "seconds": None, "words_per_sec": None,
                "hit_at_10": None, "mrr": None, "note": "gensim not installed"}
    kv, seconds, alpha = train_gensim(kind, model, tokens, settings, min_count, window, args)
    return {"impl": kind, "model": model, "device": f"cpu x{args.workers}", "seconds": seconds,
            "words_per_sec": args.n_tokens * args.epochs / seconds, "alpha": alpha, **scores(kv, args)}


def in_vocab_tokens(tokens: Path, min_count: int) -> int:
    """Tokens of `tokens` whose word is seen `min_count` times or more (the corpus words training reads)."""
    import collections  # noqa: PLC0415

    counts = collections.Counter(tokens.read_text(encoding="utf-8").split())
    return sum(n for n in counts.values() if n >= min_count)


# ---------------------------------------------------------------------------- OOV hit@10 (module docstring)
def holdout_names(groups: list[list[str]], seed: int) -> dict[str, int]:
    """The held-out names, each with its group's index: max(1, round(n / 3)) of each group's n names."""
    import numpy as np  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    held: dict[str, int] = {}
    for g, group in enumerate(groups):
        for i in rng.permutation(len(group))[: max(1, round(len(group) / 3))]:
            held.setdefault(group[int(i)], g)
    return held


def drop_tokens(tokens: Path, words: set[str], out: Path) -> Path:
    """`tokens` without any occurrence of `words` (a line emptied by it is left out)."""
    with open(out, "w", encoding="utf-8") as handle:
        for line in tokens.read_text(encoding="utf-8").splitlines():
            kept = [t for t in line.split() if t not in words]
            if kept:
                handle.write(" ".join(kept) + "\n")
    return out


def prepare_held_out(tokens: Path, aliases: str, seed: int, min_count: int, window: int, folder: Path) -> dict:
    """The held-out names of `seed`, the tokens without them, and our vocabulary and pairs built from those."""
    from w2v.evaluation import load_alias_groups  # noqa: PLC0415

    folder.mkdir(parents=True, exist_ok=True)
    groups = load_alias_groups(aliases)
    held = holdout_names(groups, seed)
    kept = drop_tokens(tokens, set(held), folder / "tokens.txt")
    vocab_path, pairs = prepare_pairs(kept, min_count, window, seed, folder)
    return {"groups": groups, "held": held, "tokens": kept, "vocab": vocab_path, "pairs": pairs, "folder": folder}


def oov_hits(kv, groups: list[list[str]], held: dict[str, int], topn: int = 10) -> dict:
    """Hits of the held-out names' vectors among their `topn` nearest vocabulary words (module docstring)."""
    hits = 0
    for name, g in held.items():
        if name in kv or not kv.has_vector(name):
            continue  # a name the training still saw is no test; one without a vector is a miss
        near = {w for w, _ in kv.similar_by_vector(kv.get_vector(name), topn=topn)}
        hits += bool(near & (set(groups[g]) - {name}))
    return {"oov_hits": hits, "oov_names": len(held), "oov_hit_at_10": hits / len(held) if held else None}


def attach_oov(rows: list[dict], model: str, settings: dict, held_out: dict, min_count: int, window: int,
               args: argparse.Namespace) -> None:
    """Train every side of `rows` once more without the held-out names and add its OOV hit@10."""
    for row in rows:
        if row.get("note"):  # skipped or missing sides stay without a figure
            continue
        if row["impl"] == "ours":
            kv, _ = train_ours(model, held_out["pairs"][model], held_out["vocab"], settings, args, held_out["folder"])
        else:
            kv, _, _ = train_gensim(row["impl"], model, held_out["tokens"], settings, min_count, window, args)
        row.update(oov_hits(kv, held_out["groups"], held_out["held"]))


def median_row(runs: list[dict]) -> dict:
    """One row for several runs of one side: the median of each figure, plus every run's words/s."""
    import statistics  # noqa: PLC0415

    row = dict(runs[0])
    for key in ("seconds", "words_per_sec", "hit_at_10", "mrr"):
        values = [r[key] for r in runs if r.get(key) is not None]
        row[key] = statistics.median(values) if values else None
    if len(runs) > 1 and all(r.get("group_mrr") for r in runs):  # per group too, so groups and total agree
        row["group_mrr"] = [statistics.median(x) if None not in x else None
                            for x in zip(*(r["group_mrr"] for r in runs))]
    if len(runs) > 1:
        row["rounds"] = [{k: r.get(k) for k in ("seconds", "words_per_sec", "hit_at_10", "mrr")} for r in runs]
    return row


def summarize(rows: list[dict]) -> list[dict]:
    """Per model: each side's alias MRR over seeds (mean, sample std, per seed), median words/s, our/gensim ratios."""
    import statistics  # noqa: PLC0415

    def side(model: str, impl: str) -> dict:
        picked = [r for r in rows if r["model"] == model and r["impl"] == impl]
        mrr = [r["mrr"] for r in picked if r.get("mrr") is not None]
        speeds = [x["words_per_sec"] for r in picked for x in r.get("rounds", [r]) if x.get("words_per_sec")]
        return {"mrr_per_seed": mrr, "mrr_mean": statistics.fmean(mrr) if mrr else None,
                "mrr_std": statistics.stdev(mrr) if len(mrr) > 1 else None,
                "words_per_sec": statistics.median(speeds) if speeds else None}

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    out = []
    for model in dict.fromkeys(r["model"] for r in rows):
        ours, theirs, fasttext = side(model, "ours"), side(model, "gensim"), side(model, "fasttext")
        out.append({"model": model, "seeds": list(dict.fromkeys(r["seed"] for r in rows if r["model"] == model)),
                    "ours": ours, "gensim": theirs, "fasttext": fasttext,
                    "mrr_mean_ratio": ratio(ours["mrr_mean"], theirs["mrr_mean"]),
                    "mrr_std_ratio": ratio(ours["mrr_std"], theirs["mrr_std"]),
                    "words_per_sec_ratio": ratio(ours["words_per_sec"], theirs["words_per_sec"]),
                    "words_per_sec_ratio_fasttext": ratio(ours["words_per_sec"], fasttext["words_per_sec"])})
    return out


# Groups whose mean MRR lies in this band on both sides are "matched": there neither side sits at the
# floor (a group ranked far off on every seed has a tiny spread because 1/rank is near 0 whatever the
# rank) or at the ceiling, so their spreads compare like for like.
MATCHED_BAND = (0.2, 0.8)


def attach_group_spreads(summary: list[dict], rows: list[dict], aliases: str) -> None:
    """Per model with 2+ seeds: each alias group's MRR mean and std over the seeds for both sides, and
    the median ours/gensim std ratio over the groups matched in level (MATCHED_BAND)."""
    import statistics  # noqa: PLC0415

    from w2v.evaluation import load_alias_groups  # noqa: PLC0415

    groups = [" ".join(g) for g in load_alias_groups(aliases)]

    def stats(values: list) -> dict | None:
        got = [v for v in values if v is not None]
        if len(got) < 2:
            return None
        return {"mean": statistics.fmean(got), "std": statistics.stdev(got)}

    lo, hi = MATCHED_BAND
    for s in summary:
        if len(s["seeds"]) < 2:
            continue
        runs = {side: [r["group_mrr"] for r in rows if r["model"] == s["model"] and r["impl"] == side
                       and r.get("group_mrr")] for side in ("ours", "gensim")}
        entries, ratios = [], []
        for i, name in enumerate(groups):
            o, g = (stats([run[i] for run in runs[side]]) for side in ("ours", "gensim"))
            ratio = o["std"] / g["std"] if o and g and g["std"] > 0 else None
            entries.append({"group": name, "ours": o, "gensim": g, "std_ratio": ratio})
            if ratio is not None and lo <= o["mean"] <= hi and lo <= g["mean"] <= hi:
                ratios.append(ratio)
        s["per_group"] = entries
        s["matched_groups"] = len(ratios)
        s["matched_std_ratio"] = statistics.median(ratios) if ratios else None


def _fmt(x: float | None, spec: str) -> str:
    return "n/a" if x is None else format(x, spec)


IMPL_NAMES = {"ours": "ours", "gensim": "gensim Word2Vec", "fasttext": "gensim FastText"}


def _set_cell(entry: dict | None) -> str:
    """A test set's score with the items it holds over, "0.825 (412)"."""
    return "n/a" if not entry else f"{_fmt(entry['score'], '.3f')} ({entry['used']})"


def _oov_cell(row: dict) -> str:
    return f"{_fmt(row['oov_hit_at_10'], '.3f')} ({row['oov_hits']}/{row['oov_names']})" if "oov_names" in row else "n/a"


def print_rows(rows: list[dict]) -> None:
    """One line per side: speed, alias scores, each test set on the vocabulary (and with characters), OOV hit@10."""
    names = [t["name"] for t in next((r["test_sets"] for r in rows if r.get("test_sets")), [])]
    print("| model | seed | impl | device | seconds | words/s | alias hit@10 | alias MRR | "
          + "".join(f"{n} | " for n in names) + "OOV hit@10 |")
    print("|---|---:|---|---|---:|---:|---:|---:|" + "---:|" * (len(names) + 1))
    composed = []
    for r in rows:
        sets = r.get("test_sets") or [None] * len(names)
        print(f"| {r['model']} | {r['seed']} | {IMPL_NAMES[r['impl']]} | {r.get('device', '')} | "
              f"{_fmt(r['seconds'], '.1f')} | {_fmt(r['words_per_sec'], ',.0f')} | {_fmt(r['hit_at_10'], '.3f')} | "
              f"{_fmt(r['mrr'], '.3f')} | " + "".join(f"{_set_cell(t and t['vocab'])} | " for t in sets)
              + f"{_oov_cell(r)} |")
        if any(t and t["chars"] for t in sets):
            composed.append((r, sets))
    print("\nTest sets: score over the questions or pairs whose words are all in the vocabulary (their count).")
    if composed:
        print("With words composed from characters (unknown question words answered from characters):\n")
        print("| model | seed | impl | " + "".join(f"{n} | " for n in names))
        print("|---|---:|---|" + "---:|" * len(names))
        for r, sets in composed:
            print(f"| {r['model']} | {r['seed']} | {IMPL_NAMES[r['impl']]} | "
                  + "".join(f"{_set_cell(t and t['chars'])} | " for t in sets))


def print_table(rows: list[dict], summary: list[dict], args: argparse.Namespace) -> None:
    rounds = f", median of {args.rounds} alternating rounds" if args.rounds > 1 else ""
    corpus = args.corpus or args.tokens
    print(f"\n{corpus}, {args.epochs} epochs, corpus x{args.repeat}, ours on {args.device} ({args.threads} BLAS "
          f"thread(s)), workers {args.workers} (ours and gensim){rounds}; aliases {args.aliases}\n")
    print_rows(rows)
    for r in rows:
        if "rounds" in r:
            each = ", ".join(_fmt(x["words_per_sec"], ",.0f") for x in r["rounds"])
            print(f"{r['model']} seed {r['seed']} {r['impl']} words/s per round: {each}")
    print("\nAlias MRR over seeds: mean and sample standard deviation (std); words/s: median of every run.\n")
    print("| model | seeds | ours MRR mean | ours std | gensim MRR mean | gensim std | FastText MRR mean "
          "| MRR mean ours/gensim | std ours/gensim | words/s ours/gensim | words/s ours/FastText |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in summary:
        o, g = s["ours"], s["gensim"]
        print(f"| {s['model']} | {' '.join(map(str, s['seeds']))} | {_fmt(o['mrr_mean'], '.3f')} | "
              f"{_fmt(o['mrr_std'], '.3f')} | {_fmt(g['mrr_mean'], '.3f')} | {_fmt(g['mrr_std'], '.3f')} | "
              f"{_fmt(s['fasttext']['mrr_mean'], '.3f')} | {_fmt(s['mrr_mean_ratio'], '.2f')} | "
              f"{_fmt(s['mrr_std_ratio'], '.2f')} | {_fmt(s['words_per_sec_ratio'], '.2f')} | "
              f"{_fmt(s['words_per_sec_ratio_fasttext'], '.2f')} |")
    for s in summary:
        if len(s["seeds"]) > 1:
            each = {side: " ".join(_fmt(x, ".3f") for x in s[side]["mrr_per_seed"]) for side in ("ours", "gensim")}
            print(f"{s['model']} MRR per seed: ours [{each['ours']}], gensim [{each['gensim']}]")
    for s in summary:
        if "per_group" not in s:
            continue
        lo, hi = MATCHED_BAND
        print(f"{s['model']}: median std ratio ours/gensim over the {s['matched_groups']} alias group(s) whose "
              f"mean MRR is {lo}-{hi} on both sides: {_fmt(s['matched_std_ratio'], '.2f')}")
        if args.per_group:
            print(f"\n{s['model']}, alias MRR per group over seeds (mean ± std):\n")
            print("| group | ours | gensim | std ours/gensim |")
            print("|---|---:|---:|---:|")
            for e in s["per_group"]:
                o, g = e["ours"], e["gensim"]
                cell = {k: f"{v['mean']:.3f} ± {v['std']:.3f}" if v else "n/a" for k, v in (("o", o), ("g", g))}
                print(f"| {e['group']} | {cell['o']} | {cell['g']} | {_fmt(e['std_ratio'], '.2f')} |")


if __name__ == "__main__":
    sys.exit(main())
