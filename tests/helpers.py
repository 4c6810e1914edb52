"""Helpers shared by the workflow tests: temp workflow folders, their configs, running Snakemake.

Test modules import these (never each other); fixtures live in conftest.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from w2v.config import with_defaults


def write_config(root: Path, config: dict, **sections) -> dict:
    """Write `config` with `sections` merged in (a dict updates that section, anything else replaces
    the key) as root/config/config.yaml; return it."""
    for key, value in sections.items():
        if isinstance(value, dict):
            config.setdefault(key, {}).update(value)
        else:
            config[key] = value
    (root / "config").mkdir(exist_ok=True)
    (root / "config" / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return config


def read_config(root: Path) -> dict:
    """root/config/config.yaml with the schema defaults filled in."""
    return with_defaults(yaml.safe_load((root / "config" / "config.yaml").read_text(encoding="utf-8")))


def make_workdir(root: Path, repo: Path, corpus: bytes, cache: Path | None = None, **sections) -> Path:
    """A temp workflow folder: the repo's Snakefile, workflow/, config and data, our corpus.

    `cache`: a jieba cache file to put in place, sparing a bad-input test the second it takes to build.
    """
    root.mkdir(parents=True, exist_ok=True)
    if cache is not None:
        (root / "results" / "jieba").mkdir(parents=True)
        shutil.copy(cache, root / "results" / "jieba" / "jieba.cache")
    shutil.copy(repo / "Snakefile", root / "Snakefile")
    shutil.copytree(repo / "workflow", root / "workflow")
    shutil.copytree(repo / "data" / "eval", root / "data" / "eval")
    shutil.copy(repo / "data" / "userdict.txt", root / "data" / "userdict.txt")
    (root / "data" / "raw").mkdir(parents=True)
    (root / "data" / "raw" / "tiny.txt").write_bytes(corpus)
    config = with_defaults(yaml.safe_load((repo / "config" / "config.yaml").read_text(encoding="utf-8")))
    config["corpus"] = "data/raw/tiny.txt"
    config["segment"]["shard_mb"] = 0.005  # the 10 KB tiny corpus in two shards
    config["vocab"]["min_count"] = 2
    config["vocab"]["count_partitions"] = 3  # several count merges, and few jobs
    write_config(root, config, **sections)
    return root


def snakemake(root: Path, *args: str, target: str | None = None, snakefile: Path | None = None,
              ) -> subprocess.CompletedProcess:
    """Run snakemake in `root` (its own Snakefile unless `snakefile`), with this interpreter's bin
    folder (holding `w2v`) on PATH; `.output` holds stdout and stderr."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--snakefile", str(snakefile or root / "Snakefile"),
           "--directory", str(root), *args, *([target] if target else [])]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    result.output = result.stdout + result.stderr
    return result


def planned_jobs(root: Path, *targets: str, snakefile: Path | None = None) -> set[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run (`-n`) of `targets` would execute in `root`."""
    done = snakemake(root, "-n", *targets, snakefile=snakefile)
    assert done.returncode == 0, done.output
    jobs = set()
    for rule, body in re.findall(r"^(?:local)?rule (\w+):\n((?:[ \t]+.*\n?)*)", done.output, flags=re.M):
        wildcards = re.search(r"^\s*wildcards: (.*)$", body, flags=re.M)
        jobs.add((rule, wildcards.group(1).strip() if wildcards else ""))
    return jobs


def in_forked_worker(change) -> None:
    """Run `change()` in the forked worker of a two-process Hogwild pool (not in the parent), and
    wait for it: what the parent sees afterwards is what the worker wrote into shared memory."""
    from w2v.training.hogwild import WorkerPool  # noqa: PLC0415

    def part(index, epoch):
        if index == 1:
            change()
        return index

    pool = WorkerPool(2, part)
    try:
        pool.run_epoch(0)
    finally:
        pool.close()


class _Killed(Exception):
    """Raised after the n-th checkpoint of `train_files`, as a kill after that epoch would end the run."""

    def __init__(self, state: dict) -> None:
        super().__init__("killed after a checkpoint")
        self.state = state


def train_files(model, pairs, vocab, settings, out_vec, out_history, checkpoint_path=None, device="cpu",
                char_table=None, stop_after=None) -> dict:
    """`w2v.training.train.train` with its files as separate arguments, as most tests call it.

    `stop_after` ends the run once that many epochs of this call have written their checkpoint, as a
    kill would (no outputs); the returned history then holds the checkpointed epochs only.
    """
    import w2v.training.train as training  # noqa: PLC0415

    files = training.TrainFiles(pairs=pairs, vocab=vocab, vec=out_vec, history=out_history,
                                checkpoint=checkpoint_path, chars=char_table)
    settings = {**settings, "device": device}
    if stop_after is None:
        return training.train(model, files, settings)
    real, saved = training.save_checkpoint, []

    def save_then_stop(path, state):
        real(path, state)
        saved.append(state)
        if len(saved) == stop_after:
            raise _Killed(state)

    training.save_checkpoint = save_then_stop
    try:
        return training.train(model, files, settings)
    except _Killed as killed:
        return {"model": model, "epochs": list(killed.state["history"])}
    finally:
        training.save_checkpoint = real


def keep_prepared(monkeypatch) -> dict:
    """Wrap `w2v.training.train.prepare` for one test so that what it made can be looked at after
    the run: `made["prepared"]` (its model, optimizer and plan are in `.run`)."""
    import w2v.training.train as training  # noqa: PLC0415

    made = {}
    real = training.prepare

    def keep(*args, **kwargs):
        made["prepared"] = real(*args, **kwargs)
        return made["prepared"]

    monkeypatch.setattr(training, "prepare", keep)
    return made


def batches_of(source, keep, seed, epoch, batch_size, buffer_size, table=None, negative=0, shared=0, pipeline=None,
               group=1):
    """One epoch's batches of `source` (a PairsDataset or a worker's slice) with the plan spelled out
    as arguments; `pipeline` defaults to the host pipeline with one worker."""
    from w2v.training.pipeline import BatchPlan, HostPipeline, epoch_batches  # noqa: PLC0415
    from w2v.training.registry import MODELS  # noqa: PLC0415

    layout = getattr(source, "layout", None) or source.source.layout
    mask = next(kind.mask for kind in MODELS.values() if kind.pairs == layout)
    window = getattr(source, "window", None) or source.source.window
    plan = BatchPlan(mask, window, keep, table, batch_size, buffer_size, negative, shared, group)
    return epoch_batches(source, plan, pipeline or HostPipeline(), seed, epoch)


def pairs_dataset(path, model, window, **kwargs):
    """The PairsDataset of `model`'s pairs at `path`."""
    from w2v.training.reader import PairsDataset  # noqa: PLC0415
    from w2v.training.registry import MODELS  # noqa: PLC0415

    return PairsDataset(path, MODELS[model].pairs, window, **kwargs)
