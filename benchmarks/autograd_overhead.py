"""Autograd overhead: one skip-gram negative-sampling step in jingu vs the same step in raw arrays.

Both versions do the same math on the same array module (NumPy on cpu, CuPy on cuda): gather the
center, context and negative rows, score them, take the logistic loss, compute gradients, and apply
SGD to the touched rows only (scattered straight into the tables, duplicates adding up; no unique
rows and no dense vocab x dim gradient). Steps alternate between the two so machine noise hits both alike; the script prints
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


def raw_update(xp: Any, table: Any, parts: list[tuple[Any, Any]], lr: float) -> None:
    """SGD straight into the table: each part's rows get -lr times their values (duplicates add up),
    with no unique rows and no dense gradient. CPU: SciPy's CSC kernel (one nonzero per column)
    accumulating into the table; GPU: ``cupy.add.at`` (an atomic scatter kernel)."""
    for rows, values in parts:
        if xp is np:
            from scipy.sparse import _sparsetools  # noqa: PLC0415

            n = rows.shape[0]
            _sparsetools.csc_matvecs(
                table.shape[0], n, table.shape[1], np.arange(n + 1, dtype=np.int32), rows.astype(np.int32),
                np.full(n, -lr, dtype=table.dtype), np.ascontiguousarray(values).reshape(-1), table.reshape(-1),
            )
        else:
            xp.add.at(table, rows, -lr * values)


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
