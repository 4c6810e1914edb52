"""Kernel launches and device->host syncs of jingu's CuPy code path, counted on the CPU.

``fake_cupy`` stands in for CuPy (NumPy underneath) and counts what each call would launch or sync
on a GPU. The SGNS step of ``benchmarks/autograd_overhead.py`` must not sync more, nor launch more,
in jingu than written by hand; index checks and loss counts must not read device arrays back.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any

import fake_cupy
import numpy as np
import pytest

import jingu
from jingu.nn import functional as F

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("cupy") is not None, reason="CuPy is installed: the GPU tests cover its path"
)

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "autograd_overhead.py"


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> fake_cupy.Counts:
    return fake_cupy.install(monkeypatch)


@pytest.fixture
def bench() -> Any:
    spec = importlib.util.spec_from_file_location("autograd_overhead", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dev(array: Any) -> Any:
    return fake_cupy.asarray(np.asarray(array))


def test_sgns_step_launches_and_syncs_no_more_than_raw(counts: fake_cupy.Counts, bench: Any) -> None:
    args = argparse.Namespace(vocab=300, dim=8, batch=64, negatives=5, warmup=0, steps=3)
    w_in, w_out, batches = bench.make_data(args, "cpu")
    batches = [tuple(dev(x) for x in b) for b in batches]
    seen = {}
    tables = {}
    for version in ("raw", "jingu"):
        t_in, t_out = dev(w_in.copy()), dev(w_out.copy())
        if version == "raw":
            xp = sys.modules["cupy"]
            step = lambda c, o, n: bench.raw_step(xp, t_in, t_out, c, o, n, bench.LR)  # noqa: E731
        else:
            model = bench.SkipGram(t_in, t_out)
            opt = jingu.optim.SGD(model.parameters(), lr=bench.LR)
            step = lambda c, o, n: bench.jingu_step(model, opt, c, o, n)  # noqa: E731
        for c, o, n in batches:
            counts.reset()
            step(c, o, n)
        seen[version] = (counts.launches, counts.syncs, dict(counts.names))
        tables[version] = (np.asarray(t_in), np.asarray(t_out))
    (j_launch, j_sync, j_names), (r_launch, r_sync, _) = seen["jingu"], seen["raw"]
    assert j_sync == r_sync == 0, j_names  # SGD scatters straight into the tables: no unique rows, no wait
    assert j_launch <= r_launch, (seen["jingu"], seen["raw"])
    assert j_names["jingu_logsigmoid"] == j_names["jingu_logsigmoid_grad"] == 2
    for a, b in zip(tables["jingu"], tables["raw"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_device_indices_are_not_read_back(counts: fake_cupy.Counts, monkeypatch: pytest.MonkeyPatch) -> None:
    table = jingu.Tensor(dev(np.arange(12, dtype=np.float32).reshape(4, 3)), requires_grad=True)
    idx = dev(np.array([0, 3, 3]))
    counts.reset()
    out = F.embedding(idx, table, sparse=True)
    out.sum().backward()
    assert counts.syncs == 0, counts.names
    np.testing.assert_array_equal(np.asarray(out.data), np.arange(12).reshape(4, 3)[[0, 3, 3]])
    monkeypatch.setattr(jingu.cuda, "check_device_indices", True)
    with pytest.raises(IndexError, match="4 rows"):
        F.embedding(dev(np.array([1, 4])), table)
    with pytest.raises(IndexError, match="4 rows"):  # host indices are checked before the copy, always
        monkeypatch.setattr(jingu.cuda, "check_device_indices", False)
        F.embedding(np.array([1, 4]), table)


def test_nll_loss_device_targets_no_sync(counts: fake_cupy.Counts) -> None:
    logits = np.random.default_rng(0).normal(size=(5, 4))
    target = np.array([1, -100, 3, 0, 3])
    x = jingu.Tensor(dev(logits), requires_grad=True, dtype=np.float64)
    counts.reset()
    loss = F.cross_entropy(x, dev(target))
    loss.backward()
    assert counts.syncs == 0, counts.names
    expect = F.cross_entropy(jingu.Tensor(logits, requires_grad=True), target)
    np.testing.assert_allclose(np.asarray(loss.data), expect.numpy(), rtol=1e-12)
    assert loss.dtype == np.float64


def test_fused_logsigmoid_matches_ufunc_path(counts: fake_cupy.Counts) -> None:
    x = np.linspace(-30, 30, 13)
    for dtype in (np.float32, np.float64):
        t = jingu.Tensor(dev(x.astype(dtype)), requires_grad=True)
        y = jingu.logsigmoid(t)
        (y * 3.0).sum().backward()
        assert y.dtype == dtype and t.grad.dtype == dtype
        np.testing.assert_allclose(np.asarray(y.data), -np.logaddexp(0, -x), rtol=1e-6, atol=1e-30)
        np.testing.assert_allclose(np.asarray(t.grad.data), 3.0 / (1.0 + np.exp(x)), rtol=1e-5, atol=1e-30)
    assert counts.names["jingu_logsigmoid"] == 2 and "logaddexp" not in counts.names


def test_scatter_paths_use_the_scatter_kernel(counts: fake_cupy.Counts) -> None:
    """Row-sparse coalescing and gathers by several index arrays, on the CuPy path (no cupyx): one
    scatter kernel per part, never a materialized product or add.at."""
    rows = np.array([2, 0, 2, 5])
    values = np.arange(8.0).reshape(4, 2)
    g = jingu.RowSparse(dev(rows), dev(values), (6, 2)) + jingu.RowSparse(dev(rows[:1]), dev(values[:1]), (6, 2))
    dense = np.zeros((6, 2))
    np.add.at(dense, np.r_[rows, rows[:1]], np.r_[values, values[:1]])
    np.testing.assert_array_equal(np.asarray(g.to_dense()), dense)
    c = g.coalesce()
    np.testing.assert_array_equal(np.asarray(c.indices), [0, 2, 5])
    np.testing.assert_array_equal(np.asarray(c.values), dense[[0, 2, 5]])
    x = jingu.Tensor(dev(np.zeros((3, 4))), requires_grad=True)
    x[dev(np.array([0, 2, 0])), dev(np.array([1, 1, 1]))].sum().backward()
    expect = np.zeros((3, 4))
    expect[0, 1], expect[2, 1] = 2, 1
    np.testing.assert_array_equal(np.asarray(x.grad.data), expect)
    assert counts.names["jingu_bag_scatter"] >= 3 and "add.at" not in counts.names, counts.names
