"""The `w2v` command: help for every stage, the text stages end to end, errors without tracebacks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from w2v.cli import main
from w2v.data.pairs import read_pairs_metadata
from w2v.data.vocab import load_vocab

STAGES = ["segment", "clean", "vocab", "pairs"]


def w2v(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """Run the installed command as a user would."""
    exe = shutil.which("w2v") or ""
    cmd = [exe, *args] if exe else [sys.executable, "-m", "w2v", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})


def test_top_level_help_lists_the_stages(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for stage in STAGES:
        assert stage in out


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_has_help(stage, capsys):
    with pytest.raises(SystemExit) as info:
        main([stage, "--help"])
    assert info.value.code == 0
    assert "usage: w2v " + stage in capsys.readouterr().out


def test_text_stages_end_to_end(tmp_path, test_data, repo_root):
    corpus = test_data / "tiny_corpus.txt"
    cache = tmp_path / "jieba.cache"
    assert main(["segment", "--build-cache", "--jieba-cache", str(cache)]) == 0
    shards = []
    for i in range(3):
        shard = tmp_path / f"shard-{i}.txt"
        shards.append(str(shard))
        assert main(["segment", "--corpus", str(corpus), "--user-dict", str(repo_root / "data" / "userdict.txt"),
                     "--hmm", "True", "--shards", "3", "--shard", str(i), "--jieba-cache", str(cache),
                     "-o", str(shard)]) == 0
    n_lines = sum(len(open(s, encoding="utf-8").read().splitlines()) for s in shards)
    assert n_lines == len(corpus.read_text(encoding="utf-8").splitlines())
    tokens = tmp_path / "tokens.txt"
    assert main(["clean", *shards, "--digits", "False", "--latin", "True", "-o", str(tokens)]) == 0
    vocab_path = tmp_path / "vocab.tsv"
    assert main(["vocab", str(tokens), "--min-count", "2", "--max-vocab-size", "None", "-o", str(vocab_path)]) == 0
    vocab = load_vocab(vocab_path)
    assert "石猴" in vocab.token_to_id and "美猴王" in vocab.token_to_id
    cbow, sg = tmp_path / "cbow.parquet", tmp_path / "sg.parquet"
    assert main(["pairs", str(tokens), "--vocab", str(vocab_path), "--window", "4", "--seed", "3",
                 "--cbow", str(cbow), "--skipgram", str(sg)]) == 0
    meta = read_pairs_metadata(cbow)
    assert meta["window"] == 4 and meta["seed"] == 3 and meta["vocab_sha256"] == vocab.sha256
    assert pq.ParquetFile(cbow).metadata.num_rows == meta["n_tokens"] == int(vocab.counts.sum())


def test_user_error_is_one_line_exit_2_no_traceback(tmp_path):
    corpus = tmp_path / "gbk.txt"
    corpus.write_bytes("第一行\n悟空道\n".encode("gb18030"))
    result = w2v("segment", "--corpus", str(corpus), "--jieba-cache", str(tmp_path / "c"), "-o", str(tmp_path / "o.txt"))
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "line 1" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o.txt").exists()


def test_bad_option_value_is_rejected_by_the_parser():
    result = w2v("clean", "x.txt", "--digits", "maybe", "-o", "y.txt")
    assert result.returncode == 2
    assert "expected true or false" in result.stderr and "Traceback" not in result.stderr


def test_shard_out_of_range(tmp_path, test_data):
    result = w2v("segment", "--corpus", str(test_data / "tiny_corpus.txt"), "--shards", "2", "--shard", "2",
                 "--jieba-cache", str(tmp_path / "c"), "-o", str(tmp_path / "o.txt"))
    assert result.returncode == 2 and "out of range" in result.stderr
