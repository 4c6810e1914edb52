"""Every differentiable op: forward against closed-form NumPy, and a float64 gradient check."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from scipy.special import expit, log_expit, log_softmax, softmax

import jingu
from jingu.testing import gradcheck

F = jingu.nn.functional


def _pos(shape: tuple[int, ...]) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.uniform(0.5, 2.0, size=shape)


def _any(shape: tuple[int, ...]) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.normal(size=shape)


# name -> (jingu function, numpy reference, input makers); shapes exercise broadcasting
CASES: dict[str, tuple[Callable[..., Any], Callable[..., Any], list[Any]]] = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, [_any((3, 4)), _any((4,))]),
    "add_keepdim_broadcast": (lambda a, b: a + b, lambda a, b: a + b, [_any((3, 1)), _any((1, 4))]),
    "radd_scalar": (lambda a: 2.5 + a, lambda a: 2.5 + a, [_any((3, 4))]),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, [_any((2, 3, 4)), _any((3, 1))]),
    "rsub_scalar": (lambda a: 1.0 - a, lambda a: 1.0 - a, [_any((5,))]),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, [_any((3, 4)), _any((3, 1))]),
    "mul_same_tensor": (lambda a: a * a, lambda a: a * a, [_any((3, 4))]),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [_any((3, 4)), _pos((4,))]),
    "rdiv_scalar": (lambda a: 2.0 / a, lambda a: 2.0 / a, [_pos((3,))]),
    "neg": (lambda a: -a, lambda a: -a, [_any((3, 4))]),
    "pow_scalar": (lambda a: a**3, lambda a: a**3, [_any((3, 4))]),
    "pow_tensor": (lambda a, b: a**b, lambda a, b: a**b, [_pos((3, 4)), _any((4,))]),
    "rpow": (lambda a: 2.0**a, lambda a: 2.0**a, [_any((3,))]),
    "exp": (jingu.exp, np.exp, [_any((3, 4))]),
    "log": (jingu.log, np.log, [_pos((3, 4))]),
    "sqrt": (jingu.sqrt, np.sqrt, [_pos((3, 4))]),
    "tanh": (jingu.tanh, np.tanh, [_any((3, 4))]),
    "sigmoid": (jingu.sigmoid, expit, [_any((3, 4))]),
    "logsigmoid": (jingu.logsigmoid, log_expit, [_any((3, 4))]),
    "relu": (jingu.relu, lambda a: np.maximum(a, 0), [_any((3, 4))]),
    "abs": (jingu.abs, np.abs, [_any((3, 4))]),
    "clip": (lambda a: jingu.clip(a, -0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), [_any((4, 5))]),
    "sum_all": (lambda a: a.sum(), lambda a: a.sum(), [_any((3, 4))]),
    "sum_axis": (lambda a: a.sum(axis=1), lambda a: a.sum(axis=1), [_any((3, 4, 2))]),
    "sum_axes_keepdims": (
        lambda a: a.sum(axis=(0, 2), keepdims=True),
        lambda a: a.sum(axis=(0, 2), keepdims=True),
        [_any((3, 4, 2))],
    ),
    "mean_all": (lambda a: a.mean(), lambda a: a.mean(), [_any((3, 4))]),
    "mean_axis_neg": (lambda a: a.mean(axis=-1), lambda a: a.mean(axis=-1), [_any((3, 4))]),
    "max_all": (lambda a: a.max(), lambda a: a.max(), [_any((3, 4))]),
    "max_axis": (lambda a: a.max(axis=0), lambda a: a.max(axis=0), [_any((3, 4))]),
    "max_axis_keepdims": (
        lambda a: a.max(axis=1, keepdims=True),
        lambda a: a.max(axis=1, keepdims=True),
        [_any((3, 4))],
    ),
    "min_axis": (lambda a: a.min(axis=1), lambda a: a.min(axis=1), [_any((3, 4))]),
    "matmul_2d": (lambda a, b: a @ b, lambda a, b: a @ b, [_any((3, 4)), _any((4, 5))]),
    "matmul_vec_mat": (lambda a, b: a @ b, lambda a, b: a @ b, [_any((4,)), _any((4, 5))]),
    "matmul_mat_vec": (lambda a, b: a @ b, lambda a, b: a @ b, [_any((3, 4)), _any((4,))]),
    "matmul_vec_vec": (lambda a, b: a @ b, lambda a, b: a @ b, [_any((4,)), _any((4,))]),
    "matmul_batched_broadcast": (lambda a, b: a @ b, lambda a, b: a @ b, [_any((2, 3, 4)), _any((4, 2))]),
    "matmul_batch_both": (lambda a, b: a @ b, lambda a, b: a @ b, [_any((2, 1, 3, 4)), _any((3, 4, 2))]),
    "reshape": (lambda a: a.reshape(4, 3), lambda a: a.reshape(4, 3), [_any((3, 4))]),
    "reshape_tuple": (lambda a: a.reshape((2, -1)), lambda a: a.reshape((2, -1)), [_any((3, 4))]),
    "transpose_T": (lambda a: a.T, lambda a: a.T, [_any((3, 4))]),
    "transpose_axes": (
        lambda a: a.transpose(2, 0, 1),
        lambda a: a.transpose(2, 0, 1),
        [_any((2, 3, 4))],
    ),
    "unsqueeze_squeeze": (lambda a: a.unsqueeze(1).squeeze(1) * a.unsqueeze(0), lambda a: a * a[None], [_any((3,))]),
    "getitem_slice": (lambda a: a[1:, ::2], lambda a: a[1:, ::2], [_any((4, 5))]),
    "getitem_int": (lambda a: a[2], lambda a: a[2], [_any((4, 5))]),
    "getitem_repeated_rows": (
        lambda a: a[np.array([0, 2, 2, 3, 0, -1])],
        lambda a: a[np.array([0, 2, 2, 3, 0, -1])],
        [_any((4, 3))],
    ),
    "getitem_2d_index": (
        lambda a: a[np.array([[1, 1], [0, 3]])],
        lambda a: a[np.array([[1, 1], [0, 3]])],
        [_any((4, 3))],
    ),
    "getitem_pairs_repeated": (
        lambda a: a[np.array([0, 0, 1]), np.array([2, 2, 0])],
        lambda a: a[np.array([0, 0, 1]), np.array([2, 2, 0])],
        [_any((3, 4))],
    ),
    "getitem_pairs_negative_broadcast": (
        lambda a: a[np.array([[0], [-1]]), np.array([1, -3, 1])],
        lambda a: a[np.array([[0], [-1]]), np.array([1, -3, 1])],
        [_any((3, 4, 2))],
    ),
    "getitem_array_slice_array": (
        lambda a: a[np.array([0, 0, 2]), :, np.array([1, 1, 0])],
        lambda a: a[np.array([0, 0, 2]), :, np.array([1, 1, 0])],
        [_any((3, 2, 2))],
    ),
    "getitem_mask": (lambda a: a[a.data > 0], lambda a: a[a > 0], [_any((3, 4))]),
    "getitem_1d_table": (
        lambda a: a[np.array([1, 1, 2])],
        lambda a: a[np.array([1, 1, 2])],
        [_any((4,))],
    ),
    "concatenate": (
        lambda a, b: jingu.concatenate([a, b, a], axis=1),
        lambda a, b: np.concatenate([a, b, a], axis=1),
        [_any((2, 3)), _any((2, 1))],
    ),
    "stack": (
        lambda a, b: jingu.stack([a, b], axis=-1),
        lambda a, b: np.stack([a, b], axis=-1),
        [_any((2, 3)), _any((2, 3))],
    ),
    "softmax": (lambda a: F.softmax(a, axis=-1), lambda a: softmax(a, axis=-1), [_any((3, 5))]),
    "softmax_axis0": (lambda a: F.softmax(a, axis=0), lambda a: softmax(a, axis=0), [_any((3, 5))]),
    "log_softmax": (lambda a: F.log_softmax(a, dim=1), lambda a: log_softmax(a, axis=1), [_any((3, 5))]),
    "linear": (
        lambda x, w, b: F.linear(x, w, b),
        lambda x, w, b: x @ w.T + b,
        [_any((4, 3)), _any((2, 3)), _any((2,))],
    ),
    "double_cast": (lambda a: a.float().double(), lambda a: a.astype(np.float32).astype(np.float64), [_any((3,))]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_forward_matches_numpy(name: str, make: Any, rng: np.random.Generator) -> None:
    fn, ref, makers = CASES[name]
    arrays = [m(rng) for m in makers]
    out = fn(*[make(a) for a in arrays])
    np.testing.assert_allclose(out.numpy(), ref(*arrays), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", list(CASES))
def test_gradcheck(name: str, make: Any, rng: np.random.Generator) -> None:
    fn, _, makers = CASES[name]
    if name == "double_cast":
        pytest.skip("a float32 round trip cannot pass a float64 finite-difference check")
    inputs = [make(m(rng), requires_grad=True) for m in makers]
    assert gradcheck(fn, inputs)


def test_comparisons_have_no_gradient(make: Any) -> None:
    a = make([1.0, 2.0, 3.0], requires_grad=True)
    for out in (a < 2, a <= 2, a > 2, a >= 2, a == 2, a != 2):
        assert out.dtype == np.bool_
        assert not out.requires_grad
    np.testing.assert_array_equal((a > 1.5).numpy(), [False, True, True])


def test_max_ties_share_gradient(make: Any) -> None:
    a = make([1.0, 3.0, 3.0], requires_grad=True)
    a.max().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.0, 0.5, 0.5])


def test_sigmoid_and_logsigmoid_are_stable(make: Any) -> None:
    x = make([-1000.0, -30.0, 0.0, 30.0, 1000.0], requires_grad=True)
    s = jingu.sigmoid(x)
    ls = jingu.logsigmoid(x)
    assert np.isfinite(s.numpy()).all() and np.isfinite(ls.numpy()).all()
    np.testing.assert_allclose(ls.numpy(), log_expit(x.numpy()), rtol=1e-6)
    ls.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expit(-x.numpy()), atol=1e-7)


def test_float32_stays_float32(make: Any) -> None:
    a = make(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    out = (a * 0.5 + 1) / 3.0 - a**2
    assert out.dtype == np.float32
    out.sum().backward()
    assert a.grad.dtype == np.float32
