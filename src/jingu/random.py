"""The global random generator behind ``jingu.nn.init`` (seed it with ``jingu.manual_seed``)."""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator so initializations repeat exactly; returns it."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed needs a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> np.random.Generator:
    """The global ``numpy.random.Generator`` (draws happen on the CPU, so CPU and GPU match)."""
    return _generator
