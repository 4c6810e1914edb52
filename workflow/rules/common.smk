# Shared by all rule files - config validation (before any job runs) and the helpers the rules call.
# Functions only: Snakemake's linter wants rules and functions in separate files.

import difflib
import json
import logging
import sys
from pathlib import Path

import jsonschema
import yaml
from snakemake.utils import validate

try:
    import w2v
except ImportError:  # snakemake outside the project's environment: the library from this checkout
    sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from w2v.config import RENAMED_TRAIN_KEYS, check_train_settings, model_names, model_settings
from w2v.data.counts import COUNTS_FORMAT
from w2v.errors import UserError
from w2v.text.corpus import plan_corpus

CONFIG_SCHEMA = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
TRAIN_MODELS = model_names()  # the models the library's registry trains, each with its train.<model> section


def stop(message: str) -> None:
    """End the run before any job with `message` alone on stderr: a WorkflowError raised here would
    come with Snakemake's `File ".../common.smk", line N` trace lines, which say nothing to a user."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def typed_command_line_values(config: dict, schema: dict) -> None:
    """Re-read as YAML the values that `--config` nests where the schema does not take text.

    Snakemake parses `--config 'vocab={min_count: 2}'` with YAML's BaseLoader, so every nested
    value arrives as a string ('2'); only values given on the command line are re-read, so a quoted
    "2" in a config file still fails as text.
    """
    given = workflow.config_settings.config
    for error in list(jsonschema.Draft202012Validator(schema).iter_errors(config)):  # all found, then edited
        path, value = list(error.absolute_path), error.instance
        if error.validator != "type" or not isinstance(value, str) or not path or _at(given, path) != value:
            continue
        typed = _scalar(value)
        if not isinstance(typed, str):  # then the schema's own checks name what is wrong with it, if anything
            _at(config, path[:-1])[path[-1]] = typed


def _scalar(text: str):
    """A command-line value as YAML reads it, with 1e-3 a number too (YAML 1.1 reads it as text)."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    for number in (int, float):
        if isinstance(value, str):
            try:
                value = number(value)
            except ValueError:
                pass
    return value


def _at(tree, path: list):
    """The value at `path` (keys and list indexes) in nested mappings and lists; None if there is none."""
    for key in path:
        try:
            tree = tree[key]
        except (KeyError, IndexError, TypeError):
            return None
    return tree


def config_problem(error: jsonschema.ValidationError) -> str:
    """One line for one schema error: the key path and what is wrong, with a suggestion for an unknown key."""
    where = list(error.absolute_path)
    if error.validator != "additionalProperties":
        return f"config key {'.'.join(map(str, where)) or '(top level)'}: {error.message}"
    known = sorted(error.schema.get("properties", {}))
    lines = []
    for key in sorted(set(error.instance) - set(known)):
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        hint = f"did you mean {'.'.join(map(str, where + close))}?" if close else (
            f"known keys here: {', '.join(known)}")
        lines.append(f"config key {'.'.join(map(str, where + [key]))}: unknown key; {hint}")
    return "\n  ".join(lines)


def check_config(config: dict, schema_path: Path) -> None:
    """Stop with one line per problem (key path, what is wrong) instead of a jsonschema dump."""
    schema = yaml.safe_load(schema_path.read_text(encoding="utf-8"))
    typed_command_line_values(config, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = "\n".join(f"  {config_problem(error)}" for error in errors)
        stop(f"invalid configuration (see {schema_path.relative_to(workflow.basedir)} for every key, "
             f"its type, bounds and default):\n{lines}")


if "shards" in (config.get("segment") or {}):
    stop(
        "config key segment.shards was replaced by segment.shard_mb (MB of text per shard; each file is cut "
        "into its own shards): remove segment.shards, and set segment.shard_mb to about the corpus's size "
        "divided by the number of jobs you want"
    )
def check_renamed_keys() -> None:
    """An old key gets its new name, not "unknown key" (or, worse, a default in place of its value)."""
    train = config.get("train") or {}
    sections = [train] + [train.get(model) or {} for model in TRAIN_MODELS]
    renamed = sorted({RENAMED_TRAIN_KEYS[key] for section in sections for key in section if key in RENAMED_TRAIN_KEYS})
    if renamed:
        stop("; ".join(renamed))


check_renamed_keys()
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


def report_safe_json(values: dict, **more) -> str:
    """`values` and `more` as one JSON text with sorted keys, "<", ">" and "&" written as \\u escapes:
    a rule param that `snakemake --report` can embed in its page's script element, whatever markup
    the config holds; the command decodes the escapes back."""
    text = json.dumps(canonical({**values, **more}), sort_keys=True, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def train_settings(model: str) -> str:
    """The settings of one model as JSON: train.* keys, then train.<model> overrides, plus seed."""
    return json.dumps(model_settings(config, model), sort_keys=True)


def check_train_combinations() -> None:
    """Each model's train settings taken together (min_alpha <= alpha, batch_size a multiple of
    negative_group, ...), as `w2v train` checks them: the schema sees one key at a time, and a
    bad pair would otherwise fail only when its train job starts, after the text stages ran."""
    for model in TRAIN_MODELS:
        try:
            check_train_settings(json.loads(train_settings(model)))
        except UserError as exc:
            where = f"train plus train.{model}" if config["train"].get(model) else "train"
            stop(f"invalid configuration for {model} (config section {where}): {exc}")


check_train_combinations()


def check_named_files() -> None:
    """Stop before any job when a file the config names is missing, naming the key (Snakemake's own
    "Missing input files" names only a rule)."""
    named = {"segment.user_dict": config["segment"]["user_dict"], "eval.aliases": config["eval"]["aliases"],
             "eval.analogies": config["eval"]["analogies"], "eval.font": config["eval"]["font"]}
    if not any(ch in config["corpus"] for ch in "*?["):
        named["corpus"] = config["corpus"]
    missing = [f"config key {key}: {path} not found" for key, path in named.items() if path and not Path(path).exists()]
    if missing:
        stop("\n  ".join(missing) + "\n  (paths are relative to the folder Snakemake runs in; \"\" leaves an "
             "optional file out)")


check_named_files()


def plan_corpus_shards() -> dict:
    """The corpus's shards by name, in token-stream order, from the library's own planner (so the
    workflow and `w2v segment` agree): each file's own pieces, small files in hashed buckets."""
    try:
        shards = plan_corpus([config["corpus"]], config["segment"]["shard_mb"], cache=TEXT_SIZES)
    except UserError as exc:
        stop(str(exc))
    if not any(Path(f).stat().st_size for shard in shards for f in shard.paths()):
        stop(f"config key `corpus`: {config['corpus']!r} holds no text (its files are empty)")
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


COUNT_PARTITION_TEXT = 256 << 20  # corpus text per count-merge job when vocab.count_partitions is null


def count_partitions() -> int:
    """vocab.count_partitions, or when null one per 256 MB of corpus text: a novel's counts merge in
    the vocab job itself, a billion tokens' (5.8 GB) in 23 jobs."""
    given = config["vocab"]["count_partitions"]
    text = sum(r.stop - r.start for shard in SHARDS.values() for r in shard.ranges)
    return given if given is not None else max(1, -(-text // COUNT_PARTITION_TEXT))


def merged_counts() -> list[str]:
    """The count_merge outputs the vocab rule reads; none with one partition (it merges in memory)."""
    parts = count_partitions()
    return [f"results/counts/merged/part-{p}.parquet" for p in range(parts)] if parts > 1 else []


def summarise_failures(snakemake_logs) -> None:
    """Print the failed jobs' own `error:` lines once each, last, below Snakemake's job dumps.

    A job's message otherwise sits among Snakemake's CalledProcessError blocks, once per failed
    shard; every rule's log holds what its `w2v` command printed.
    """
    import re

    paths = [snakemake_logs] if isinstance(snakemake_logs, (str, Path)) else list(snakemake_logs or [])
    text = ""
    for path in paths:  # Snakemake 9 hands over a list of its log files
        try:
            text += Path(path).read_text(encoding="utf-8", errors="replace")
        except (OSError, TypeError):
            continue
    logs = re.findall(r"^Error in rule[ ]\w+:.*?^\s+log: (.+?) \(check log file", text, flags=re.M | re.S)
    messages = {}
    for log_path in dict.fromkeys(logs):
        try:
            lines = Path(log_path).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            if line.startswith("error: "):
                messages.setdefault(line, []).append(log_path)
    if messages:
        print("\nWhat failed (each message once; the full output is in the logs named):", file=sys.stderr)
        for line, where in messages.items():
            print(f"  {line}\n    log: {', '.join(where)}", file=sys.stderr)


def print_next_step() -> None:
    """Name what to open or run next: a run for one model's vectors does not build the report."""
    report_md = Path("results/similarity_report.md")
    vectors = [Path(f"results/{model}.vec") for model in TRAIN_MODELS]
    stale = not report_md.exists() or any(
        v.exists() and v.stat().st_mtime > report_md.stat().st_mtime for v in vectors
    )
    if stale:
        print(
            "\nNext: `snakemake --cores 4 results/similarity_report.md` trains any missing model and "
            "writes the report, its figures and results/explorer.html (open it in a browser)."
        )
    else:
        print(
            "\nReport: results/similarity_report.md; explorer: results/explorer.html (open it in a "
            "browser); HTML report: `snakemake --report results/report.html`."
        )


class NothingToBeDoneHint(logging.Handler):
    """Print the next step after Snakemake's "Nothing to be done", which skips `onsuccess`."""

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("Nothing to be done") and not workflow.dryrun:
            print_next_step()


logging.getLogger("snakemake.logging").addHandler(NothingToBeDoneHint())
