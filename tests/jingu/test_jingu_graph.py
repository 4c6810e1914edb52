"""Whole-graph behaviour (reuse, accumulation, no_grad, detach, deep chains) and clear errors."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import jingu
from jingu.testing import gradcheck


def test_tensor_used_twice(make: Any) -> None:
    x = make([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x + x  # x feeds three inputs
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 1)


def test_shared_subexpression(make: Any, rng: np.random.Generator) -> None:
    x = make(rng.normal(size=(3, 2)), requires_grad=True)
    w = make(rng.normal(size=(2, 2)), requires_grad=True)

    def f(x: Any, w: Any) -> Any:
        h = jingu.tanh(x @ w)  # used by two branches of different depth
        return (h * h).sum(axis=1) + jingu.exp(h).mean(axis=1) * h.sum(axis=1)

    assert gradcheck(f, [x, w])


def test_gradient_accumulates_over_two_backward_calls(make: Any) -> None:
    x = make([1.0, -2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 + 2 * x.numpy())


def test_retain_graph_allows_second_backward(make: Any) -> None:
    x = make([1.0, 2.0], requires_grad=True)
    y = (jingu.exp(x) * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp(x.numpy()))


def test_backward_through_freed_graph_raises(make: Any) -> None:
    x = make([1.0, 2.0], requires_grad=True)
    y = (jingu.exp(x) * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_no_grad_records_nothing(make: Any) -> None:
    x = make([1.0, 2.0], requires_grad=True)
    with jingu.no_grad():
        y = x * 2
        assert not jingu.is_grad_enabled()
    assert jingu.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()

    @jingu.no_grad()
    def double(t: Any) -> Any:
        return t * 2

    assert not double(x).requires_grad
    with jingu.no_grad():
        with jingu.enable_grad():
            assert (x * 2).requires_grad


def test_detach_cuts_the_graph(make: Any) -> None:
    x = make([1.0, 2.0], requires_grad=True)
    y = x * 3
    z = (y.detach() * x).sum()  # only the direct x path carries gradient
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.numpy())
    assert y.detach().data is y.data


def test_chain_of_10000_ops(make: Any) -> None:
    x = make([0.5], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001**10_000], rtol=1e-9)


def test_only_leaves_that_require_grad_get_grads(make: Any) -> None:
    a = make([1.0, 2.0], requires_grad=True)
    b = make([3.0, 4.0])
    (a * b).sum().backward()
    assert b.grad is None
    np.testing.assert_allclose(a.grad.numpy(), b.numpy())


def test_custom_function_api(make: Any) -> None:
    class Cube(jingu.Function):
        def forward(self, x: Any, scale: float = 1.0) -> Any:
            self.save_for_backward(x)
            self.scale = scale
            return scale * x**3

        def backward(self, gy: Any) -> Any:
            (x,) = self.saved_tensors
            assert self.needs_input_grad == (True,)
            return gy * 3 * self.scale * x**2

    class SplitSum(jingu.Function):
        """Two outputs; the second input is a plain array and gets no gradient."""

        def forward(self, x: Any, y: Any) -> Any:
            return x + y, x * 2

        def backward(self, g1: Any, g2: Any) -> Any:
            return g1 + 2 * g2, None

    x = make(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    assert gradcheck(lambda t: Cube.apply(t, scale=2.0), [x])
    other = jingu.cuda.to_device(np.ones(3), x.device)
    a, b = SplitSum.apply(x, other)
    assert a.requires_grad and b.requires_grad
    x.grad = None
    a.sum().backward()  # b's gradient is missing: it is filled with zeros
    np.testing.assert_allclose(x.grad.numpy(), np.ones(3))
    assert gradcheck(lambda t: SplitSum.apply(t, other), [x])


def test_custom_function_wrong_gradient_shape_is_named(make: Any) -> None:
    class Bad(jingu.Function):
        def forward(self, x: Any) -> Any:
            return x * 1

        def backward(self, gy: Any) -> Any:
            return gy[:1]

    x = make([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Bad.backward returned a gradient of shape \(1,\)"):
        Bad.apply(x).sum().backward()


# ---- clear errors ----------------------------------------------------------------------------
def test_matmul_shape_mismatch_names_both_shapes(make: Any) -> None:
    a, b = make(np.ones((2, 3))), make(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(4, 5\)"):
        a @ b


def test_backward_on_non_scalar_needs_grad(make: Any) -> None:
    x = make(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar output.*\(2, 2\)"):
        (x * 2).backward()
    (x * 2).backward(np.ones((2, 2)) if x.device == "cpu" else jingu.cuda.to_device(np.ones((2, 2)), x.device))
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.ones((2, 2)))


def test_requires_grad_on_integer_tensor() -> None:
    with pytest.raises(TypeError, match="floating-point.*int64"):
        jingu.Tensor(np.array([1, 2]), requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        jingu.Tensor(np.array([1, 2])).requires_grad_()


@pytest.mark.gpu
def test_tensors_on_different_devices_raise() -> None:
    if not jingu.cuda.is_available():
        pytest.skip("no CUDA GPU: CuPy is not installed or sees no device")
    a = jingu.Tensor(np.ones(2), device="cpu")
    b = jingu.Tensor(np.ones(2), device="cuda")
    with pytest.raises(RuntimeError, match="different devices: cpu and cuda:0"):
        a + b


def test_different_devices_message_without_gpu() -> None:
    """The device check itself, with a stand-in GPU array (runs on any machine)."""
    from jingu.autograd import _check_devices

    class FakeGpuArray:
        shape = (2,)
        device = type("Dev", (), {"id": 0})()

    with pytest.raises(RuntimeError, match="Add: tensors on different devices: cpu and cuda:0"):
        _check_devices(type("Add", (), {}), [np.ones(2), FakeGpuArray()])


def test_cuda_unknown_device_and_missing_cupy() -> None:
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        jingu.Tensor([1.0], device="tpu")
    assert jingu.cuda.canonical_device("cuda") == "cuda:0"
    assert jingu.cuda.canonical_device("CUDA:1") == "cuda:1"
    if not jingu.cuda.is_available():
        try:
            import cupy  # noqa: F401
        except ImportError:
            with pytest.raises(RuntimeError, match="CuPy is not installed"):
                jingu.Tensor([1.0], device="cuda")


def test_tensor_basics(make: Any) -> None:
    t = make(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert t.dtype == np.float64 and t.is_leaf
    assert t.device in ("cpu", "cuda:0")
    assert (t.sum()).item() == 15.0
    assert t.to(t.device) is t
    assert jingu.Tensor([1.0, 2.0]).dtype == np.float32  # Python floats default to float32
    assert jingu.Tensor([1, 2]).dtype == np.int64
    assert "requires_grad=True" in repr(t)
    moved = t.to("cpu") * 2
    moved.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), 2 * np.ones((2, 3)))
    with pytest.raises(ValueError, match="one element"):
        t.item()


def test_ndarray_on_the_left_defers_to_tensor(make: Any) -> None:
    x = make(np.array([1.0, 2.0]), requires_grad=True)
    y = jingu.cuda.to_device(np.array([3.0, 4.0]), x.device) * x
    assert isinstance(y, jingu.Tensor) and y.requires_grad


def test_import_prints_nothing_and_leaves_cupy_alone() -> None:
    code = "import sys, jingu; assert 'cupy' not in sys.modules, 'cupy imported'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""


def test_broadcast_gradients_come_back_full_and_writable(make: Any, rng: np.random.Generator) -> None:
    s = make(np.array(1.5), requires_grad=True)
    x = make(rng.normal(size=(3, 4)), requires_grad=True)
    (s * x).sum().backward()
    np.testing.assert_allclose(s.grad.numpy(), x.numpy().sum())
    np.testing.assert_allclose(x.grad.numpy(), np.full((3, 4), 1.5))
    x.grad.data[0, 0] = 0.0  # a leaf's gradient owns its memory
    assert gradcheck(lambda a, b: (a * b).sum(axis=0) / b, [s, x])


def test_ops_on_reduced_scalars(make: Any) -> None:
    x = make(np.array([1.0, 2.0]), requires_grad=True)
    s = x.sum()
    assert hasattr(s.data, "shape") and s.shape == ()
    assert gradcheck(lambda t: jingu.logsigmoid(t.sum()) * jingu.sigmoid(t.max()), [x])
