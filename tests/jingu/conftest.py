"""Device parametrization for the jingu tests: CPU always, CUDA when CuPy sees a GPU."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import jingu


def _device_params() -> list[Any]:
    if jingu.cuda.is_available():
        cuda = pytest.param("cuda", marks=pytest.mark.gpu, id="cuda")
    else:
        cuda = pytest.param(
            "cuda",
            marks=[pytest.mark.gpu, pytest.mark.skip(reason="no CUDA GPU: CuPy is not installed or sees no device")],
            id="cuda",
        )
    return [pytest.param("cpu", id="cpu"), cuda]


@pytest.fixture(params=_device_params())
def device(request: pytest.FixtureRequest) -> str:
    """``"cpu"`` or ``"cuda"``: every test that takes it runs once per device."""
    return request.param


@pytest.fixture
def make(device: str) -> Callable[..., jingu.Tensor]:
    """``make(array, requires_grad=False)``: a Tensor on the test's device."""

    def build(array: Any, requires_grad: bool = False, dtype: Any = None) -> jingu.Tensor:
        return jingu.Tensor(np.asarray(array), requires_grad=requires_grad, dtype=dtype, device=device)

    return build


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
