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


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_the_defaults_keep_words_seen_once(tmp_path):
    from w2v.data.counts import shard_counts
    from w2v.data.vocab import kept_counts, make_vocab, vocab_from_counts
    from collections import Counter

    table = shard_counts(Counter({"道": 2, "王": 1}), 1).table
    assert kept_counts(table)["token"].to_pylist() == ["道", "王"]
    assert vocab_from_counts(table).tokens == ["<pad>", "道", "王"]
    vocab = make_vocab(_write(tmp_path / "t.txt", "道 王 道\n"), tmp_path / "v.tsv")
    assert vocab.tokens == ["<pad>", "道", "王"]


@pytest.mark.parametrize("min_count, cap, message", [(0, None, r"min_count must be >= 1, got 0"),
                                                    (1, 0, r"max_vocab_size must be >= 1 or None, got 0")])
def test_bad_cuts_name_their_value(min_count, cap, message):
    from w2v.data.vocab import build_vocab

    with pytest.raises(ValueError, match=rf"^{message}$"):
        build_vocab({"道": 1}, min_count, cap)


def test_a_corpus_without_tokens_names_its_files_and_the_keys_to_check(tmp_path):
    from w2v.data.vocab import make_vocab

    a, b = _write(tmp_path / "a.txt", "\n"), _write(tmp_path / "b.txt", "")
    with pytest.raises(UserError, match=rf"^no tokens left after cleaning \({a}, {b} hold none\): the corpus is all punctuation and "
                       r"symbols, or its words were filtered by config keys `clean.digits`/`clean.latin`; check that "
                       r"config key `corpus` names a text with words in it$"):
        make_vocab([a, b], tmp_path / "v.tsv")


def test_too_high_a_min_count_names_it_and_the_top_count(tmp_path):
    from w2v.data.vocab import make_vocab

    with pytest.raises(UserError, match=r"no word of the corpus occurs 5 times or more \(the most frequent occurs 2 times\)"):
        make_vocab(_write(tmp_path / "t.txt", "道 王 道\n"), tmp_path / "v.tsv", min_count=5)


def test_make_vocab_writes_the_corpus_stats_and_logs_what_it_kept(tmp_path, caplog):
    import logging

    from w2v.data.counts import CorpusStats
    from w2v.data.vocab import make_vocab

    caplog.set_level(logging.INFO, logger="w2v.data.vocab")
    text = _write(tmp_path / "t.txt", "道 王 道 孤\n王 道 王 道\n")
    vocab = make_vocab(text, tmp_path / "v.tsv", min_count=2, stats_path=tmp_path / "corpus.json")
    stats = CorpusStats.read(tmp_path / "corpus.json")
    assert (stats.distinct, stats.vocab_words, stats.vocab_tokens, stats.tokens) == (3, 2, 7, 8)
    assert stats.vocab_sha256 == vocab.sha256
    assert "vocabulary: 2 words (of 3 distinct), 7 of 8 tokens kept (87.5%)" in caplog.messages


def test_rows_out_of_order_name_the_row_they_follow(tmp_path):
    path = _write(tmp_path / "v.tsv", "id\ttoken\tcount\n0\t<pad>\t0\n1\t道\t5\n2\t王\t3\n3\t孤\t4\n")
    with pytest.raises(UserError, match=rf"line 5: rows must be ordered by count descending then token ascending, "
                       rf"but '孤' \(4\) follows '王' \(3\); {REDO}$"):
        load_vocab(path)


def test_a_repeated_token_names_both_lines(tmp_path):
    path = _write(tmp_path / "v.tsv", "id\ttoken\tcount\n0\t<pad>\t0\n1\t道\t5\n2\t<pad>\t3\n")
    with pytest.raises(UserError, match=rf"^{path}, line 4: token '<pad>' already on line 2; {REDO}$"):
        load_vocab(path)


def test_a_vocabulary_of_padding_alone_is_refused(tmp_path):
    path = _write(tmp_path / "v.tsv", "id\ttoken\tcount\n0\t<pad>\t0\n")
    with pytest.raises(UserError, match=rf"^{path}: the vocabulary holds no words; {REDO}$"):
        load_vocab(path)
