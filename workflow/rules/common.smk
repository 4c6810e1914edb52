# Shared by every rule file: config validation (before any job runs) and small helpers.

from pathlib import Path

import jsonschema
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

CONFIG_SCHEMA = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"


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


def settings(section: str, *top_level: str) -> dict:
    """One rule's settings as a dict of builtins: config[section] plus the named top-level keys.

    Snakemake reruns a job when a params value changes only if it is a plain builtin; one dict per
    rule keeps that true and catches two keys swapping values.
    """
    values = dict(config.get(section, {}))
    values.update({key: config[key] for key in top_level})
    return values
