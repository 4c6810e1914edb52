"""The `train` rule run by Snakemake on a tiny corpus: outputs, resume from a checkpoint, bad config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import make_workdir, read_config, snakemake, write_config

from w2v.config import model_settings
from helpers import train_files as train
from w2v.vectors import KeyedVectors

pytestmark = pytest.mark.slow

TRAIN = {"epochs": 2, "vector_size": 8, "device": "cpu", "workers": 1}  # one worker: bit-identical reruns


def set_train(root: Path, **train_settings) -> None:
    """The workdir's config with train settings merged in."""
    config = read_config(root)
    config["train"].update(train_settings)
    write_config(root, config)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, repo_root, test_data) -> Path:
    """A workflow folder whose text stages and CBOW training have run once."""
    corpus = (test_data / "tiny_corpus.txt").read_bytes()
    root = make_workdir(tmp_path_factory.mktemp("train_workflow") / "w", repo_root, corpus, segment={"shard_mb": 4},
                        train=TRAIN)
    done = snakemake(root, "results/cbow.vec", "results/skipgram.vec")
    assert done.returncode == 0, done.output
    return root


def test_rule_writes_vectors_history_log_and_benchmark(workdir):
    for model in ("cbow", "skipgram"):
        kv = KeyedVectors.load_word2vec_format(workdir / f"results/{model}.vec")
        assert kv.vector_size == 8 and "<pad>" not in kv
        history = json.loads((workdir / f"results/{model}.history.json").read_text(encoding="utf-8"))
        assert history["model"] == model and len(history["epochs"]) == 2
        assert history["config"]["vector_size"] == 8 and history["config"]["seed"] == 1
        assert (workdir / f"results/logs/train/{model}.log").exists()
        assert (workdir / f"results/benchmarks/train/{model}.tsv").exists()
        assert not (workdir / f"results/checkpoints/{model}.npz").exists()


def test_rerun_resumes_from_the_checkpoint(workdir):
    results = workdir / "results"
    reference = (results / "cbow.vec").read_bytes()
    (results / "cbow.vec").unlink()
    # The rule's own settings (the workdir's config: the shipped train keys and TRAIN over them)
    settings = {k: v for k, v in model_settings(read_config(workdir), "cbow").items() if k != "device"}
    train("cbow", results / "pairs" / "cbow", results / "vocab.tsv", settings, results / "x.vec",
          results / "x.json", checkpoint_path=results / "checkpoints/cbow.npz", device="cpu", stop_after=1)
    done = snakemake(workdir, "results/cbow.vec")
    assert done.returncode == 0, done.output
    assert "resuming cbow" in done.output and "after epoch 1 of 2" in done.output
    assert (results / "cbow.vec").read_bytes() == reference


def test_bad_train_setting_fails_before_any_job_naming_the_key(workdir, repo_root):
    config_path = workdir / "config" / "config.yaml"
    original = config_path.read_text(encoding="utf-8")
    try:
        set_train(workdir, skipgram={"alpha": -1})
        done = snakemake(workdir, "results/skipgram.vec")
        assert done.returncode != 0
        assert "train.skipgram.alpha" in done.output
    finally:
        config_path.write_text(original, encoding="utf-8")
