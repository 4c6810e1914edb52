"""The config schema as the one source: train defaults, their validation, `w2v train` flags, docs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jsonschema
import pytest
import yaml

from w2v import config
from w2v.cli import build_parser
from w2v.commands.train import settings_from_args
from w2v.errors import UserError
from w2v.config import check_train_settings as full_settings, train_defaults

DEFAULTS = train_defaults()

TRAIN_KEYS = [k for k in config.train_properties() if k not in config.PLACEMENT_KEYS]


def parse_train(*flags: str):
    return build_parser().parse_args(["train", "--model", "cbow", "--pairs", "p", "--vocab", "v",
                                      "--out-vec", "o", "--out-history", "h", *flags])


def test_the_workflow_reads_the_same_schema_file_as_the_package(repo_root):
    linked = repo_root / "workflow" / "schemas" / "config.schema.yaml"
    assert linked.resolve() == (repo_root / "src" / "w2v" / config.SCHEMA_FILE).resolve()
    assert yaml.safe_load(linked.read_text(encoding="utf-8")) == config.schema()


def test_every_default_and_description_is_valid():
    jsonschema.Draft202012Validator.check_schema(config.schema())
    for key, prop in config.train_properties().items():
        assert prop.get("description"), key
        jsonschema.Draft202012Validator(prop).validate(prop["default"])
    assert sorted(DEFAULTS) == sorted(TRAIN_KEYS)


def test_per_model_sections_override_every_train_key():
    train = config.schema()["properties"]["train"]["properties"]
    for model in config.model_names():
        assert sorted(train[model]["properties"]) == sorted(k for k in config.train_properties() if k != "seed")


def test_full_settings_fills_defaults_and_validates_with_the_schema():
    out = full_settings({"epochs": 3, "device": "cpu", "vector_size": 8.0})
    assert out == {**DEFAULTS, "epochs": 3, "vector_size": 8} and isinstance(out["vector_size"], int)
    with pytest.raises(UserError, match=r"train\.vector_size: 0 is less than the minimum of 1 \(flag --vector-size\)"):
        full_settings({"vector_size": 0})
    with pytest.raises(UserError, match=r"train\.alpha: 11 is greater than the maximum of 10"):
        full_settings({"alpha": 11})
    with pytest.raises(UserError, match=r"train\.optimizer: 'adam' is not one of"):
        full_settings({"optimizer": "adam"})
    with pytest.raises(UserError, match=r"train\.epochs: True is not of type 'integer'"):
        full_settings({"epochs": True})
    with pytest.raises(UserError, match=r"seed: -1 is less than the minimum of 0"):
        full_settings({"seed": -1})
    with pytest.raises(UserError, match=r"unknown train setting\(s\) \['learning_rate'\]"):
        full_settings({"learning_rate": 0.1})
    with pytest.raises(UserError, match=r"train\.batch_size \(1000\) must be a multiple of train\.negative_group \(16\)"):
        full_settings({"batch_size": 1000, "negative_group": 16})
    with pytest.raises(UserError, match=r"train\.shared_negatives and train\.negative_group > 1"):
        full_settings({"shared_negatives": 64, "negative_group": 8})


def test_every_train_key_has_a_typed_flag_that_overrides_settings_json():
    args = parse_train("--settings", json.dumps({"epochs": 5, "alpha": 0.2, "sample": 0.01}),
                       "--epochs", "2", "--vector-size", "8", "--cbow-gradient", "exact", "--min-alpha", "0.001",
                       "--device", "cpu", "--seed", "7")
    assert settings_from_args(args) == {"epochs": 2, "alpha": 0.2, "sample": 0.01, "vector_size": 8,
                                        "cbow_gradient": "exact", "min_alpha": 0.001, "device": "cpu", "seed": 7}
    assert settings_from_args(parse_train()) == {}  # flags left out leave the defaults to the schema
    help_text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    for key in config.train_properties():
        assert f"--{key.replace('_', '-')}" in help_text, key


@pytest.mark.parametrize("flags", [["--epochs", "two"], ["--optimizer", "adam"], ["--alpha", "fast"]])
def test_a_flag_of_the_wrong_type_is_a_usage_error(flags, capsys):
    with pytest.raises(SystemExit) as info:
        parse_train(*flags)
    assert info.value.code == 2 and flags[0] in capsys.readouterr().err


def test_cli_flags_reach_training_and_bad_values_name_the_key(zipf_pairs, tmp_path):
    base = [sys.executable, "-m", "w2v", "train", "--model", "cbow", "--pairs", str(zipf_pairs / "cbow.parquet"),
            "--vocab", str(zipf_pairs / "vocab.tsv"), "--out-vec", str(tmp_path / "v.vec"),
            "--out-history", str(tmp_path / "h.json")]
    env = {**os.environ, "TQDM_DISABLE": "1"}
    done = subprocess.run([*base, "--settings", '{"epochs": 5}', "--epochs", "1", "--vector-size", "6",
                           "--batch-size", "128", "--device", "cpu"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    history = json.loads((tmp_path / "h.json").read_text(encoding="utf-8"))
    assert len(history["epochs"]) == 1 and history["config"]["vector_size"] == 6
    bad = subprocess.run([*base, "--negative", "0"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "train.negative: 0 is less than the minimum of 1" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_shipped_config_states_no_default(repo_root):
    """A default lives in the schema only: config files set a key only to change it."""
    shipped = yaml.safe_load((repo_root / "config" / "config.yaml").read_text(encoding="utf-8"))

    def restated(values: dict, props: dict, prefix: str) -> list[str]:
        found = []
        for key, value in values.items():
            prop = props[key]
            if isinstance(value, dict) and "properties" in prop:
                found += restated(value, prop["properties"], f"{prefix}{key}.")
            elif "default" in prop and value == prop["default"]:
                found.append(prefix + key)
        return found

    assert restated(shipped, config.schema()["properties"], "") == []


def test_readme_config_table_is_generated_from_the_schema(repo_root):
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    assert config.replace_table(readme) == readme, (
        "the README's config table is stale; run `python -m w2v.config --readme README.md`")
    for key in DEFAULTS:
        assert f"`train.{key}`" in readme or key == "seed"


def test_readme_figures_come_from_the_benchmarks_page(repo_root):
    """Every measured figure the README quotes (timings, speeds, ratios, scores) is on the benchmarks
    page or in its dated history."""
    import re  # noqa: PLC0415

    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    speed = readme.split("## Speed and quality", 1)[1].split("\n## ", 1)[0]
    figures = set(re.findall(r"\d[\d,]*\.\d+|\d{1,3}(?:,\d{3})+|\d+(?=x\b)", speed))
    figures |= set(re.findall(r"(\d+) s\b", readme))
    figures = {f.rstrip(".,") for f in figures}
    assert len(figures) > 10
    pages = [repo_root / "docs" / "benchmarks.md", repo_root / "docs" / "history" / "benchmarks.md"]
    benchmarks = "\n".join(page.read_text(encoding="utf-8") for page in pages)
    missing = sorted(f for f in figures if f not in benchmarks)
    assert missing == [], f"README figures not in docs/benchmarks.md or docs/history/benchmarks.md: {missing}"


def test_model_settings_take_the_model_overrides_and_the_seed():
    cfg = {"seed": 7, "train": {"alpha": 0.05, "workers": 2, "cbow": {}, "skipgram": {"alpha": 0.15, "batch_size": 8192}}}
    assert config.model_settings(cfg, "skipgram") == {"alpha": 0.15, "workers": 2, "batch_size": 8192, "seed": 7}
    assert config.model_settings(cfg, "cbow") == {"alpha": 0.05, "workers": 2, "seed": 7}

