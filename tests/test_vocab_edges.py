"""Edges of `w2v.data.vocab` that test_vocab.py leaves open (found by mutation testing,
docs/testing.md): `build_vocab`'s default keeps every word, and `load_vocab`'s handling of a last row
without a newline, bad UTF-8, a wrong or missing header and fields split only on tabs, each message
naming the file, the line and the step that rewrites it."""

from __future__ import annotations

import pytest

from w2v.data.vocab import build_vocab, load_vocab
from w2v.errors import UserError

REDO = r"rerun `w2v vocab` \(rule vocab\)"


def test_build_vocab_keeps_words_seen_once_by_default():
    vocab = build_vocab({"王": 1, "道": 2})
    assert vocab.tokens == ["<pad>", "道", "王"] and vocab.counts.tolist() == [0, 2, 1]


def test_a_last_row_without_a_newline_is_kept(tmp_path):
    path = tmp_path / "vocab.tsv"
    path.write_bytes("id\ttoken\tcount\n0\t<pad>\t0\n1\t道\t5\n2\t王\t3".encode("utf-8"))
    vocab = load_vocab(path)
    assert vocab.tokens == ["<pad>", "道", "王"] and vocab.counts.tolist() == [0, 5, 3]


def test_bad_utf8_names_the_file_line_and_encoding(tmp_path):
    path = tmp_path / "vocab.tsv"
    path.write_bytes(b"id\ttoken\tcount\n0\t<pad>\t0\n1\t\xff\t5\n")
    with pytest.raises(UserError, match=rf"^{path}, line 3: not valid UTF-8 \(bytes b'\\xff.*'\); {REDO}$"):
        load_vocab(path)


@pytest.mark.parametrize("text, got", [("", "''"), ("id\ttoken\n0\t<pad>\t0\n", r"'id\\ttoken'")], ids=["empty", "short-header"])
def test_a_wrong_or_missing_header_shows_what_was_found(tmp_path, text, got):
    path = tmp_path / "vocab.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=rf"^{path}, line 1: expected the header 'id\\ttoken\\tcount', got {got}; {REDO}$"):
        load_vocab(path)


@pytest.mark.parametrize("row", ["1\t\t5", "1\t悟 空\t5"], ids=["empty-token", "space-in-token"])
def test_fields_are_split_on_tabs_only(tmp_path, row):
    """A token is what lies between the tabs: an empty one or one holding a space is refused as such,
    not miscounted as a row of 2 or 4 fields."""
    path = tmp_path / "vocab.tsv"
    path.write_text(f"id\ttoken\tcount\n0\t<pad>\t0\n{row}\n", encoding="utf-8")
    with pytest.raises(UserError, match=rf"^{path}, line 3: empty token or token with whitespace; {REDO}$"):
        load_vocab(path)
