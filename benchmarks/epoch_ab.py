"""CPU-seconds per epoch of two checkouts, run alternately in the same minutes, as new/old ratios.

Each checkout runs its own `benchmarks/epoch_cpu.py` on its own `results/` (build them first with
`snakemake --cores 2 results/cbow.vec results/skipgram.vec` in each), with its own `src/` first on
the path. Alternating round by round puts both under the same load, so the ratio is steadier than
either figure; the vectors' checksums tell whether the two are bit-identical.

    git worktree add --detach ../old <commit>
    python benchmarks/epoch_ab.py ../old . --rounds 8 --epochs 8
    python benchmarks/epoch_ab.py ../old . --rounds 6 -- --set 'chars="none"'
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

LINE = re.compile(r"^(\w+): CPU-s per epoch after the first: mean ([\d.]+), .*sha256 (\w+)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("old", type=Path, help="checkout measured first in each round")
    p.add_argument("new", type=Path, help="checkout measured second in each round")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--epochs", type=int, default=8, help="epochs per run (the first is not counted)")
    p.add_argument("--models", nargs="+", default=["cbow", "skipgram"])
    p.epilog = "Arguments after -- go to both checkouts' epoch_cpu.py."
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--") if "--" in argv else len(argv)
    args = p.parse_args(argv[:cut])
    args.rest = argv[cut + 1:]
    return args


def run_once(checkout: Path, args: argparse.Namespace) -> dict[str, tuple[float, str]]:
    """{model: (mean CPU-s per epoch, vectors checksum)} of one epoch_cpu.py run in `checkout`."""
    cmd = [sys.executable, "benchmarks/epoch_cpu.py", "--models", *args.models, "--epochs", str(args.epochs), *args.rest]
    env = dict(os.environ, PYTHONPATH=str(checkout.resolve() / "src"))
    done = subprocess.run(cmd, cwd=checkout, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{checkout}: {' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    found = {m[1]: (float(m[2]), m[3]) for m in map(LINE.match, done.stdout.splitlines()) if m}
    missing = set(args.models) - set(found)
    if missing:
        sys.exit(f"{checkout}: no per-epoch line for {sorted(missing)} in:\n{done.stdout[-2000:]}")
    return found


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    runs: dict[str, list[dict[str, tuple[float, str]]]] = {"old": [], "new": []}
    for r in range(1, args.rounds + 1):
        for side in ("old", "new"):
            runs[side].append(run_once(getattr(args, side), args))
        line = ", ".join(f"{m} {runs['old'][-1][m][0]:.3f} -> {runs['new'][-1][m][0]:.3f}" for m in args.models)
        print(f"round {r}: {line}", flush=True)
    for m in args.models:
        old = [run[m][0] for run in runs["old"]]
        new = [run[m][0] for run in runs["new"]]
        ratios = [n / o for o, n in zip(old, new)]
        sums = {side: sorted({run[m][1] for run in runs[side]}) for side in runs}
        same = "bit-identical" if sums["old"] == sums["new"] and len(sums["old"]) == 1 else f"checksums {sums}"
        print(f"{m}: CPU-s per epoch old {statistics.mean(old):.3f}, new {statistics.mean(new):.3f}, "
              f"new/old {statistics.mean(new) / statistics.mean(old):.3f} "
              f"(rounds {min(ratios):.2f}-{max(ratios):.2f}); vectors {same}")


if __name__ == "__main__":
    main()
