"""The character table (results/chars.tsv) and how characters compose a word (w2v.data.chars)."""

from __future__ import annotations

import numpy as np
import pytest

from w2v.data.chars import (COMPOSITIONS, MAX_WORD_CHARS, CharTable, char_table, cwe_composition, load_char_table,
                       write_char_table)
from w2v.config import schema
from w2v.errors import UserError
from w2v.data.vocab import Vocabulary

VOCAB = Vocabulary(["<pad>", "孙悟空", "悟空", "天天", "猪"], np.array([0, 5, 4, 3, 1]))


def test_a_character_counts_each_occurrence_in_each_word_times_the_word_count():
    table = char_table(VOCAB)
    counts = dict(zip(table.chars, table.counts.tolist()))
    assert counts == {"孙": 5, "悟": 9, "空": 9, "天": 6, "猪": 1}
    # count descending, then character (code point) ascending
    assert list(table.chars) == ["悟", "空", "天", "孙", "猪"]


def test_table_round_trips_and_keeps_its_hash(tmp_path):
    write_char_table(char_table(VOCAB), tmp_path / "chars.tsv")
    text = (tmp_path / "chars.tsv").read_text(encoding="utf-8")
    assert text.splitlines()[:2] == ["id\tchar\tcount", "0\t悟\t9"]
    loaded = load_char_table(tmp_path / "chars.tsv")
    assert loaded.chars == char_table(VOCAB).chars and loaded.counts.tolist() == [9, 9, 6, 5, 1]
    assert len(loaded.sha256) == 64


@pytest.mark.parametrize(
    "text, message",
    [
        ("id\tchar\n", "line 1: expected the header"),
        ("id\tchar\tcount\n0\t孙\t5\n2\t悟\t4\n", "line 3: ids must be contiguous"),
        ("id\tchar\tcount\n0\t孙悟\t5\n", "line 2: expected one character"),
        ("id\tchar\tcount\n0\t孙\t0\n", "line 2: expected one character and a positive count"),
        ("id\tchar\tcount\n0\t孙\t5\n1\t悟\t6\n", "line 3: rows must be ordered"),
        ("id\tchar\tcount\n0\t孙\tfive\n", "line 2: id and count must be integers"),
    ],
)
def test_a_table_breaking_the_contract_names_the_line(tmp_path, text, message):
    path = tmp_path / "chars.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=message) as info:
        load_char_table(path)
    assert str(path) in str(info.value) and "rule vocab" in str(info.value)


def test_missing_table_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_char_table(tmp_path / "nope.tsv")


def test_at_least_keeps_the_frequent_characters_in_order():
    table = char_table(VOCAB).at_least(6)
    assert table.chars == ("悟", "空", "天") and table.counts.tolist() == [9, 9, 6]


def test_cwe_composes_half_the_word_and_half_its_characters_mean():
    table = CharTable(("悟", "空", "天", "孙"), np.array([9, 9, 6, 5]))  # 猪 left out, as min_char_count would
    comp = cwe_composition(VOCAB.tokens, table)
    first = len(VOCAB.tokens)  # character i is row first + i
    rows = {w: [(int(r), float(x)) for r, x in zip(comp.rows[w], comp.weights[w]) if x] for w in range(5)}
    assert rows[0] == []  # padding composes nothing
    assert rows[1] == [(1, 0.5), (first + 3, 0.5 / 3), (first + 0, 0.5 / 3), (first + 1, 0.5 / 3)]
    assert rows[3] == [(3, 0.5), (first + 2, 0.25), (first + 2, 0.25)]  # 天天: each occurrence counts
    assert rows[4] == [(4, 1.0)]  # no character in the table: the word's own vector
    assert comp.rows.shape[1] == 4 and comp.extra_rows == 4
    np.testing.assert_allclose(comp.weights.sum(axis=1), [0, 1, 1, 1, 1])
    assert np.all(comp.rows[comp.weights == 0] == 0)  # unused slots are padding


def test_a_token_longer_than_any_word_keeps_its_own_vector():
    long_token = "一" * (MAX_WORD_CHARS + 1)
    comp = cwe_composition(["<pad>", long_token, "一"], CharTable(("一",), np.array([18])))
    assert comp.weights[1].tolist()[:2] == [1.0, 0.0] and comp.rows.shape[1] == 2


def test_every_schema_choice_of_chars_has_a_composition():
    assert set(COMPOSITIONS) == set(schema()["properties"]["train"]["properties"]["chars"]["enum"])
    assert COMPOSITIONS["none"] is None
