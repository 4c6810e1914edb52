"""Where a word2vec training step spends its time: forward, backward and optimizer step, per batch.

Builds one batch of the shape training makes (ids drawn from the vocabulary's unigram counts, so
frequent rows collide as they do in real batches; CBOW context slots padded as shrinking windows
and subsampling leave them) and times each phase of the step on the device, waiting for the
device after each phase. Prints milliseconds per phase and examples per second.

    python benchmarks/profile_step.py --device cuda --models cbow skipgram --batch 65536 262144
    python benchmarks/profile_step.py --device cpu --batch 2048
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

import jingu  # noqa: E402
from w2v.training.registry import build_model  # noqa: E402
from w2v.training.pipeline import pipeline_for  # noqa: E402
from w2v.training.train import make_optimizer  # noqa: E402
from w2v.training import sampling  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--vocab", default=str(REPO / "results/vocab.tsv"), help="vocab.tsv whose counts shape the ids")
    p.add_argument("--device", default="cpu")
    p.add_argument("--models", nargs="+", default=["cbow", "skipgram"], choices=["cbow", "skipgram"])
    p.add_argument("--batch", type=int, nargs="+", default=[2048])
    p.add_argument("--optimizer", default=None, help="sgd or adagrad (default: adagrad on a GPU, sgd on the CPU)")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negative", type=int, default=5)
    return p.parse_args(argv)


def counts_of(path: str) -> np.ndarray:
    from w2v.data.vocab import load_vocab  # noqa: PLC0415

    return np.asarray(load_vocab(path).counts, dtype=np.float64)


def make_batch(model: str, counts: np.ndarray, n: int, window: int, negative: int, rng: np.random.Generator) -> dict:
    probs = counts / counts.sum()
    center = rng.choice(len(counts), size=n, p=probs)
    if model == "cbow":
        context = rng.choice(len(counts), size=(n, 2 * window), p=probs)
        reach = rng.integers(1, window + 1, size=n)  # shrinking window
        offsets = np.abs(np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)]))
        context[offsets[None, :] > reach[:, None]] = 0
        context[rng.random(context.shape) < 0.2] = 0  # subsampled neighbours
    else:
        context = rng.choice(len(counts), size=n, p=probs)
    table = sampling.unigram_table(counts, 0.75)
    negatives = table[rng.integers(0, table.shape[0], size=(n, negative))]
    return {"center": center, "context": context, "negatives": negatives}


def profile(model: str, batch: int, args: argparse.Namespace, counts: np.ndarray) -> dict:
    dev = jingu.cuda.canonical_device(args.device)
    sync = jingu.cuda.synchronize
    optimizer = args.optimizer or ("sgd" if dev == "cpu" else "adagrad")
    pipeline = pipeline_for(dev)
    net = build_model(model, len(counts), {"vector_size": 100}, backend=pipeline.backend, generator=np.random.default_rng(0))
    opt = make_optimizer(optimizer, net.parameters(), 0.05, dense=pipeline.dense_updates)
    host = make_batch(model, counts, batch, args.window, args.negative, np.random.default_rng(1))
    b = {k: jingu.cuda.to_device(v, dev) for k, v in host.items()}
    phases = {"forward": 0.0, "backward": 0.0, "step": 0.0}
    for i in range(args.steps + 3):
        sync()
        t0 = time.perf_counter()
        loss = net(b["center"], b["context"], b["negatives"])
        sync()
        t1 = time.perf_counter()
        loss.backward()
        sync()
        t2 = time.perf_counter()
        opt.step()
        opt.zero_grad()
        sync()
        t3 = time.perf_counter()
        if i >= 3:  # warm-up: kernel compilation, memory pool
            phases["forward"] += t1 - t0
            phases["backward"] += t2 - t1
            phases["step"] += t3 - t2
    # The whole step without waits in between, as training runs it.
    sync()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        loss = net(b["center"], b["context"], b["negatives"])
        loss.backward()
        opt.step()
        opt.zero_grad()
    sync()
    whole = (time.perf_counter() - t0) / args.steps
    ms = {k: 1e3 * v / args.steps for k, v in phases.items()}
    return {"model": model, "batch": batch, "optimizer": optimizer, **ms, "step_ms": 1e3 * whole,
            "examples_per_sec": batch / whole}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    counts = counts_of(args.vocab)
    print(f"device {args.device}, vocabulary {len(counts)}, {args.steps} steps per figure")
    print("| model | batch | optimizer | forward ms | backward ms | step ms | whole step ms | examples/s |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for model in args.models:
        for batch in args.batch:
            r = profile(model, batch, args, counts)
            print(f"| {r['model']} | {r['batch']} | {r['optimizer']} | {r['forward']:.2f} | {r['backward']:.2f} | "
                  f"{r['step']:.2f} | {r['step_ms']:.2f} | {r['examples_per_sec']:,.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
