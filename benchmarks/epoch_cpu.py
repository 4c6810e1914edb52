"""CPU-seconds per training epoch of the workflow's pairs (one worker unless told), and a checksum of the vectors.

CPU time (all threads of the process, the prefetch thread included) is steadier than wall time on
a shared machine. The checksum tells whether a change left a one-worker run bit-identical.

    python benchmarks/epoch_cpu.py --models cbow skipgram --epochs 2
    python benchmarks/epoch_cpu.py --models cbow --profile 30     # cProfile, top 30 by own time
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import pstats
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import yaml  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

import jingu  # noqa: E402
from w2v.config import model_settings, with_defaults  # noqa: E402
from w2v.training.loop import Epochs  # noqa: E402
from w2v.training.registry import model_kind  # noqa: E402
from w2v.training.settings import TrainSettings  # noqa: E402
from w2v.training.train import TrainFiles, prepare  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results", default=str(REPO / "results"), help="folder with vocab.tsv and pairs/{model}/")
    p.add_argument("--config", default=str(REPO / "config/config.yaml"))
    p.add_argument("--models", nargs="+", default=["cbow", "skipgram"])
    p.add_argument("--epochs", type=int, default=2, help="epochs timed (the first one also reads Parquet)")
    p.add_argument("--profile", type=int, default=0, help="print the top N functions by own time (cProfile)")
    p.add_argument("--sort", default="tottime", choices=["tottime", "cumulative", "ncalls"],
                   help="what --profile ranks by (cumulative shows which phase a cost belongs to)")
    p.add_argument("--workers", type=int, default=1,
                   help="Hogwild workers; above 1 only the wall time counts (CPU-s are the parent's alone)")
    p.add_argument("--no-prefetch", action="store_true",
                   help="prepare batches in the training thread (cProfile then sees every CPU-second)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a train setting")
    return p.parse_args(argv)


def run(model: str, args: argparse.Namespace) -> None:
    results = Path(args.results)
    config = with_defaults(yaml.safe_load(Path(args.config).read_text(encoding="utf-8")) or {})
    settings = model_settings(config, model)
    for item in args.set:
        key, value = item.split("=", 1)
        settings[key] = json.loads(value)
    settings.update(workers=args.workers, device="cpu")
    files = TrainFiles(pairs=results / "pairs" / model, vocab=results / "vocab.tsv", vec=results / "unused.vec",
                       history=results / "unused.json", chars=results / "chars.tsv")
    setup = prepare(model_kind(model), files, TrainSettings.from_mapping(settings)).run
    if args.no_prefetch:
        setup.pipeline.spare_core = False
    net, opt = setup.net, setup.opt
    epochs = Epochs(setup)
    phases = _time_phases(net, opt)
    prof = cProfile.Profile(time.process_time) if args.profile else None
    cpu, wall = [], []
    for epoch in range(args.epochs):
        c0, w0 = time.process_time(), time.perf_counter()
        if prof is not None and epoch == args.epochs - 1:
            prof.enable()
        record = epochs.run(epoch)
        if prof is not None and epoch == args.epochs - 1:
            prof.disable()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        split = ", ".join(f"{k} {v:.2f}" for k, v in phases.items())
        print(f"{model} epoch {epoch + 1}: {cpu[-1]:.2f} CPU-s ({split}), {wall[-1]:.2f} s wall, "
              f"loss {record['loss']:.5f}, {record['batches']} batches", flush=True)
        phases.update(dict.fromkeys(phases, 0.0))
    epochs.close()
    digest = hashlib.sha256(np.ascontiguousarray(net.vectors()).tobytes()).hexdigest()[:16]
    later = cpu[1:] or cpu
    print(f"{model}: CPU-s per epoch after the first: mean {np.mean(later):.3f}, min {min(later):.3f} "
          f"(wall mean {np.mean(wall[1:] or wall):.3f}); vectors sha256 {digest}")
    if prof is not None:
        pstats.Stats(prof).sort_stats(args.sort).print_stats(args.profile)


def _time_phases(net: object, opt: object) -> dict[str, float]:
    """Wrap the model's forward, jingu's backward and the optimizer's step to add up the CPU-seconds
    the training thread spends in each (the rest is batch preparation and the loop)."""
    phases = {"forward": 0.0, "backward": 0.0, "step": 0.0}

    def timed(name: str, fn: object) -> object:
        def call(*a: object, **k: object) -> object:
            c = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                phases[name] += time.process_time() - c
        return call

    net.forward = timed("forward", net.forward)
    opt.step = timed("step", opt.step)
    jingu.Tensor.backward = timed("backward", jingu.Tensor.backward)
    return phases


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for model in args.models:
        run(model, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
