"""The Snakemake workflow through the text stages, run as a user would, on a tiny corpus.

Each test copies Snakefile, workflow/ and config/ into a temp folder, points the config at
tests/data/tiny_corpus.txt and runs `snakemake --cores 2` as a subprocess. Targets are the text
outputs, so these tests do not depend on the training and evaluation rules.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import shutil
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from helpers import make_workdir, read_config, write_config
from helpers import snakemake as run_snakemake

from w2v.data.pairs import read_dataset_metadata
from w2v.data.vocab import load_vocab

pytestmark = pytest.mark.slow

TARGET = "text"
TINY = f"tiny_txt-{hashlib.sha1(b'data/raw/tiny.txt').hexdigest()[:8]}"  # shards are named after their file
SHARDS = (f"{TINY}-0000", f"{TINY}-0001")
PARTITIONS = 3  # vocab.count_partitions in tests/helpers.make_workdir
STAGE_OUTPUTS = {
    "segment": [f"results/segmented/shard-{s}.txt" for s in SHARDS],
    "clean": [f"results/{d}/shard-{s}.{e}" for d, e in (("tokens", "txt"), ("counts", "parquet")) for s in SHARDS],
    "count_merge": [f"results/counts/merged/part-{p}.parquet" for p in range(PARTITIONS)],
    "vocab": ["results/vocab.tsv", "results/corpus.json"],
    "pairs": [f"results/pairs/{m}/part-{s}.parquet" for m in ("cbow", "skipgram") for s in SHARDS],
}


def snakemake(root: Path, *args: str, target: str = TARGET):
    """Snakemake on `root`, aiming at the text stages unless told otherwise."""
    return run_snakemake(root, *args, target=target)


def mtimes(root: Path) -> dict[str, int]:
    return {path: (root / path).stat().st_mtime_ns for paths in STAGE_OUTPUTS.values() for path in paths}


def changed_stages(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {stage for stage, paths in STAGE_OUTPUTS.items() if any(before[p] != after[p] for p in paths)}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, repo_root, test_data) -> Path:
    root = make_workdir(tmp_path_factory.mktemp("wf") / "w", repo_root, (test_data / "tiny_corpus.txt").read_bytes())
    result = snakemake(root)
    assert result.returncode == 0, result.output
    return root


def test_text_stages_write_the_contract_files(workdir):
    for paths in STAGE_OUTPUTS.values():
        for path in paths:
            assert (workdir / path).is_file(), path
    assert (workdir / "results" / "jieba" / "jieba.cache").is_file()
    vocab = load_vocab(workdir / "results" / "vocab.tsv")
    meta, parts = read_dataset_metadata(workdir / "results" / "pairs" / "skipgram")
    assert meta["window"] == 5 and meta["vocab_sha256"] == vocab.sha256 and meta["parts"] == 2 and len(parts) == 2
    assert meta["n_tokens"] == int(vocab.counts.sum())
    for rule in ("jieba_cache", "segment", "clean", "count_merge", "vocab", "pairs"):
        assert list((workdir / "results" / "logs" / rule).glob("*.log")), rule
    segment_log = (workdir / "results" / "logs" / "segment" / f"shard-{SHARDS[0]}.log").read_text(encoding="utf-8")
    assert "INFO w2v.commands.segment: shard: " in segment_log
    assert "Building prefix dict" not in segment_log and "Loading model" not in segment_log  # jieba kept quiet
    benchmarks = sorted(p.relative_to(workdir / "results" / "benchmarks").as_posix()
                        for p in (workdir / "results" / "benchmarks").rglob("*.tsv"))
    assert benchmarks == sorted(["jieba_cache.tsv", "vocab.tsv"] + [
        f"{rule}/{name}-{s}.tsv" for rule, name in (("clean", "shard"), ("pairs", "cbow-part"),
                                                    ("pairs", "skipgram-part"), ("segment", "shard"))
        for s in SHARDS
    ] + [f"count_merge/part-{p}.tsv" for p in range(PARTITIONS)])
    lines = (workdir / "results" / "segmented" / f"shard-{SHARDS[0]}.txt").read_text(encoding="utf-8").splitlines()
    lines += (workdir / "results" / "segmented" / f"shard-{SHARDS[1]}.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len((workdir / "data" / "raw" / "tiny.txt").read_text(encoding="utf-8").splitlines())
    assert "美猴王" in lines[-1].split() or any("美猴王" in line.split() for line in lines)


def test_touching_nothing_means_nothing_to_be_done(workdir):
    result = snakemake(workdir)
    assert result.returncode == 0, result.output
    assert "Nothing to be done" in result.output


def test_changing_min_count_reruns_the_count_merges_vocab_and_pairs_only(workdir):
    before = mtimes(workdir)
    config = read_config(workdir)
    write_config(workdir, config, vocab={"min_count": config["vocab"]["min_count"] + 1})
    result = snakemake(workdir)
    assert result.returncode == 0, result.output
    assert changed_stages(before, mtimes(workdir)) == {"count_merge", "vocab", "pairs"}


def test_changing_window_reruns_only_pairs(workdir):
    before = mtimes(workdir)
    config = read_config(workdir)
    write_config(workdir, config, pairs={"window": config["pairs"]["window"] + 2})
    result = snakemake(workdir)
    assert result.returncode == 0, result.output
    assert changed_stages(before, mtimes(workdir)) == {"pairs"}
    assert read_dataset_metadata(workdir / "results" / "pairs" / "cbow")[0]["window"] == config["pairs"]["window"]


def test_swapping_two_values_is_noticed(workdir):
    # clean.digits and clean.latin swap: a per-key params check would miss it, one dict does not.
    config = read_config(workdir)
    digits, latin = config["clean"]["digits"], config["clean"]["latin"]
    assert digits != latin
    before = mtimes(workdir)
    write_config(workdir, copy.deepcopy(config), clean={"digits": latin, "latin": digits})
    try:
        result = snakemake(workdir, "--dry-run")
        assert result.returncode == 0, result.output
        assert "params have changed" in result.output and "clean" in result.output
        assert mtimes(workdir) == before
    finally:
        write_config(workdir, config)


def _reversed_keys(value):
    if isinstance(value, dict):
        return {key: _reversed_keys(value[key]) for key in reversed(list(value))}
    return value


def test_reordering_the_config_keys_means_nothing_to_be_done(workdir):
    """A YAML tool that sorts or reorders keys must not rerun anything: params are canonical."""
    config = read_config(workdir)
    reordered = _reversed_keys(config)
    assert list(reordered) != list(config) and list(reordered["segment"]) != list(config["segment"])
    (workdir / "config" / "config.yaml").write_text(
        yaml.safe_dump(reordered, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    try:
        result = snakemake(workdir, "--dry-run")
        assert result.returncode == 0, result.output
        assert "Nothing to be done" in result.output
    finally:
        write_config(workdir, config)


def _pairs_multiset(folder: Path) -> Counter:
    rows: Counter = Counter()
    for part in sorted(folder.glob("*.parquet")):
        for row in zip(*pq.read_table(part).to_pydict().values()):
            rows[tuple(tuple(x) if isinstance(x, list) else x for x in row)] += 1
    return rows


def test_changing_the_shard_count_reruns_everything_and_gives_the_same_data(workdir, tmp_path):
    root = tmp_path / "w"
    shutil.copytree(workdir, root)  # with .snakemake: its metadata is what notices changed params
    before_vocab = (root / "results" / "vocab.tsv").read_bytes()
    before_pairs = {m: _pairs_multiset(root / "results" / "pairs" / m) for m in ("cbow", "skipgram")}
    write_config(root, read_config(root), segment={"shard_mb": 0.0034})
    result = snakemake(root)
    assert result.returncode == 0, result.output
    for rule in ("segment", "clean", "vocab", "pairs"):
        assert f"rule {rule}:" in result.output or f"localrule {rule}:" in result.output, rule
    three = [f"{TINY}-{k:04d}" for k in range(3)]
    assert (root / "results" / "segmented" / f"shard-{three[2]}.txt").is_file()
    # Sharding changes the files, not the data: same vocabulary, same multiset of pairs (positions included)
    assert (root / "results" / "vocab.tsv").read_bytes() == before_vocab
    meta, parts = read_dataset_metadata([root / "results" / "pairs" / "cbow" / f"part-{s}.parquet" for s in three])
    assert meta["parts"] == 3
    for model in ("cbow", "skipgram"):
        files = [root / "results" / "pairs" / model / f"part-{s}.parquet" for s in three]
        stale = root / "results" / "pairs" / model / "stale"
        stale.mkdir()
        for f in files:
            shutil.copy(f, stale / f.name)
        assert _pairs_multiset(stale) == before_pairs[model]



def test_changing_the_partition_count_reruns_the_merge_alone_with_the_same_vocabulary(workdir, tmp_path):
    root = tmp_path / "w"
    shutil.copytree(workdir, root)
    before = {f: (root / "results" / f).read_bytes() for f in ("vocab.tsv", "chars.tsv", "corpus.json")}
    write_config(root, read_config(root), vocab={"count_partitions": 2})
    jobs = planned_jobs(snakemake(root, "--dry-run"))
    # no segmentation or cleaning: the shards' counts files do not depend on the partitions
    assert jobs == {"count_merge": 2, "vocab": 1, "pairs": 2 * len(SHARDS), "text": 1}, jobs
    result = snakemake(root, target="results/vocab.tsv")
    assert result.returncode == 0, result.output
    assert {f: (root / "results" / f).read_bytes() for f in before} == before


@pytest.mark.parametrize(("text_mb", "partitions", "merges"), [(1, None, 0), (600, None, 3), (1, 1, 0), (1, 4, 4)])
def test_count_partitions_null_plans_one_merge_per_256_mb_of_text(tmp_path, repo_root, text_mb, partitions, merges):
    """null: a novel merges its counts in the vocab job, 600 MB of text in three merge jobs."""
    root = make_workdir(tmp_path / "w", repo_root, b"", segment={"shard_mb": 100}, vocab={"count_partitions": partitions})
    with open(root / "data" / "raw" / "tiny.txt", "wb") as corpus:
        corpus.truncate(text_mb << 20)  # sparse: a dry run plans by file sizes and reads no text
    jobs = planned_jobs(snakemake(root, "--dry-run", target="results/vocab.tsv"))
    assert jobs.get("count_merge", 0) == merges and jobs["vocab"] == 1, jobs

# --- bad input: a clear message, no partial output --------------------------------------------


@pytest.fixture()
def bad_workdir(tmp_path, repo_root, test_data, workdir):
    """Factory: a one-shard workdir with the module's jieba cache in place."""

    def make(corpus: bytes | None = None, **sections) -> Path:
        if corpus is None:
            corpus = (test_data / "tiny_corpus.txt").read_bytes()
        sections["segment"] = {"shard_mb": 4, **sections.get("segment", {})}
        return make_workdir(tmp_path / "w", repo_root, corpus, workdir / "results" / "jieba" / "jieba.cache", **sections)

    return make


def test_corpus_in_the_wrong_encoding(bad_workdir, test_data):
    text = (test_data / "tiny_corpus.txt").read_text(encoding="utf-8")
    root = bad_workdir(text.encode("gb18030"))
    result = snakemake(root)
    assert result.returncode != 0
    assert "data/raw/tiny.txt, line 1" in result.output
    assert "`encoding`" in result.output and "gb18030" in result.output
    assert "Traceback" not in result.output
    assert not list(root.glob("results/segmented/*"))
    assert not (root / "results" / "tokens").exists()


def test_corpus_with_no_words(bad_workdir):
    root = bad_workdir("。。。！\n“”——\n".encode("utf-8"))
    result = snakemake(root)
    assert result.returncode != 0
    assert "no tokens left after cleaning" in result.output
    assert not (root / "results" / "vocab.tsv").exists()
    # the job's own message comes again last, once, below Snakemake's dump of the failed job
    summary = result.output.split("What failed", 1)[-1]
    assert "error: no tokens left after cleaning" in summary and "log: results/logs/vocab/vocab.log" in summary


def test_empty_corpus_stops_before_any_job_with_one_message(bad_workdir):
    root = bad_workdir(b"")
    result = snakemake(root)
    assert result.returncode != 0
    assert result.output.count("data/raw/tiny.txt is empty") == 1, result.output
    assert "Traceback" not in result.output and "CalledProcessError" not in result.output
    assert not (root / "results" / "segmented").exists()


def test_vocabulary_emptied_by_min_count(bad_workdir):
    root = bad_workdir(vocab={"min_count": 100_000})
    result = snakemake(root)
    assert result.returncode != 0
    assert "lower config key `vocab.min_count`" in result.output
    assert len(list((root / "results" / "counts").glob("shard-small-*.parquet"))) == 1
    assert not (root / "results" / "vocab.tsv").exists()
    assert not (root / "results" / "pairs").exists() or not list((root / "results" / "pairs").iterdir())


def test_malformed_user_dict_names_the_line(bad_workdir):
    root = bad_workdir()
    (root / "data" / "userdict.txt").write_text("孙悟空 3000 nr\n八戒\n沙僧 lots of\n", encoding="utf-8")
    result = snakemake(root)
    assert result.returncode != 0
    assert "data/userdict.txt, line 3" in result.output
    assert not list(root.glob("results/segmented/*"))


def test_missing_user_dict(bad_workdir):
    root = bad_workdir(segment={"user_dict": "data/nope.txt"})
    result = snakemake(root)
    assert result.returncode != 0
    assert "config key segment.user_dict: data/nope.txt not found" in result.output
    assert "Traceback" not in result.output and not (root / "results" / "segmented").exists()  # before any job


@pytest.mark.parametrize(
    "sections, expected",
    [
        ({"vocab": {"min_count": 0}}, "config key vocab.min_count: 0 is less than the minimum of 1"),
        ({"pairs": {"window": 500}}, "config key pairs.window: 500 is greater than the maximum of 50"),
        ({"segment": {"hmm": "yes"}}, "config key segment.hmm: 'yes' is not of type 'boolean'"),
        ({"segment": {"shards": 2}}, "config key segment.shards was replaced by segment.shard_mb"),
        ({"train": {"cbow": {"cbow_mean": "exact"}}}, "train.cbow_mean is now train.cbow_gradient (values word2vec"),
        ({"clean": {"punctuation": True}}, "config key clean.punctuation: unknown key; known keys here: digits, latin"),
        ({"vocab": {"min_cout": 2}}, "config key vocab.min_cout: unknown key; did you mean vocab.min_count?"),
        ({"train": {"skipgram": {"epoch": 2}}}, "config key train.skipgram.epoch: unknown key; did you mean train.skipgram.epochs?"),
        ({"evals": {}}, "config key evals: unknown key; did you mean eval?"),
        # keys fine one by one, wrong together: caught before the text stages, not when training starts
        ({"train": {"skipgram": {"alpha": 0.05, "min_alpha": 0.1}}},
         ("invalid configuration for skipgram (config section train plus train.skipgram): "
          "train.min_alpha must be in [0, alpha=0.05], got 0.1")),
        ({"train": {"cbow": {"batch_size": 1000}}},
         ("invalid configuration for cbow (config section train plus train.cbow): train.batch_size (1000) must be "
          "a multiple of train.negative_group (32)")),
    ],
)
def test_invalid_config_names_key_and_bound_before_any_job(tmp_path, repo_root, test_data, sections, expected):
    root = make_workdir(tmp_path / "w", repo_root, (test_data / "tiny_corpus.txt").read_bytes(), **sections)
    result = snakemake(root)
    assert result.returncode != 0
    assert expected in result.output
    assert not (root / "results").exists()
    assert "common.smk" not in result.output and "Traceback" not in result.output  # the message alone


@pytest.mark.parametrize(
    "entries, expected",
    [
        # Snakemake hands nested --config values over as text; an integer must still be an integer
        (["vocab={min_count: 0}"], "config key vocab.min_count: 0 is less than the minimum of 1"),
        (['vocab={"min_count": 2.5}'], "config key vocab.min_count: 2.5 is not of type 'integer'"),
        (["train={skipgram: {alpha: 1e-1, epochs: 0}}"], "config key train.skipgram.epochs: 0 is less than"),
        (["clean={latin: maybe}"], "config key clean.latin: 'maybe' is not of type 'boolean'"),
    ],
)
def test_nested_keys_on_the_command_line_are_typed(tmp_path, repo_root, test_data, entries, expected):
    root = make_workdir(tmp_path / "w", repo_root, (test_data / "tiny_corpus.txt").read_bytes())
    result = snakemake(root, "--config", *entries, "--dry-run")  # options after --config end its list
    assert result.returncode != 0
    assert expected in result.output, result.output


def test_nested_keys_on_the_command_line_reach_the_rules(tmp_path, repo_root, test_data):
    root = make_workdir(tmp_path / "w", repo_root, (test_data / "tiny_corpus.txt").read_bytes())
    given = ["vocab={min_count: 1}", "train={skipgram: {alpha: 1e-1}}", "eval={queries: [1, 石猴]}"]
    result = snakemake(root, "--config", *given, "--dry-run", "--printshellcmds", target="all")
    assert result.returncode == 0, result.output
    assert "--min-count 1 " in result.output  # an integer: the schema took it, the rule got it
    skipgram = next(line for line in result.output.splitlines() if "--model skipgram" in line)
    assert '"alpha": 0.1,' in skipgram and '"optimizer": "adagrad"' in skipgram  # merged into the file's section


# --- a corpus that grows: shards belong to files ------------------------------------------------


def planned_jobs(result) -> dict[str, int]:
    """The dry run's job counts by rule (its "Job stats" table)."""
    assert result.returncode == 0, result.output
    if "Nothing to be done" in result.output:
        return {}
    table = result.output.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    rows = (line.split() for line in table.splitlines())
    return {row[0]: int(row[1]) for row in rows if len(row) == 2 and row[1].isdigit() and row[0] != "total"}


@pytest.fixture(scope="module")
def shelf(tmp_path_factory, repo_root, test_data) -> Path:
    """A built folder corpus of three books (one gzipped), each about one shard of text."""
    lines = (test_data / "tiny_corpus.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    third = len(lines) // 3
    root = make_workdir(tmp_path_factory.mktemp("shelf") / "w", repo_root, b"", segment={"shard_mb": 0.004})
    write_config(root, read_config(root), corpus="data/raw/shelf")
    (root / "data" / "raw" / "tiny.txt").unlink()
    books = root / "data" / "raw" / "shelf"
    books.mkdir()
    (books / "a.txt").write_text("".join(lines[:third]), encoding="utf-8")
    (books / "b.txt.gz").write_bytes(gzip.compress("".join(lines[third:2 * third]).encode("utf-8")))
    (books / "c.txt").write_text("".join(lines[2 * third:]), encoding="utf-8")
    result = snakemake(root)
    assert result.returncode == 0, result.output
    return root


def _copy(shelf: Path, tmp_path: Path) -> Path:
    root = tmp_path / "w"
    shutil.copytree(shelf, root)  # keeps mtimes and .snakemake's records
    return root


def test_a_built_shelf_has_one_shard_per_book(shelf):
    names = sorted(p.name for p in (shelf / "results" / "segmented").iterdir())
    assert [name.split("-")[1] for name in names] == ["a_txt", "b_txt_gz", "c_txt"]
    assert "Nothing to be done" in snakemake(shelf, "--dry-run").output


def test_adding_a_book_plans_segmentation_and_cleaning_for_its_shards_only(shelf, tmp_path, test_data):
    root = _copy(shelf, tmp_path)
    (root / "data" / "raw" / "shelf" / "d.txt").write_bytes((test_data / "tiny_corpus.txt").read_text(encoding="utf-8")[:1200].encode("utf-8"))
    result = snakemake(root, "--dry-run")
    jobs = planned_jobs(result)
    assert jobs["segment"] == jobs["clean"] == 1 and jobs["vocab"] == 1 and jobs["pairs"] == 2 * 4, jobs
    assert jobs["count_merge"] == PARTITIONS, jobs
    assert "segmented/shard-d_txt-" in result.output and "segmented/shard-a_txt-" not in result.output


def test_removing_a_book_plans_no_segmentation(shelf, tmp_path):
    root = _copy(shelf, tmp_path)
    (root / "data" / "raw" / "shelf" / "b.txt.gz").unlink()
    jobs = planned_jobs(snakemake(root, "--dry-run"))
    assert "segment" not in jobs and "clean" not in jobs and jobs["vocab"] == 1, jobs
    assert jobs["count_merge"] == PARTITIONS, jobs


def test_changing_a_book_plans_its_own_shards(shelf, tmp_path):
    root = _copy(shelf, tmp_path)
    book = root / "data" / "raw" / "shelf" / "c.txt"
    book.write_text(book.read_text(encoding="utf-8") + "师父又念紧箍咒。\n", encoding="utf-8")
    result = snakemake(root, "--dry-run")
    jobs = planned_jobs(result)
    assert jobs["segment"] == jobs["clean"] == 1 and jobs["count_merge"] == PARTITIONS, jobs
    assert "segmented/shard-c_txt-" in result.output and "segmented/shard-a_txt-" not in result.output


def test_any_layout_of_a_shelf_gives_the_same_vocabulary_and_pairs(shelf, tmp_path):
    """Books in their own shards, or all small and bucketed: the same words and the same pairs
    (positions aside: they number the stream, whose order across books follows the shards)."""
    root = _copy(shelf, tmp_path)
    write_config(root, read_config(root), segment={"shard_mb": 100})
    shutil.rmtree(root / "results" / "pairs")  # the old layout's parts would stay beside the new ones
    result = snakemake(root)
    assert result.returncode == 0, result.output
    assert (root / "results" / "vocab.tsv").read_bytes() == (shelf / "results" / "vocab.tsv").read_bytes()
    for model in ("cbow", "skipgram"):
        files = read_dataset_metadata(root / "results" / "pairs" / model)[1]
        assert all(f.name.startswith("part-small-") for f in files)  # every book now in a bucket
        parts = [pq.read_table(f).drop(["position"]) for f in files]
        before = [pq.read_table(p).drop(["position"])
                  for p in read_dataset_metadata(shelf / "results" / "pairs" / model)[1]]
        assert _rows(parts) == _rows(before), model


def _rows(tables) -> Counter:
    return Counter(tuple(tuple(x) if isinstance(x, list) else x for x in row)
                   for t in tables for row in zip(*t.to_pydict().values()))
