"""The whole workflow on a tiny corpus, run as a user would: text stages, both models, the report.

Also checks that Snakemake reruns only what a changed setting touches downstream of the text
stages: a training setting retrains (and re-evaluates) without redoing pairs; an evaluation
setting only rebuilds the report.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from test_workflow_text import make_workdir, snakemake, write_config
from w2v.vectors import KeyedVectors

pytestmark = pytest.mark.slow

TINY_TRAIN = {"epochs": 2, "vector_size": 8, "device": "cpu", "batch_size": 64}


def planned_rules(root: Path, **sections) -> set[str]:
    """The rules a dry run would execute after the config gets `sections`."""
    write_config(root, yaml.safe_load((root / "config" / "config.yaml").read_text(encoding="utf-8")), **sections)
    done = snakemake(root, "-n", "--quiet", "rules", target="all")
    assert done.returncode == 0, done.output
    table = done.output.split("Job stats:", 1)[-1] if "Job stats:" in done.output else done.output
    return set(re.findall(r"^(\w+)\s+\d+\s*$", table, flags=re.M)) - {"total", "all"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, repo_root, test_data) -> Path:
    corpus = (test_data / "tiny_corpus.txt").read_bytes()
    root = make_workdir(tmp_path_factory.mktemp("e2e") / "w", repo_root, corpus, segment={"shards": 1}, train=TINY_TRAIN)
    # one model first, as the quick start does: the console names the command that gives the report
    done = snakemake(root, target="results/cbow.vec")
    assert done.returncode == 0, done.output
    assert "Next: `snakemake --cores 4 results/similarity_report.md`" in done.output
    done = snakemake(root, target="all")
    assert done.returncode == 0, done.output
    assert "explorer: results/explorer.html" in done.output
    return root


def test_default_target_builds_both_models_and_the_report(workdir):
    report = (workdir / "results" / "similarity_report.md").read_text(encoding="utf-8")
    for model in ("cbow", "skipgram"):
        kv = KeyedVectors.load_word2vec_format(workdir / "results" / f"{model}.vec")
        assert kv.vector_size == 8
    assert "CBOW" in report and "skip-gram" in report.lower()
    for link in re.findall(r"\]\((report/[^)]+\.svg)\)", report):
        assert (workdir / "results" / link).is_file(), link
    assert (workdir / "results" / "report" / "loss.svg").is_file()
    assert (workdir / "results" / "explorer.html").stat().st_size > 10_000


def test_nothing_to_be_done_after_a_full_run(workdir):
    done = snakemake(workdir, target="all")
    assert done.returncode == 0 and "Nothing to be done" in done.output, done.output


def test_changing_a_training_setting_retrains_without_redoing_pairs(workdir):
    rules = planned_rules(workdir, train={**TINY_TRAIN, "epochs": 3})
    assert rules == {"train", "evaluate"}
    rules = planned_rules(workdir, train={**TINY_TRAIN, "skipgram": {"negative": 3}})
    assert rules == {"train", "evaluate"}


def test_changing_an_evaluation_setting_only_rebuilds_the_report(workdir, repo_root):
    shipped = yaml.safe_load((repo_root / "config" / "config.yaml").read_text(encoding="utf-8"))["train"]
    write_config(workdir, yaml.safe_load((workdir / "config" / "config.yaml").read_text(encoding="utf-8")),
                 train={**TINY_TRAIN, "cbow": shipped.get("cbow") or {}, "skipgram": shipped.get("skipgram") or {}})
    assert planned_rules(workdir) == set()
    assert planned_rules(workdir, eval={"topn": 5}) == {"evaluate"}
