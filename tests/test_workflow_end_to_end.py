"""The whole workflow on the small test config (.test/config/config.yaml), run as a user would:
text stages, both models, the report.

Also checks that Snakemake reruns only what a changed setting touches downstream of the text
stages: a training setting retrains (and re-evaluates) without redoing pairs; an evaluation
setting only rebuilds the report.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from helpers import planned_jobs, snakemake, write_config

from w2v.vectors import KeyedVectors

pytestmark = pytest.mark.slow


def run(root: Path, repo: Path, *args: str, target: str = "all"):
    """The repository's Snakefile run in `root` (a copy of .test/), as `snakemake --directory .test` does."""
    return snakemake(root, *args, target=target, snakefile=repo / "Snakefile")


def planned_rules(root: Path, repo: Path, **sections) -> set[str]:
    """The rules a dry run would execute after the config gets `sections`."""
    write_config(root, yaml.safe_load((root / "config" / "config.yaml").read_text(encoding="utf-8")), **sections)
    done = run(root, repo, "-n", "--quiet", "rules")
    assert done.returncode == 0, done.output
    table = done.output.split("Job stats:", 1)[-1] if "Job stats:" in done.output else done.output
    return set(re.findall(r"^(\w+)\s+\d+\s*$", table, flags=re.M)) - {"total", "all"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, repo_root) -> Path:
    root = tmp_path_factory.mktemp("e2e") / "test"
    shutil.copytree(repo_root / ".test", root, ignore=shutil.ignore_patterns("results", ".snakemake"))
    # one model first, as the quick start does: the console names the command that gives the report
    done = run(root, repo_root, target="results/cbow.vec")
    assert done.returncode == 0, done.output
    assert "Next: `snakemake --cores 4 results/similarity_report.md`" in done.output
    done = run(root, repo_root)
    assert done.returncode == 0, done.output
    assert "explorer: results/explorer.html" in done.output
    return root


@pytest.fixture()
def shipped_test_config(workdir, repo_root):
    """Put .test's own config back after a test that edits it."""
    yield
    shutil.copy(repo_root / ".test" / "config" / "config.yaml", workdir / "config" / "config.yaml")


def test_test_config_builds_both_models_and_the_report(workdir, repo_root):
    test_config = yaml.safe_load((repo_root / ".test" / "config" / "config.yaml").read_text(encoding="utf-8"))
    report = (workdir / "results" / "similarity_report.md").read_text(encoding="utf-8")
    for model in ("cbow", "skipgram"):
        kv = KeyedVectors.load_word2vec_format(workdir / "results" / f"{model}.vec")
        assert kv.vector_size == test_config["train"]["vector_size"]
        assert kv.chars is not None and len(kv.chars) > 100 and kv.is_composed("猴大圣")  # never in the chapter
    assert "CBOW" in report and "skip-gram" in report.lower()
    for query in test_config["eval"]["queries"]:
        assert query in report
    for link in re.findall(r"\]\((report/[^)]+\.svg)\)", report):
        assert (workdir / "results" / link).is_file(), link
    assert (workdir / "results" / "report" / "loss.svg").is_file()
    assert (workdir / "results" / "explorer.html").stat().st_size > 10_000


def test_nothing_to_be_done_after_a_full_run(workdir, repo_root):
    done = run(workdir, repo_root)
    assert done.returncode == 0 and "Nothing to be done" in done.output, done.output
    assert "explorer: results/explorer.html" in done.output  # the hint comes though no job ran


def test_changing_a_training_setting_retrains_without_redoing_pairs(workdir, repo_root, shipped_test_config):
    assert planned_rules(workdir, repo_root, train={"epochs": 3}) == {"train", "evaluate"}
    assert planned_rules(workdir, repo_root, train={"skipgram": {"negative": 3}}) == {"train", "evaluate"}
    # Characters come from results/chars.tsv, which the vocab rule writes whatever `chars` says.
    assert planned_rules(workdir, repo_root, train={"chars": "none"}) == {"train", "evaluate"}
    assert planned_rules(workdir, repo_root, train={"min_char_count": 3}) == {"train", "evaluate"}


def test_a_model_override_retrains_that_model_alone(workdir, repo_root, shipped_test_config):
    # which jobs, not only which rules (tests/test_workflow_overrides.py checks every key)
    planned_rules(workdir, repo_root, train={"skipgram": {"negative": 3}})
    jobs = planned_jobs(workdir, "all", snakefile=repo_root / "Snakefile")
    assert {job for job in jobs if job[0] == "train"} == {("train", "model=skipgram")}


def test_changing_an_evaluation_setting_only_rebuilds_the_report(workdir, repo_root, shipped_test_config):
    assert planned_rules(workdir, repo_root) == set()
    assert planned_rules(workdir, repo_root, eval={"topn": 5}) == {"evaluate"}
