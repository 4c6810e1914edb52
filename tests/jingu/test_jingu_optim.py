"""Optimizers (dense and row-sparse paths), schedules, and their state dicts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import jingu
from jingu import nn, optim
from jingu.sparse import RowSparse


def _param(values: Any, device: str) -> nn.Parameter:
    return nn.Parameter(np.asarray(values, dtype=np.float64), device=device)


def test_sgd_plain_momentum_weight_decay(device: str) -> None:
    p = _param([1.0, -2.0], device)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    expected, buf = np.array([1.0, -2.0]), None
    for step in range(3):
        opt.zero_grad()
        (p * p).sum().backward()
        g = 2 * expected + 0.01 * expected
        buf = g if buf is None else 0.9 * buf + g
        expected = expected - 0.1 * buf
        opt.step()
        np.testing.assert_allclose(p.numpy(), expected, err_msg=f"step {step}")


@pytest.mark.parametrize("momentum,weight_decay", [(0.0, 0.0), (0.9, 0.1)])
def test_sparse_sgd_touches_only_rows_in_the_batch(device: str, momentum: float, weight_decay: float) -> None:
    jingu.manual_seed(0)
    emb = nn.Embedding(8, 3, sparse=True, dtype=np.float64).to(device)
    before = emb.weight.numpy().copy()
    opt = optim.SGD(emb.parameters(), lr=0.5, momentum=momentum, weight_decay=weight_decay)
    emb(np.array([1, 1, 4])).sum().backward()
    opt.step()
    after = emb.weight.numpy()
    untouched = [0, 2, 3, 5, 6, 7]
    np.testing.assert_array_equal(after[untouched], before[untouched])
    np.testing.assert_allclose(after[1], before[1] - 0.5 * (2 + weight_decay * before[1]))
    np.testing.assert_allclose(after[4], before[4] - 0.5 * (1 + weight_decay * before[4]))


def test_sparse_and_dense_sgd_agree_without_momentum(device: str) -> None:
    idx = np.array([[0, 3, 3], [2, 2, 5]])
    results = []
    for sparse in (False, True):
        jingu.manual_seed(3)
        emb = nn.Embedding(6, 4, sparse=sparse, dtype=np.float64).to(device)
        opt = optim.SGD(emb.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            (emb(idx) ** 2).sum().backward()
            opt.step()
        results.append(emb.weight.numpy())
    np.testing.assert_allclose(results[0], results[1])


def test_adam_dense_matches_closed_form(device: str) -> None:
    p = _param([0.5, -1.5, 2.0], device)
    opt = optim.Adam([p], lr=0.01, betas=(0.8, 0.99), eps=1e-8)
    x = np.array([0.5, -1.5, 2.0])
    m = v = np.zeros(3)
    for t in range(1, 4):
        opt.zero_grad()
        (p**2).sum().backward()
        opt.step()
        g = 2 * x
        m = 0.8 * m + 0.2 * g
        v = 0.99 * v + 0.01 * g * g
        x = x - 0.01 * (m / (1 - 0.8**t)) / (np.sqrt(v / (1 - 0.99**t)) + 1e-8)
    np.testing.assert_allclose(p.numpy(), x)


def test_lazy_sparse_adam(device: str) -> None:
    """Rows seen every step move like dense Adam; rows never seen do not move at all."""
    jingu.manual_seed(5)
    dense = nn.Embedding(5, 2, dtype=np.float64).to(device)
    sparse = nn.Embedding(5, 2, sparse=True, dtype=np.float64).to(device)
    sparse.weight.data[...] = dense.weight.data
    before = dense.weight.numpy().copy()
    opts = [optim.Adam(m.parameters(), lr=0.05) for m in (dense, sparse)]
    idx = np.array([1, 3, 3])
    for _ in range(4):
        for m, o in zip((dense, sparse), opts):
            o.zero_grad()
            (m(idx) ** 2).sum().backward()
            o.step()
    assert isinstance(sparse.weight.grad, RowSparse)
    np.testing.assert_allclose(sparse.weight.numpy()[[1, 3]], dense.weight.numpy()[[1, 3]])
    np.testing.assert_array_equal(sparse.weight.numpy()[[0, 2, 4]], before[[0, 2, 4]])


def test_param_groups_and_validation() -> None:
    a, b = _param([1.0], "cpu"), _param([1.0], "cpu")
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    with pytest.raises(ValueError, match="invalid lr: -0.1"):
        optim.SGD([a], lr=-0.1)
    with pytest.raises(ValueError, match="betas\\[1\\]"):
        optim.Adam([a], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(ValueError, match="more than one group"):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
    with pytest.raises(ValueError, match="unknown option"):
        optim.SGD([{"params": [a], "lr": 0.1, "betas": (0.9, 0.9)}], lr=0.1)
    with pytest.raises(ValueError, match="requires_grad=False"):
        optim.SGD([nn.Parameter(np.ones(1), requires_grad=False)], lr=0.1)


def test_linear_lr_schedule() -> None:
    opt = optim.SGD([_param([1.0], "cpu")], lr=0.025)
    sched = optim.LinearLR(opt, start_factor=1.0, end_factor=0.0001 / 0.025, total_iters=4)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(6):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    np.testing.assert_allclose(lrs[:5], np.linspace(0.025, 0.0001, 5))
    assert lrs[5] == lrs[6] == pytest.approx(0.0001)
    with pytest.raises(ValueError, match="total_iters"):
        optim.LinearLR(opt, total_iters=0)
    # seek: a fractional position (progress in examples), forwards or back, clamped at the end
    sched.seek(2.5)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.025 - (0.025 - 0.0001) * 2.5 / 4)
    sched.seek(0.0)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.025)
    sched.seek(40.0)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0001)
    opt = optim.SGD([_param([1.0], "cpu")], lr=0.025)
    lam = optim.LambdaLR(opt, lambda step: 0.5**step)
    lam.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0125)


def test_optimizer_and_schedule_state_round_trip(tmp_path: Any, device: str) -> None:
    def build() -> tuple[Any, Any, Any]:
        jingu.manual_seed(11)
        emb = nn.Embedding(6, 3, sparse=True, dtype=np.float64).to(device)
        lin = nn.Linear(3, 2, dtype=np.float64).to(device)
        params = list(emb.parameters()) + list(lin.parameters())
        opt = optim.Adam(params, lr=0.05)
        return (emb, lin), opt, optim.LinearLR(opt, 1.0, 0.1, total_iters=10)

    def train(models: Any, opt: Any, sched: Any, steps: int) -> None:
        emb, lin = models
        for _ in range(steps):
            opt.zero_grad()
            (lin(emb(np.array([1, 2, 2]))) ** 2).sum().backward()
            opt.step()
            sched.step()

    models, opt, sched = build()
    train(models, opt, sched, 2)
    checkpoint = {
        "emb": models[0].state_dict(),
        "lin": models[1].state_dict(),
        "opt": opt.state_dict(),
        "sched": sched.state_dict(),
    }
    jingu.save(checkpoint, tmp_path / "ckpt.npz")
    train(models, opt, sched, 3)
    reference = models[0].weight.numpy().copy()

    models2, opt2, sched2 = build()
    loaded = jingu.load(tmp_path / "ckpt.npz")
    models2[0].load_state_dict(loaded["emb"])
    models2[1].load_state_dict(loaded["lin"])
    opt2.load_state_dict(loaded["opt"])
    sched2.load_state_dict(loaded["sched"])
    train(models2, opt2, sched2, 3)
    np.testing.assert_allclose(models2[0].weight.numpy(), reference)


class _LazyStepCount(optim.Optimizer):
    """Plain SGD that counts its steps in state it makes at the first step, declaring none."""

    def __init__(self, params: Any, lr: float) -> None:
        super().__init__(params, {"lr": lr})

    def step(self) -> None:
        for group in self.param_groups:
            for p, g in self._grads(group):
                self.state.setdefault(p, {}).setdefault("steps", np.zeros(1))[0] += 1
                p.data -= group["lr"] * (g.to_dense() if isinstance(g, RowSparse) else g)


def test_declared_state_exists_from_construction(device: str) -> None:
    a, b = _param([1.0, 2.0], device), _param([3.0], device)
    momentum = optim.SGD([a, b], lr=0.1, momentum=0.9)
    assert all(set(momentum.state[p]) == {"momentum_buffer"} for p in (a, b))  # before any step
    np.testing.assert_array_equal(jingu.cuda.as_numpy(momentum.state[a]["momentum_buffer"]), [0.0, 0.0])
    assert optim.SGD([a], lr=0.1).allocate_state() == {a: {}}  # plain SGD keeps no state
    adam = optim.Adam([a])
    assert adam.state[a]["step"] == 0 and set(adam.state[a]) == {"step", "exp_avg", "exp_avg_sq"}
    adam.add_param_group({"params": [b]})
    assert set(adam.state[b]) == {"step", "exp_avg", "exp_avg_sq"}  # a group added later too


def test_state_made_lazily_is_refused_by_allocate_state() -> None:
    p = _param([1.0], "cpu")
    lazy = _LazyStepCount([p], lr=0.1)
    assert not lazy.declares_state() and optim.SGD([p], lr=0.1).declares_state()
    with pytest.raises(optim.UndeclaredStateError, match="_LazyStepCount makes its state lazily.*initial_state"):
        lazy.allocate_state()
    sgd = optim.SGD([p], lr=0.1)
    sgd.state[p]["extra"] = np.zeros(1)
    with pytest.raises(optim.UndeclaredStateError, match=r"SGD holds state \['extra'\]"):
        sgd.allocate_state()


def test_loading_a_state_without_some_parameters_gives_them_their_declared_state() -> None:
    a, b = _param([1.0], "cpu"), _param([2.0], "cpu")
    opt = optim.Adam([a, b])
    opt.load_state_dict({"state": {0: {"step": 4, "exp_avg": np.ones(1), "exp_avg_sq": np.ones(1)}},
                         "param_groups": opt.state_dict()["param_groups"]})
    assert opt.state[a]["step"] == 4 and opt.state[b]["step"] == 0
    a.grad, b.grad = np.ones(1), np.ones(1)
    opt.step()  # b's moments exist, so its first step needs none made on the way


def test_check_hyperparameter_is_public() -> None:
    assert optim.check_hyperparameter("eps", 1) == 1.0
    with pytest.raises(ValueError, match=r"invalid momentum: 1.5 \(must be in \[0.0, 1.0\]\)"):
        optim.check_hyperparameter("momentum", 1.5, 0.0, 1.0)
    with pytest.raises(TypeError, match="lr must be a number"):
        optim.check_hyperparameter("lr", "0.1")
