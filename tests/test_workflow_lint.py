"""`snakemake --lint` finds nothing to complain about (CI runs this test)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_snakemake_lint_is_clean(repo_root):
    result = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=repo_root, capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Lints for" not in output, output
    assert "Congratulations, your workflow is in a good condition!" in output
