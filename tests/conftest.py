"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (holds Snakefile, config/, data/, workflow/)."""
    return REPO


@pytest.fixture(scope="session")
def test_data() -> Path:
    """tests/data: tiny corpora and other fixtures."""
    return TEST_DATA
