"""Modules, parameters, state dicts, losses, init, and device moves."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.special import log_expit, log_softmax

import jingu
from jingu import nn
from jingu.testing import gradcheck

F = nn.functional


class TwoLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(4, 3)
        self.scale = nn.Parameter(np.ones(3, dtype=np.float32))
        self.second = nn.Linear(3, 2, bias=False)
        self.tied = self.first  # the same module twice: its parameters appear once

    def forward(self, x: Any) -> Any:
        return self.second(jingu.relu(self.first(x)) * self.scale)


def test_parameters_in_definition_order() -> None:
    model = TwoLayer()
    names = [n for n, _ in model.named_parameters()]
    # definition order, submodules in place; "tied" (the same module again) adds nothing
    assert names == ["first.weight", "first.bias", "scale", "second.weight"]
    assert [n for n, _ in model.named_modules()] == ["", "first", "second"]
    assert list(model.state_dict()) == names
    assert len(list(model.parameters())) == 4
    assert model.second.bias is None


def test_state_dict_round_trip(tmp_path: Any) -> None:
    jingu.manual_seed(1)
    a = TwoLayer()
    jingu.manual_seed(2)
    b = TwoLayer()
    assert not np.allclose(a.first.weight.numpy(), b.first.weight.numpy())
    jingu.save(a.state_dict(), tmp_path / "model.npz")
    b.load_state_dict(jingu.load(tmp_path / "model.npz"))
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb
        np.testing.assert_array_equal(pa.numpy(), pb.numpy())


def test_load_state_dict_errors_name_the_key() -> None:
    model = TwoLayer()
    state = model.state_dict()
    with pytest.raises(KeyError, match="missing keys.*first.bias"):
        model.load_state_dict({k: v for k, v in state.items() if k != "first.bias"})
    bad = dict(state)
    bad["scale"] = np.ones(5)
    with pytest.raises(ValueError, match=r"'scale' has shape \(5,\), the model expects \(3,\)"):
        model.load_state_dict(bad)


def test_train_eval_zero_grad_and_to(device: str) -> None:
    model = TwoLayer().to(device)
    assert all(p.device.startswith(device) for p in model.parameters())
    model.eval()
    assert not model.training and not model.first.training
    model.train()
    assert model.second.training
    out = model(jingu.Tensor(np.ones((5, 4), dtype=np.float32), device=device))
    assert out.shape == (5, 2)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_module_without_super_init_is_explained() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.x = 1

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Broken()


def test_linear_init_bounds_and_seed() -> None:
    jingu.manual_seed(7)
    a = nn.Linear(100, 50)
    jingu.manual_seed(7)
    b = nn.Linear(100, 50)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    assert np.abs(a.weight.numpy()).max() <= 0.1 and a.weight.dtype == np.float32


def test_init_functions() -> None:
    t = nn.Parameter(np.zeros((200, 300)))
    nn.init.uniform_(t, -0.5, 0.5, generator=np.random.default_rng(0))
    assert -0.5 <= t.numpy().min() and t.numpy().max() <= 0.5
    same = nn.init.uniform_(nn.Parameter(np.zeros((200, 300))), -0.5, 0.5, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(t.numpy(), same.numpy())
    nn.init.normal_(t, 1.0, 0.1)
    assert abs(t.numpy().mean() - 1.0) < 0.01 and abs(t.numpy().std() - 0.1) < 0.01
    nn.init.xavier_uniform_(t)
    bound = np.sqrt(6.0 / 500)
    assert np.abs(t.numpy()).max() <= bound and np.abs(t.numpy()).max() > 0.9 * bound
    nn.init.zeros_(t)
    assert not t.numpy().any()
    with pytest.raises(ValueError, match="std"):
        nn.init.normal_(t, 0.0, -1.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_and_nll(make: Any, rng: np.random.Generator, reduction: str) -> None:
    logits_np = rng.normal(size=(5, 4))
    target = np.array([0, 3, -100, 1, 3])
    valid = target != -100
    ref = -log_softmax(logits_np, axis=1)[np.arange(5), np.where(valid, target, 0)] * valid
    expected = {"mean": ref.sum() / valid.sum(), "sum": ref.sum(), "none": ref}[reduction]
    logits = make(logits_np, requires_grad=True)
    loss = F.cross_entropy(logits, target, ignore_index=-100, reduction=reduction)
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-10)
    module_loss = nn.CrossEntropyLoss(reduction=reduction)(logits, target)
    np.testing.assert_allclose(module_loss.numpy(), expected, rtol=1e-10)
    assert gradcheck(lambda t: F.cross_entropy(t, target, reduction=reduction), [logits])
    nll = nn.NLLLoss(reduction=reduction)(F.log_softmax(logits), target)
    np.testing.assert_allclose(nll.numpy(), expected, rtol=1e-10)
    assert gradcheck(lambda t: F.nll_loss(t, target, reduction=reduction), [logits])


def test_cross_entropy_errors(make: Any) -> None:
    logits = make(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(IndexError, match=r"\[0, 3\)"):
        F.cross_entropy(logits, np.array([0, 3]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(logits, np.array([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(3,\)"):
        F.cross_entropy(logits, np.array([0, 1, 2]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits(make: Any, rng: np.random.Generator, reduction: str) -> None:
    x_np = rng.normal(scale=3, size=(4, 3))
    t_np = rng.uniform(size=(4, 3))
    ref = -(t_np * log_expit(x_np) + (1 - t_np) * log_expit(-x_np))
    expected = {"mean": ref.mean(), "sum": ref.sum(), "none": ref}[reduction]
    x = make(x_np, requires_grad=True)
    t = make(t_np)
    np.testing.assert_allclose(nn.BCEWithLogitsLoss(reduction)(x, t).numpy(), expected, rtol=1e-10)
    assert gradcheck(lambda a: F.binary_cross_entropy_with_logits(a, t, reduction=reduction), [x])
    big = make(np.array([-500.0, 500.0]))
    assert np.isfinite(F.binary_cross_entropy_with_logits(big, make(np.array([1.0, 0.0]))).item())


def test_logistic_regression_learns(device: str) -> None:
    """A whole small model: Linear + BCEWithLogits + Adam separates two blobs."""
    rng = np.random.default_rng(0)
    x_np = np.concatenate([rng.normal(-2, 1, (50, 2)), rng.normal(2, 1, (50, 2))]).astype(np.float32)
    y_np = np.concatenate([np.zeros(50), np.ones(50)]).astype(np.float32)[:, None]
    jingu.manual_seed(0)
    model = nn.Linear(2, 1).to(device)
    opt = jingu.optim.Adam(model.parameters(), lr=0.1)
    x, y = jingu.Tensor(x_np, device=device), jingu.Tensor(y_np, device=device)
    for _ in range(60):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        opt.step()
    accuracy = ((model(x).numpy() > 0) == (y_np > 0.5)).mean()
    assert loss.item() < 0.2 and accuracy > 0.95


def test_buffers_strict_false_and_factories(device: str) -> None:
    class WithBuffer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.register_buffer("counts", np.zeros(3))

    model = WithBuffer().to(device)
    state = model.state_dict()
    assert list(state) == ["lin.weight", "lin.bias", "counts"]
    assert jingu.cuda.device_of(model.counts).startswith(device)
    model.load_state_dict({"counts": np.arange(3.0)}, strict=False)
    np.testing.assert_array_equal(jingu.cuda.as_numpy(model.counts), [0.0, 1.0, 2.0])
    z = jingu.zeros(2, 3, device=device, requires_grad=True)
    o = jingu.ones((2, 3), dtype=np.float64)
    assert z.shape == (2, 3) and z.dtype == np.float32 and z.requires_grad and o.dtype == np.float64
    assert z.cpu().device == "cpu"
    assert "Linear(in_features=2, out_features=2, bias=True)" in repr(model)
