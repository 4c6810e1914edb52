"""The workflow on a real one-node SLURM, through snakemake-executor-plugin-slurm and
workflow/profiles/slurm: every rule an sbatch job, and the same vectors as a local run.

tests/slurm/local_slurm.sh starts the cluster (munged, slurmctld, slurmd) in a temp folder. The
test skips where that cannot work: not root, no `slurm-wlm`/`munge` packages, no plugin, or a
SLURM configuration already in /etc/slurm. Run it alone with `python -m pytest -q -m slurm`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_workflow_text import make_workdir, snakemake

pytestmark = [pytest.mark.slow, pytest.mark.slurm]

SCRIPT = Path(__file__).resolve().parent / "slurm" / "local_slurm.sh"
CORPUS_LINES = 300
# CPU, one worker: training is deterministic, so both runs must write the same bytes.
TRAIN = {"epochs": 2, "vector_size": 16, "device": "cpu", "workers": 1}
MODELS = ("cbow", "skipgram")
RUN_TIMEOUT_S = 1200
# No accounting database: job states come from squeue. Status checks start after 1 s (the plugin waits
# 40 s by default) and back off by 10 s per check until a job ends.
SLURM_ARGS = ("--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "1",
              "--seconds-between-status-checks", "1")


def why_no_slurm() -> str | None:
    """Why a local SLURM cannot start here, or None."""
    if os.geteuid() != 0:
        return "needs root (slurmd starts jobs as their user)"
    missing = [tool for tool in ("munged", "mungekey", "slurmctld", "slurmd", "sbatch") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not found: apt-get install -y slurm-wlm munge"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm not installed: pip install -e '.[cluster]'"
    conf = Path("/etc/slurm/slurm.conf")
    if conf.exists():
        return f"{conf} exists (a real cluster, or a local one still running); the local cluster needs that path"
    return None


@pytest.fixture(scope="module")
def slurm_conf(tmp_path_factory):
    """A running one-node SLURM; yields its slurm.conf and stops it afterwards."""
    reason = why_no_slurm()
    if reason:
        pytest.skip(f"no local SLURM: {reason}")
    folder = tmp_path_factory.mktemp("slurm")
    started = subprocess.run(["bash", str(SCRIPT), "start", str(folder)], capture_output=True, text=True, timeout=120)
    try:
        assert started.returncode == 0, f"local SLURM did not start:\n{started.stdout}{started.stderr}"
        yield folder / "slurm.conf"
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", str(folder)], capture_output=True, timeout=120)


def test_slurm_run_gives_the_local_vectors(slurm_conf, tmp_path, repo_root):
    lines = (repo_root / "data" / "raw" / "xiyouji.txt").read_bytes().splitlines(keepends=True)
    corpus = b"".join(lines[:CORPUS_LINES])
    local = make_workdir(tmp_path / "local", repo_root, corpus, train=TRAIN)
    cluster = make_workdir(tmp_path / "slurm", repo_root, corpus, train=TRAIN)

    done = snakemake(local, *(f"results/{m}.vec" for m in MODELS[1:]), target=f"results/{MODELS[0]}.vec")
    assert done.returncode == 0, done.output

    # A status query that never sees a job end makes Snakemake wait forever: bound the run.
    env = {**os.environ, "SLURM_CONF": str(slurm_conf),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    profile = repo_root / "workflow" / "profiles" / "slurm"
    run = subprocess.run([sys.executable, "-m", "snakemake", "all", "--workflow-profile", str(profile), *SLURM_ARGS],
                         cwd=cluster, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    run.output = run.stdout + run.stderr
    assert run.returncode == 0, run.output

    # Every job but the target rule's went through sbatch.
    table = run.output.split("Job stats:", 1)[1]
    planned = int(re.search(r"^total\s+(\d+)\s*$", table, flags=re.M).group(1))
    local_rules = set(re.findall(r"^localrule (\w+):", run.output, flags=re.M))
    submitted = len(re.findall(r"has been submitted with SLURM jobid \d+", run.output))
    assert local_rules == {"all"}, run.output
    assert submitted == planned - 1 >= len(MODELS) + 1, run.output

    for model in MODELS:
        produced = (cluster / "results" / f"{model}.vec").read_bytes()
        assert produced == (local / "results" / f"{model}.vec").read_bytes(), f"{model}.vec differs"
    assert (cluster / "results" / "similarity_report.md").is_file()
