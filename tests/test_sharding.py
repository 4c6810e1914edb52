"""The text stages run per shard, through the `w2v` commands as the rules call them: any shard count
gives the same vocabulary and the same multiset of pairs as one shard, empty shards included, and
training reads the parts as one dataset."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from w2v.cli import main
from w2v.data.counts import CorpusStats
from w2v.errors import UserError
from w2v.data.pairs import read_dataset_metadata
from helpers import train_files as train

MODELS = ("cbow", "skipgram")


def run_stages(root: Path, corpus: Path, shards: int, jieba_cache: Path, userdict: Path) -> Path:
    """segment, clean (and count) per shard; vocab; pairs per shard. Returns the results folder."""
    out = root / f"shards-{shards}"
    for k in range(shards):
        seg, tok, cnt = out / f"seg-{k}.txt", out / f"tok-{k}.txt", out / f"counts-{k}.parquet"
        assert main(["segment", "--corpus", str(corpus), "--user-dict", str(userdict), "--shards", str(shards),
                     "--shard", str(k), "--jieba-cache", str(jieba_cache), "-o", str(seg)]) == 0
        assert main(["clean", str(seg), "-o", str(tok), "--counts", str(cnt)]) == 0
    counts = [str(out / f"counts-{k}.parquet") for k in range(shards)]
    assert main(["vocab", *counts, "--min-count", "2", "-o", str(out / "vocab.tsv"), "--stats", str(out / "corpus.json")]) == 0
    for k in range(shards):
        assert main(["pairs", str(out / f"tok-{k}.txt"), "--vocab", str(out / "vocab.tsv"), "--stats", str(out / "corpus.json"),
                     "--part", str(k), "--window", "3", "--seed", "1",
                     "--cbow", str(out / "cbow" / f"part-{k}.parquet"),
                     "--skipgram", str(out / "skipgram" / f"part-{k}.parquet")]) == 0
    return out


def pair_rows(folder: Path) -> Counter:
    rows: Counter = Counter()
    for part in folder.glob("*.parquet"):
        for row in zip(*pq.read_table(part).to_pydict().values()):
            rows[tuple(tuple(x) if isinstance(x, list) else x for x in row)] += 1
    return rows


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, test_data) -> Path:
    """The tiny novel with a run of punctuation-only lines in the middle, so some shard holds no word."""
    lines = (test_data / "tiny_corpus.txt").read_text(encoding="utf-8").splitlines()
    middle = len(lines) // 2
    text = "\n".join(lines[:middle] + ["。。！？……——“”"] * 300 + lines[middle:]) + "\n"
    path = tmp_path_factory.mktemp("corpus") / "novel.txt"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory, corpus, repo_root) -> dict[int, Path]:
    root = tmp_path_factory.mktemp("sharding")
    cache = root / "jieba.cache"
    assert main(["segment", "--build-cache", "--jieba-cache", str(cache)]) == 0
    return {n: run_stages(root, corpus, n, cache, repo_root / "data" / "userdict.txt") for n in (1, 3, 7)}


def test_any_shard_count_gives_the_same_vocabulary_and_pairs(runs):
    one = runs[1]
    for n in (3, 7):
        assert (runs[n] / "vocab.tsv").read_bytes() == (one / "vocab.tsv").read_bytes()
        for model in MODELS:
            assert pair_rows(runs[n] / model) == pair_rows(one / model), (n, model)
        stats, reference = CorpusStats.read(runs[n] / "corpus.json"), CorpusStats.read(one / "corpus.json")
        assert (stats.sentences, stats.tokens, stats.distinct) == (reference.sentences, reference.tokens, reference.distinct)


def test_a_shard_with_no_words_gives_an_empty_part(runs):
    stats = CorpusStats.read(runs[7] / "corpus.json")
    empty = [k for k, shard in enumerate(stats.shards) if shard["tokens"] == 0]
    assert empty, "the punctuation run fills at least one of 7 shards"
    for k in empty:
        assert pq.ParquetFile(runs[7] / "cbow" / f"part-{k}.parquet").metadata.num_rows == 0
    meta, files = read_dataset_metadata(runs[7] / "cbow")
    assert meta["parts"] == 7 and len(files) == 7 and meta["n_tokens"] == stats.vocab_tokens


def test_training_reads_the_parts_as_one_dataset(runs, tmp_path):
    settings = {"epochs": 2, "vector_size": 8, "workers": 1, "seed": 3}
    out = {}
    for n in (1, 7):
        history = train("skipgram", runs[n] / "skipgram", runs[n] / "vocab.tsv", settings,
                        tmp_path / f"{n}.vec", tmp_path / f"{n}.json", device="cpu")
        out[n] = history
    # the same data: every epoch sees the same examples (the order of parts and buffers differs)
    assert [e["examples"] for e in out[1]["epochs"]] == [e["examples"] for e in out[7]["epochs"]]
    assert out[1]["n_tokens"] == out[7]["n_tokens"]


def test_a_stale_or_missing_part_is_caught(runs, tmp_path):
    folder = runs[3] / "cbow"
    with pytest.raises(UserError, match="part 2 .* does not follow the parts before it"):
        read_dataset_metadata([folder / "part-0.parquet", folder / "part-2.parquet"])
    with pytest.raises(UserError, match="2 of its 3 part files"):
        read_dataset_metadata([folder / "part-0.parquet", folder / "part-1.parquet"])
    with pytest.raises(UserError, match="different pairs datasets"):
        read_dataset_metadata([folder / "part-0.parquet", runs[7] / "cbow" / "part-1.parquet", folder / "part-2.parquet"])
