"""``jingu.cuda.get_device`` / ``jingu.device``: the device names PyTorch-style code passes, checked
where the device is picked. CuPy's absence, a CuPy without a GPU and a CuPy with one GPU are staged
with ``fake_cupy``, so every case runs on any machine."""

from __future__ import annotations

import sys

import fake_cupy
import pytest

import jingu


@pytest.fixture
def no_cupy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` now raises ImportError


@pytest.fixture
def gpus(monkeypatch: pytest.MonkeyPatch):
    """A fake CuPy; ``gpus(n)`` sets how many devices it reports."""
    fake_cupy.install(monkeypatch)

    def set_count(n: int) -> None:
        monkeypatch.setattr(sys.modules["cupy"].cuda.runtime, "getDeviceCount", lambda: n)

    return set_count


def test_get_device_is_jingu_device_and_names_the_cpu_canonically() -> None:
    assert jingu.device is jingu.cuda.get_device
    for name in ("cpu", "CPU", " cpu ", None):
        assert jingu.device(name) == "cpu"


@pytest.mark.parametrize("name", ["tpu", "gpu", "", "cuda:", "cuda:x", "cuda:-1", "cuda0"])
def test_unknown_names_are_a_value_error_listing_the_valid_ones(name: str) -> None:
    with pytest.raises(ValueError, match=r"unknown device .*; use 'cpu', 'cuda' or 'cuda:N'"):
        jingu.cuda.get_device(name)


@pytest.mark.parametrize(("name", "canonical"), [("cuda", "cuda:0"), ("cuda:0", "cuda:0"), ("CUDA:1", "cuda:1")])
def test_cuda_without_cupy_says_how_to_install_it_in_one_message(no_cupy: None, name: str, canonical: str) -> None:
    with pytest.raises(RuntimeError) as info:
        jingu.device(name)
    message = str(info.value)
    assert message.startswith(f"device '{canonical}' was asked for but CuPy is not installed")
    assert "pip install -e '.[gpu]'" in message and "'cpu'" in message
    assert "\n" not in message and info.value.__context__ is None  # one message, no chained ImportError
    assert jingu.cuda.device_count() == 0 and not jingu.cuda.is_available()


def test_cuda_with_cupy_but_no_gpu_says_so(gpus) -> None:
    gpus(0)
    with pytest.raises(RuntimeError, match=r"^device 'cuda:0' was asked for but CuPy finds no usable NVIDIA GPU") as info:
        jingu.device("cuda")
    assert str(info.value).endswith("use 'cpu'")
    assert not jingu.cuda.is_available()


def test_a_broken_driver_counts_as_no_gpu(gpus, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> int:
        raise RuntimeError("cudaErrorInsufficientDriver")

    monkeypatch.setattr(sys.modules["cupy"].cuda.runtime, "getDeviceCount", fail)
    assert jingu.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="no usable NVIDIA GPU"):
        jingu.cuda.get_device("cuda:0")


def test_cuda_with_one_gpu_is_cuda_0_and_a_second_one_is_refused(gpus) -> None:
    gpus(1)
    assert jingu.cuda.is_available() and jingu.cuda.device_count() == 1
    assert [jingu.device(n) for n in ("cuda", "cuda:0", " CUDA:0 ")] == ["cuda:0"] * 3
    with pytest.raises(RuntimeError, match=r"'cuda:1' was asked for but CuPy finds 1 GPU\(s\); use 'cuda:0' to"):
        jingu.device("cuda:1")


def test_the_blog_idiom_picks_the_cpu_without_a_gpu(no_cupy: None) -> None:
    assert jingu.cuda.get_device("cuda:0" if jingu.cuda.is_available() else "cpu") == "cpu"
