# Shared by all rule files - config validation (before any job runs) and the helpers the rules call.
# Functions only: Snakemake's linter wants rules and functions in separate files.

import glob
import json
from pathlib import Path

import jsonschema
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

CONFIG_SCHEMA = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
TRAIN_MODELS = ("cbow", "skipgram")


def check_config(config: dict, schema_path: Path) -> None:
    """Fail with one line per problem (key path, what is wrong) instead of a jsonschema dump."""
    schema = yaml.safe_load(schema_path.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = []
        for error in errors:
            key = ".".join(str(p) for p in error.absolute_path) or "(top level)"
            lines.append(f"  config key {key}: {error.message}")
        raise WorkflowError(
            f"invalid configuration (see {schema_path.relative_to(workflow.basedir)} for every key, "
            "its type, bounds and default):\n" + "\n".join(lines)
        )


check_config(config, CONFIG_SCHEMA)
validate(config, schema=str(CONFIG_SCHEMA))  # fills in the schema defaults


def canonical(value):
    """`value` with every mapping's keys sorted, so params compare equal however the YAML orders them."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def settings(section: str, *top_level: str) -> dict:
    """One rule's settings as a dict of builtins: config[section] plus the named top-level keys.

    Snakemake reruns a job when a params value changes only if it is a plain builtin; one dict per
    rule keeps that true and catches two keys swapping values; sorted keys make it independent of
    the order of the keys in the config file.
    """
    values = dict(config.get(section, {}))
    values.update({key: config[key] for key in top_level})
    return canonical(values)


def train_settings(model: str) -> str:
    """The settings of one model as JSON: train.* keys, then train.<model> overrides, plus seed."""
    section = config["train"]
    values = {k: v for k, v in section.items() if k not in TRAIN_MODELS}
    values.update(section.get(model) or {})
    values["seed"] = config["seed"]
    return json.dumps(values, sort_keys=True)


def check_train_combinations() -> None:
    """Each model's train settings taken together (min_alpha <= alpha, batch_size a multiple of
    negative_group, ...), as `w2v train` checks them: the schema sees one key at a time, and a
    bad pair would otherwise fail only when its train job starts, after the text stages ran."""
    try:
        from w2v.config import check_train_settings
        from w2v.errors import UserError
    except ImportError:  # jobs run in their own (conda) environment, where `w2v train` checks them
        return
    for model in TRAIN_MODELS:
        try:
            check_train_settings(json.loads(train_settings(model)))
        except UserError as exc:
            where = f"train plus train.{model}" if config["train"].get(model) else "train"
            raise WorkflowError(f"invalid configuration for {model} (config section {where}): {exc}") from None


check_train_combinations()


def corpus_files() -> list[str]:
    """The files of config key `corpus`: a file, a folder (its files, sorted, hidden ones skipped) or
    a glob pattern (sorted matches)."""
    spec = config["corpus"]
    path = Path(spec)
    if any(ch in spec for ch in "*?["):
        found = sorted(p for p in glob.glob(spec, recursive=True) if Path(p).is_file())
        if not found:
            raise WorkflowError(f"config key `corpus`: the pattern {spec!r} matches no file")
        return found
    if path.is_dir():
        found = sorted(
            str(p) for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not found:
            raise WorkflowError(f"config key `corpus`: the folder {spec!r} holds no files")
        return found
    return [spec]


def shard_ids() -> list[str]:
    """Shard names, zero-padded so that file listings sort in corpus order."""
    return [f"{i:04d}" for i in range(config["segment"]["shards"])]
