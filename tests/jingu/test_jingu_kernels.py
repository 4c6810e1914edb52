"""jingu's CuPy kernels (`jingu.cuda.run_kernel`): a kernel that does not compile falls back to the
array code, once and logged; a kernel that fails in a launch raises. Checked on the CPU with the fake
CuPy (tests/jingu/fake_cupy.py); on a GPU, every kernel must compile and match NumPy."""

from __future__ import annotations

import importlib.util
import logging

import fake_cupy
import numpy as np
import pytest

import jingu
from jingu import cuda
from jingu.kernels import bag_sum
from jingu.sparse import RowSparse

NO_CUPY = pytest.mark.skipif(
    importlib.util.find_spec("cupy") is not None, reason="CuPy is installed: the GPU tests cover its path"
)
KERNELS = ("logsigmoid", "logsigmoid_grad", "bag_sum", "bag_scatter")
X = np.linspace(-8, 8, 11)


def _logsigmoid_and_grad(xp_asarray) -> tuple[np.ndarray, np.ndarray]:
    t = jingu.Tensor(xp_asarray(X), requires_grad=True)
    y = jingu.logsigmoid(t)
    (y * 2.0).sum().backward()
    return cuda.as_numpy(y.data), cuda.as_numpy(t.grad.data)


def _bag_sum_and_scatter(xp_asarray) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    table, ids = rng.normal(size=(6, 3)), rng.integers(0, 6, size=(4, 2))
    weights, x = rng.normal(size=(4, 2)), rng.normal(size=(4, 3))
    summed = bag_sum(xp_asarray(table), xp_asarray(ids), xp_asarray(weights), slots=ids.shape[1])
    grad = RowSparse.product(xp_asarray(ids.reshape(-1)), xp_asarray(x), (6, 3),
                             weights=xp_asarray(weights.reshape(-1)), slots=2)
    return cuda.as_numpy(summed), cuda.as_numpy(grad.to_dense())


EXPECTED_LOGSIGMOID = (-np.logaddexp(0, -X), 2.0 / (1.0 + np.exp(X)))


def _expected_bags() -> tuple[np.ndarray, np.ndarray]:
    return _bag_sum_and_scatter(np.asarray)  # the NumPy path (SciPy kernels), tested on its own


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch):
    counts = fake_cupy.install(monkeypatch)
    return fake_cupy, counts


@NO_CUPY
def test_the_fake_runs_every_kernel_once_per_call(fake) -> None:
    """The baseline of the tests below: with kernels that work, each op is one kernel launch."""
    fake_module, counts = fake
    y, gx = _logsigmoid_and_grad(fake_module.asarray)
    np.testing.assert_allclose(y, EXPECTED_LOGSIGMOID[0], rtol=1e-12)
    np.testing.assert_allclose(gx, EXPECTED_LOGSIGMOID[1], rtol=1e-12)
    sums, grad = _bag_sum_and_scatter(fake_module.asarray)
    for got, want in zip((sums, grad), _expected_bags()):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert all(counts.names[f"jingu_{k}"] == 1 for k in KERNELS), counts.names


@NO_CUPY
def test_a_kernel_that_does_not_compile_falls_back_once_and_logs(fake, monkeypatch, caplog) -> None:
    fake_module, counts = fake
    tried: list[str] = []

    def rejected(name):
        def impl(*args, **kwargs):
            tried.append(name)
            raise fake_module.CompileException(f"nvrtc: error in {name}: identifier is undefined")

        return impl

    monkeypatch.setattr(fake_module, "FUSED", {f"jingu_{k}": rejected(k) for k in KERNELS})
    with caplog.at_level(logging.WARNING, logger="jingu.cuda"):
        for _ in range(2):
            y, gx = _logsigmoid_and_grad(fake_module.asarray)
            np.testing.assert_allclose(y, EXPECTED_LOGSIGMOID[0], rtol=1e-12)
            np.testing.assert_allclose(gx, EXPECTED_LOGSIGMOID[1], rtol=1e-12)
            for got, want in zip(_bag_sum_and_scatter(fake_module.asarray), _expected_bags()):
                np.testing.assert_allclose(got, want, rtol=1e-12)
    assert sorted(tried) == sorted(KERNELS)  # each tried once, then never again
    warnings = [r.getMessage() for r in caplog.records if "does not compile" in r.getMessage()]
    assert len(warnings) == len(KERNELS) and all("using the fallback" in w for w in warnings)


class LaunchFailed(RuntimeError):
    """A failure inside a compiled kernel's launch (e.g. an illegal memory access)."""


@NO_CUPY
@pytest.mark.parametrize("kernel", KERNELS)
def test_a_kernel_that_fails_in_a_launch_raises_and_stays_enabled(fake, monkeypatch, kernel) -> None:
    fake_module, _ = fake
    working = dict(fake_module.FUSED)

    def crash(*args, **kwargs):
        raise LaunchFailed(f"cudaErrorIllegalAddress in jingu_{kernel}")

    monkeypatch.setattr(fake_module, "FUSED", {**working, f"jingu_{kernel}": crash})
    run = _logsigmoid_and_grad if kernel.startswith("logsigmoid") else _bag_sum_and_scatter
    with pytest.raises(LaunchFailed, match=f"jingu_{kernel}"):
        run(fake_module.asarray)
    assert cuda._kernels.get(kernel) is not False  # not silently switched to the fallback
    monkeypatch.setattr(fake_module, "FUSED", working)
    run(fake_module.asarray)  # the kernel is tried again: a transient fault does not disable it
    assert cuda._kernels.get(kernel) not in (None, False)


@NO_CUPY
def test_a_failure_after_the_kernel_compiled_raises(fake, monkeypatch) -> None:
    """A kernel that worked and then fails (another shape, a device fault) raises, however broad the error."""
    fake_module, _ = fake
    _logsigmoid_and_grad(fake_module.asarray)
    assert cuda._kernels["logsigmoid"] not in (None, False)

    def crash(*args, **kwargs):
        raise ValueError("jingu_logsigmoid: output size mismatch")

    monkeypatch.setattr(cuda._kernels["logsigmoid"], "impl", crash)  # the built kernel's body
    with pytest.raises(ValueError, match="size mismatch"):
        _logsigmoid_and_grad(fake_module.asarray)


@pytest.mark.gpu
@pytest.mark.skipif(not jingu.cuda.is_available(), reason="CuPy finds no GPU")
def test_every_kernel_compiles_and_matches_numpy_on_a_gpu(monkeypatch) -> None:
    """The real CUDA sources: none may fall back (a fallback would hide a broken kernel body)."""
    import cupy  # noqa: PLC0415

    monkeypatch.setattr(cuda, "_kernels", {})
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        y, gx = _logsigmoid_and_grad(lambda a: cupy.asarray(np.asarray(a, dtype=dtype if a.dtype.kind == "f" else None)))
        np.testing.assert_allclose(y, EXPECTED_LOGSIGMOID[0], rtol=rtol, atol=1e-30)
        np.testing.assert_allclose(gx, EXPECTED_LOGSIGMOID[1], rtol=rtol, atol=1e-30)
    for got, want in zip(_bag_sum_and_scatter(cupy.asarray), _expected_bags()):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert all(cuda._kernels.get(k) not in (None, False) for k in KERNELS), cuda._kernels
