"""Vocabulary: order, min_count, max_vocab_size, the TSV contract and its checks."""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
import pytest

from w2v.errors import UserError
from w2v.data.vocab import Vocabulary, build_vocab, load_vocab, make_vocab, write_vocab

COUNTS = Counter({"道": 5, "悟空": 3, "八戒": 3, "沙僧": 1, "a": 3, "白马": 2})


def test_order_is_count_descending_then_code_point():
    vocab = build_vocab(COUNTS, min_count=1)
    assert vocab.tokens == ["<pad>", "道", "a", "八戒", "悟空", "白马", "沙僧"]
    assert vocab.counts.tolist() == [0, 5, 3, 3, 3, 2, 1]
    assert vocab.counts.dtype == np.int64
    assert vocab.token_to_id["八戒"] == 3 and len(vocab) == 7


def test_min_count_and_max_vocab_size():
    assert build_vocab(COUNTS, min_count=3).tokens == ["<pad>", "道", "a", "八戒", "悟空"]
    assert build_vocab(COUNTS, min_count=2, max_vocab_size=2).tokens == ["<pad>", "道", "a"]


def test_write_then_load_round_trips_with_file_hash(tmp_path):
    path = tmp_path / "vocab.tsv"
    vocab = build_vocab(COUNTS, min_count=2)
    sha = write_vocab(vocab, path)
    data = path.read_bytes()
    assert data.decode("utf-8").splitlines()[:3] == ["id\ttoken\tcount", "0\t<pad>\t0", "1\t道\t5"]
    assert sha == hashlib.sha256(data).hexdigest()
    loaded = load_vocab(path)
    assert isinstance(loaded, Vocabulary)
    assert loaded.tokens == vocab.tokens
    assert loaded.counts.tolist() == vocab.counts.tolist()
    assert loaded.sha256 == sha
    assert loaded.token_to_id == vocab.token_to_id


def test_make_vocab_from_token_file(tmp_path):
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("悟空 道 悟空\n八戒 道\n悟空\n", encoding="utf-8")
    vocab = make_vocab(tokens, tmp_path / "vocab.tsv", min_count=2)
    assert vocab.tokens == ["<pad>", "悟空", "道"]
    assert load_vocab(tmp_path / "vocab.tsv").counts.tolist() == [0, 3, 2]


def test_vocabulary_emptied_by_min_count_is_an_error_without_output(tmp_path):
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("悟空 道 悟空\n", encoding="utf-8")
    out = tmp_path / "vocab.tsv"
    with pytest.raises(UserError) as info:
        make_vocab(tokens, out, min_count=5)
    assert "vocab.min_count" in str(info.value) and "occurs 2 times" in str(info.value)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokens.txt"]


GOOD = "id\ttoken\tcount\n0\t<pad>\t0\n1\t道\t5\n2\t悟空\t3\n3\t八戒\t3\n"


@pytest.mark.parametrize(
    "text, line, what",
    [
        ("id\tword\tcount\n0\t<pad>\t0\n1\t道\t5\n", 1, "header"),
        (GOOD.replace("2\t悟空", "4\t悟空"), 4, "contiguous"),
        (GOOD.replace("0\t<pad>\t0", "0\t<unk>\t0"), 2, "row 0"),
        ("id\ttoken\tcount\n0\t<pad>\t0\n1\t悟空\t3\n2\t道\t5\n", 4, "ordered"),
        ("id\ttoken\tcount\n0\t<pad>\t0\n1\t道\t5\n2\t八戒\t3\n3\t悟空\t3\n", 5, None),
        ("id\ttoken\tcount\n0\t<pad>\t0\n1\t道\t5\n2\t道\t5\n", 4, "ordered"),
        (GOOD.replace("3\t八戒\t3", "3\t八戒"), 5, "3 tab-separated"),
        (GOOD.replace("\t3\n", "\tthree\n", 1), 4, "integers"),
        (GOOD.replace("3\t八戒\t3", "3\t八戒\t0"), 5, "positive"),
    ],
)
def test_load_vocab_rejects_contract_breaks_naming_the_line(tmp_path, text, line, what):
    path = tmp_path / "vocab.tsv"
    path.write_text(text, encoding="utf-8")
    if what is None:  # control: a valid file loads
        assert load_vocab(path).tokens == ["<pad>", "道", "八戒", "悟空"]
        return
    with pytest.raises(UserError) as info:
        load_vocab(path)
    assert f"{path}, line {line}" in str(info.value)
    assert what in str(info.value)
    assert "rule vocab" in str(info.value)


def test_load_vocab_missing_file(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_vocab(tmp_path / "vocab.tsv")


def test_load_vocab_folder_is_a_clear_error(tmp_path):
    (tmp_path / "vocab.tsv").mkdir()
    with pytest.raises(UserError, match="is a folder.*rule vocab"):
        load_vocab(tmp_path / "vocab.tsv")
