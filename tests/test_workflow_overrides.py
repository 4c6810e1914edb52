"""Per-model train overrides in the workflow: each `train` job gets exactly its model's settings
(`w2v.config.model_settings`), and a config change reruns exactly the jobs whose settings moved.

The keys come from the config schema, so every train key is checked, not only those the shipped
config happens to set. The settings are read from the shell commands of a dry run (`-n -p`).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from helpers import make_workdir, planned_jobs, read_config, snakemake, write_config

from w2v.config import check_train_settings, model_settings, train_properties

pytestmark = pytest.mark.slow

MODELS = ("cbow", "skipgram")
TRAIN = {"epochs": 1, "vector_size": 8, "device": "cpu", "workers": 1}
TARGETS = ("results/cbow.vec", "results/skipgram.vec")


def other_value(key: str, current: object) -> object:
    """A valid value of train key `key` other than `current` (the schema's enum, bounds and type)."""
    prop = train_properties()[key]
    if key == "negative_group":  # 1 fits any batch_size and allows shared_negatives
        return 1 if current != 1 else 2
    if "enum" in prop:
        return next(v for v in prop["enum"] if v != current)
    if prop["type"] == "integer":
        return current + 1 if current + 1 <= prop.get("maximum", current + 1) else current - 1
    return current / 2 if current else 1e-4


def job_settings(root: Path) -> dict[str, dict]:
    """Model -> the --settings JSON its train job would get, from a forced dry run."""
    done = snakemake(root, "-n", "-p", "--forceall", *TARGETS)
    assert done.returncode == 0, done.output
    found = {}
    for line in done.output.splitlines():
        if " w2v train --model " in line:
            words = shlex.split(line[line.index("w2v train"):])
            found[words[words.index("--model") + 1]] = json.loads(words[words.index("--settings") + 1])
    assert set(found) == set(MODELS), done.output
    return found


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, repo_root, test_data) -> Path:
    corpus = (test_data / "tiny_corpus.txt").read_bytes()
    return make_workdir(tmp_path_factory.mktemp("overrides") / "w", repo_root, corpus, segment={"shard_mb": 1},
                        train=TRAIN)


@pytest.mark.parametrize("model", MODELS)
def test_an_override_of_every_key_reaches_its_model_only(workdir, model):
    config = read_config(workdir)
    other = next(m for m in MODELS if m != model)
    before = model_settings(config, model)
    overrides = {key: other_value(key, before[key]) for key in train_properties() if key != "seed"}
    check_train_settings({**before, **overrides})  # the test's own values must be a valid config
    config["train"][model] = overrides
    config["train"][other] = {}
    write_config(workdir, config)
    settings = job_settings(workdir)
    assert settings[model] == model_settings(config, model)
    assert settings[model] == {**overrides, "seed": config["seed"]}
    base = {k: v for k, v in config["train"].items() if k not in MODELS}
    assert settings[other] == {**base, "seed": config["seed"]}  # no key of the other model's section
    assert set(settings[other]) == set(train_properties())  # no section nested in the params


@pytest.fixture(scope="module")
def trained(workdir) -> Path:
    """The workdir with the shipped overrides (skip-gram's optimizer, batch_size, alpha), trained once."""
    config = read_config(workdir)
    config["train"]["cbow"] = {}
    config["train"]["skipgram"] = {"optimizer": "adagrad", "batch_size": 256, "alpha": 0.25}
    write_config(workdir, config)
    done = snakemake(workdir, *TARGETS)
    assert done.returncode == 0, done.output
    assert planned_jobs(workdir, *TARGETS) == set()
    return workdir


@pytest.mark.parametrize(
    ("change", "rerun"),
    [
        ({"skipgram": {"optimizer": "adagrad", "batch_size": 256, "alpha": 0.2}}, {"skipgram"}),
        ({"cbow": {"negative": 3}}, {"cbow"}),
        ({"alpha": 0.04}, {"cbow"}),  # skip-gram overrides alpha, so its job keeps its settings
        ({"epochs": 2}, {"cbow", "skipgram"}),
    ],
)
def test_a_config_change_reruns_exactly_the_jobs_it_touches(trained, change, rerun):
    path = trained / "config" / "config.yaml"
    original = path.read_text(encoding="utf-8")
    try:
        config = read_config(trained)
        config["train"].update(change)
        write_config(trained, config)
        assert planned_jobs(trained, *TARGETS) == {("train", f"model={m}") for m in rerun}
    finally:
        path.write_text(original, encoding="utf-8")
