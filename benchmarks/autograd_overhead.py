"""Autograd overhead: one skip-gram negative-sampling step in jingu vs the same step in raw arrays.

Both versions do the same math on the same array module (NumPy on cpu, CuPy on cuda): gather the
center, context and negative rows, score them, take the logistic loss, compute gradients, and apply
SGD to the touched rows only (duplicates summed through a sparse scatter, no dense vocab x dim
gradient). Steps alternate between the two so machine noise hits both alike; the script prints
median ms/step of each and their ratio (target: jingu within 1.3x of raw).

Run: ``PYTHONPATH=src python benchmarks/autograd_overhead.py --device cpu [--steps 30] [--rounds 3]``
Each version runs alone in a fresh process (so one's memory pattern does not slow the other).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

import jingu
from jingu import cuda


LR = 0.05


def raw_scatter(xp: Any, rows: Any, values: Any, num_rows: int) -> Any:
    """Dense (num_rows x dim) sums of ``values`` per row: a one-nonzero-per-column sparse product
    on the CPU, ``cupy.add.at`` (an atomic scatter kernel) on the GPU."""
    if xp is np:
        import scipy.sparse  # noqa: PLC0415

        n = rows.shape[0]
        mat = scipy.sparse.csc_matrix((np.ones(n, dtype=values.dtype), rows, np.arange(n + 1)), shape=(num_rows, n))
        return mat @ values
    out = xp.zeros((num_rows, values.shape[1]), dtype=values.dtype)
    xp.add.at(out, rows, values)
    return out


def raw_unique(xp: Any, rows: Any, num_rows: int) -> tuple[Any, Any]:
    """Sorted unique rows and each entry's position among them (a lookup table on the CPU)."""
    if xp is not np:
        uniq, inverse = xp.unique(rows, return_inverse=True)
        return uniq, inverse.reshape(-1)
    seen = np.zeros(num_rows, dtype=bool)
    seen[rows] = True
    uniq = np.flatnonzero(seen)
    lookup = np.empty(num_rows, dtype=np.int64)
    lookup[uniq] = np.arange(uniq.shape[0])
    return uniq, lookup[rows]


def raw_update(xp: Any, table: Any, parts: list[tuple[Any, Any]], lr: float) -> None:
    """SGD on the touched rows only: unique rows, each part's values summed into them, one update."""
    rows = xp.concatenate([r for r, _ in parts]) if len(parts) > 1 else parts[0][0]
    uniq, inverse = raw_unique(xp, rows, table.shape[0])
    summed, start = None, 0
    for r, values in parts:
        term = raw_scatter(xp, inverse[start : start + r.shape[0]], values, uniq.shape[0])
        summed = term if summed is None else summed + term
        start += r.shape[0]
    table[uniq] -= lr * summed


def raw_step(xp: Any, w_in: Any, w_out: Any, c: Any, o: Any, n: Any, lr: float) -> Any:
    """Forward, hand-written backward and sparse SGD with arrays only; returns the loss."""
    batch, dim = c.shape[0], w_in.shape[1]
    vc, vo, vn = xp.take(w_in, c, axis=0), xp.take(w_out, o, axis=0), xp.take(w_out, n, axis=0)
    pos = (vc * vo).sum(-1)
    neg = (vn * vc[:, None, :]).sum(-1)
    ls_pos = -xp.logaddexp(0, -pos)
    ls_neg = -xp.logaddexp(0, neg)
    loss = -(ls_pos.sum() + ls_neg.sum()) / batch
    g_pos = xp.expm1(ls_pos) / batch  # d loss / d pos = -(1 - sigmoid(pos)) / batch
    g_neg = -xp.expm1(ls_neg) / batch  # d loss / d neg = sigmoid(neg) / batch
    g_vc = g_pos[:, None] * vo + (g_neg[:, :, None] * vn).sum(1)
    g_vo = g_pos[:, None] * vc
    g_vn = g_neg[:, :, None] * vc[:, None, :]
    raw_update(xp, w_in, [(c, g_vc)], lr)
    raw_update(xp, w_out, [(o, g_vo), (n.reshape(-1), g_vn.reshape(-1, dim))], lr)
    return loss


class SkipGram(jingu.nn.Module):
    def __init__(self, w_in: Any, w_out: Any) -> None:
        super().__init__()
        self.inp = jingu.nn.Embedding(w_in.shape[0], w_in.shape[1], sparse=True)
        self.out = jingu.nn.Embedding(w_out.shape[0], w_out.shape[1], sparse=True)
        self.inp.weight.data = w_in
        self.out.weight.data = w_out

    def forward(self, c: Any, o: Any, n: Any) -> jingu.Tensor:
        vc, vo, vn = self.inp(c), self.out(o), self.out(n)
        pos = (vc * vo).sum(axis=-1)
        neg = (vn * vc.unsqueeze(1)).sum(axis=-1)
        return -(jingu.logsigmoid(pos).sum() + jingu.logsigmoid(-neg).sum()) / c.shape[0]


def jingu_step(model: SkipGram, opt: Any, c: Any, o: Any, n: Any) -> Any:
    opt.zero_grad()
    loss = model(c, o, n)
    loss.backward()
    opt.step()
    return loss.data


def make_data(args: argparse.Namespace, device: str) -> tuple[Any, Any, list[Any]]:
    """Initial tables and Zipf-distributed (center, context, negatives) batches, as in real text."""
    rng = np.random.default_rng(0)
    w_in = ((rng.random((args.vocab, args.dim)) - 0.5) / args.dim).astype(np.float32)
    w_out = (rng.normal(size=(args.vocab, args.dim)) * 0.1).astype(np.float32)
    probs = 1.0 / np.arange(1, args.vocab + 1)
    probs /= probs.sum()

    def draw(*shape: int) -> Any:
        return cuda.to_device(rng.choice(args.vocab, size=shape, p=probs).astype(np.int64), device)

    total = args.warmup + args.steps
    batches = [(draw(args.batch), draw(args.batch), draw(args.batch, args.negatives)) for _ in range(total)]
    return w_in, w_out, batches


def build(version: str, w_in: Any, w_out: Any, device: str) -> Any:
    """A zero-argument-per-batch step function for ``version`` ("jingu" or "raw") and its tables."""
    t_in, t_out = cuda.to_device(w_in.copy(), device), cuda.to_device(w_out.copy(), device)
    if version == "raw":
        xp = cuda.get_array_module(t_in)
        return (lambda c, o, n: raw_step(xp, t_in, t_out, c, o, n, LR)), (t_in, t_out)
    model = SkipGram(t_in, t_out)
    opt = jingu.optim.SGD(model.parameters(), lr=LR)
    return (lambda c, o, n: jingu_step(model, opt, c, o, n)), (model.inp.weight.data, model.out.weight.data)


def time_version(args: argparse.Namespace, version: str, device: str) -> float:
    """Median ms/step of one version, alone in this process."""
    w_in, w_out, batches = make_data(args, device)
    step, _ = build(version, w_in, w_out, device)
    times = []
    for i, (c, o, n) in enumerate(batches):
        cuda.synchronize()
        start = time.perf_counter()
        step(c, o, n)
        cuda.synchronize()
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def check_same_result(args: argparse.Namespace, device: str, steps: int = 5) -> float:
    """Run both versions side by side for a few steps; return the largest weight difference."""
    small = argparse.Namespace(**{**vars(args), "warmup": 0, "steps": steps})
    w_in, w_out, batches = make_data(small, device)
    (jstep, jtables), (rstep, rtables) = build("jingu", w_in, w_out, device), build("raw", w_in, w_out, device)
    for c, o, n in batches:
        jl, rl = float(jstep(c, o, n)), float(rstep(c, o, n))
        if abs(jl - rl) > 1e-4 * max(1.0, abs(rl)):
            raise AssertionError(f"losses differ: jingu {jl} vs raw {rl}")
    return max(float(np.abs(cuda.as_numpy(a) - cuda.as_numpy(b)).max()) for a, b in zip(jtables, rtables))


def run_worker(args: argparse.Namespace, version: str, device: str, env: dict[str, str]) -> float:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        version,
        "--device",
        device,
        "--steps",
        str(args.steps),
        "--warmup",
        str(args.warmup),
        "--vocab",
        str(args.vocab),
        "--dim",
        str(args.dim),
        "--batch",
        str(args.batch),
        "--negatives",
        str(args.negatives),
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"worker {version} failed:\n{done.stderr}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["ms"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per run (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each version, alternating (default 3)")
    parser.add_argument("--vocab", type=int, default=14_000)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--batch", type=int, default=4_096)
    parser.add_argument("--negatives", type=int, default=5)
    parser.add_argument("--worker", choices=["jingu", "raw"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    device = cuda.canonical_device(args.device)
    if device != "cpu" and not cuda.is_available():
        print(f"error: device {device} requested but no CUDA GPU is available", file=sys.stderr)
        return 2
    if args.worker:
        print(json.dumps({"ms": time_version(args, args.worker, device)}))
        return 0

    diff = check_same_result(args, device)
    print(f"device: {device}  vocab {args.vocab}, dim {args.dim}, batch {args.batch}, negatives {args.negatives}")
    print(f"same result: max |weight difference| after 5 steps = {diff:.2e}")
    print(f"each figure: median ms/step of {args.steps} steps (+{args.warmup} warm-up), each version alone in a")
    print(f"fresh process, {args.rounds} alternating rounds, median over rounds")
    runs: dict[str, list[float]] = {"jingu": [], "raw": []}
    for r in range(args.rounds):
        for version in ("jingu", "raw") if r % 2 == 0 else ("raw", "jingu"):
            runs[version].append(run_worker(args, version, device, dict(os.environ)))
    for version, label in (("jingu", "jingu     "), ("raw", "raw arrays")):
        each = ", ".join(f"{t:.2f}" for t in runs[version])
        print(f"{label}: {statistics.median(runs[version]):8.2f} ms/step   (rounds: {each})")
    ratio = statistics.median(runs["jingu"]) / statistics.median(runs["raw"])
    print(f"ratio jingu/raw: {ratio:.3f}   (target <= 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
