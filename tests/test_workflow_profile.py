"""The SLURM profile cannot run here; check that Snakemake parses it and applies its resources."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow


def run(repo: Path, *args: str) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=repo, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_profile_names_only_real_rules(repo_root):
    profile = yaml.safe_load((repo_root / "workflow/profiles/slurm/config.yaml").read_text(encoding="utf-8"))
    assert profile["executor"] == "slurm"
    rules = {line.split()[0] for line in run(repo_root, "--list-rules").splitlines() if line and not line.startswith(" ")}
    assert set(profile["set-resources"]) <= rules
    assert set(profile["set-threads"]) <= rules


def test_profile_resources_reach_the_jobs(repo_root):
    out = run(repo_root, "--profile", "workflow/profiles/slurm", "--executor", "dryrun", "--cores", "1",
              "--forceall", "text")
    blocks = out.split("rule ")
    pairs = next(b for b in blocks if b.startswith("pairs:"))
    segment = next(b for b in blocks if b.startswith("segment:"))
    assert "mem_mb=4000" in pairs and "runtime=30" in pairs
    assert "mem_mb=2000" in segment
