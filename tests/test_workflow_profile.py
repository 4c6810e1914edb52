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
    assert set(profile.get("set-threads", {})) <= rules


def dry_run_blocks(repo: Path, *args: str) -> dict[str, str]:
    """Each planned rule's block of a dry run of results/cbow.vec through the profile."""
    out = run(repo, "results/cbow.vec", "--profile", "workflow/profiles/slurm", "--executor", "dryrun",
              "--cores", "1", "--forceall", *args)
    return {block.split(":", 1)[0]: block for block in out.split("rule ")[1:]}


def test_profile_resources_reach_the_jobs(repo_root):
    blocks = dry_run_blocks(repo_root)
    assert "mem_mb=4000" in blocks["pairs"] and "runtime=30" in blocks["pairs"]
    assert "mem_mb=2000" in blocks["segment"]
    # CPU training (train.device auto) asks for no GPU: sbatch rejects --gpus where nodes have none.
    assert "gpu=0" in blocks["train"] and "cpus_per_task" not in blocks["train"]


def test_profile_asks_a_gpu_for_cuda_training(repo_root):
    blocks = dry_run_blocks(repo_root, "--configfile", "config/gpu.yaml")
    assert "gpu=1" in blocks["train"] and "runtime=240" in blocks["train"]
