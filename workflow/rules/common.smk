# Shared by all rule files - config validation (before any job runs) and the helpers the rules call.
# Functions only: Snakemake's linter wants rules and functions in separate files.

import json
import sys
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


if "shards" in (config.get("segment") or {}):
    raise WorkflowError(
        "config key segment.shards was replaced by segment.shard_mb (MB of text per shard; each file is cut "
        "into its own shards): remove segment.shards, and set segment.shard_mb to about the corpus's size "
        "divided by the number of jobs you want"
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


def plan_corpus_shards() -> dict:
    """The corpus's shards by name, in token-stream order, from the library's own planner (so the
    workflow and `w2v segment` agree): each file's own pieces, small files in hashed buckets."""
    try:
        from w2v.errors import UserError
        from w2v.text.corpus import plan_corpus
    except ImportError:  # snakemake outside the project's environment: the library from this checkout
        sys.path.insert(0, str(Path(workflow.basedir) / "src"))
        from w2v.errors import UserError
        from w2v.text.corpus import plan_corpus
    try:
        shards = plan_corpus([config["corpus"]], config["segment"]["shard_mb"], cache=TEXT_SIZES)
    except UserError as exc:
        raise WorkflowError(str(exc)) from None
    return {shard.name: shard for shard in shards}


TEXT_SIZES = "results/.corpus-text-sizes.json"  # compressed files' text sizes, measured once
SHARDS = plan_corpus_shards()


def shard_ids() -> list[str]:
    """Shard names in token-stream order (the order the vocab and pairs stages number positions in)."""
    return list(SHARDS)


def shard_files(wildcards) -> list[str]:
    return SHARDS[wildcards.shard].paths()


def shard_spec(wildcards) -> str:
    return SHARDS[wildcards.shard].spec()


def shard_index(wildcards) -> int:
    return shard_ids().index(wildcards.shard)
