"""Character table and composition edges found by mutation testing (benchmarks/mutation.sh chars)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from w2v.data.chars import MAX_WORD_CHARS, CharTable, char_table, cwe_composition, load_char_table
from w2v.errors import UserError
from w2v.data.vocab import Vocabulary

HEAD = "id\tchar\tcount\n"


def load(tmp_path, text: str | bytes):
    path = tmp_path / "chars.tsv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return load_char_table(path)


def test_at_least_keeps_the_files_hash():
    table = CharTable(("悟", "空"), np.array([9, 2]), "ab" * 32)
    assert table.at_least(5).sha256 == "ab" * 32


def test_equal_counts_are_ordered_by_character_whatever_the_vocabulary_order():
    vocab = Vocabulary(["<pad>", "乙", "甲"], np.array([0, 3, 3]))  # 乙 is U+4E59, 甲 U+7532
    assert char_table(vocab).chars == ("乙", "甲")
    vocab = Vocabulary(["<pad>", "甲", "乙"], np.array([0, 3, 3]))
    assert char_table(vocab).chars == ("乙", "甲")


def test_a_table_without_a_final_newline_keeps_its_last_row(tmp_path):
    assert load(tmp_path, HEAD + "0\t孙\t5\n1\t悟\t4").chars == ("孙", "悟")


@pytest.mark.parametrize("text, message", [
    ("", "line 1: expected the header 'id\\tchar\\tcount', got ''"),
    ("id,char,count\n", "line 1: expected the header 'id\\tchar\\tcount', got 'id,char,count'"),
    (HEAD + "0\t孙\n", "line 2: expected 3 tab-separated fields, got 2"),
    (HEAD + "0\t孙\t5\n2\t悟\t4\n", "line 3: ids must be contiguous from 0, expected 1, got 2"),
    (HEAD + "0\t孙\t5\n1\t孙\t5\n", "line 3: rows must be ordered by count descending then character"),
    (HEAD + "0\t孙 \t5\n", "line 2: expected one character and a positive count"),
    (HEAD + "0\t \t5\n", "line 2: expected one character and a positive count"),
])
def test_contract_breaks_are_named_precisely(tmp_path, text, message):
    with pytest.raises(UserError, match=re.escape(message)) as info:
        load(tmp_path, text)
    assert str(tmp_path / "chars.tsv") in str(info.value) and str(info.value).endswith(
        "rerun `w2v vocab` (rule vocab), which writes it")


def test_a_table_that_is_not_utf8_names_the_file_line_and_fix(tmp_path):
    with pytest.raises(UserError, match=r"chars.tsv, line 3: not valid UTF-8 .*rerun `w2v vocab` \(rule vocab\)"):
        load(tmp_path, HEAD.encode() + "0\t孙\t5\n".encode() + b"1\t\xff\t4\n")


def test_a_folder_in_place_of_the_table_is_named(tmp_path):
    (tmp_path / "chars.tsv").mkdir()
    with pytest.raises(UserError, match=r"character table .*chars.tsv is a folder, not a chars.tsv file; rerun"):
        load_char_table(tmp_path / "chars.tsv")


def test_a_word_of_max_word_chars_is_still_composed():
    word = "一二" * (MAX_WORD_CHARS // 2)
    assert len(word) == MAX_WORD_CHARS
    comp = cwe_composition(["<pad>", word], CharTable(("一", "二"), np.array([8, 8])))
    assert comp.weights[1, 0] == 0.5 and comp.rows.shape[1] == 1 + MAX_WORD_CHARS


def test_composition_rows_are_int32_for_the_bag_kernels():
    comp = cwe_composition(["<pad>", "一二"], CharTable(("一",), np.array([1])))
    assert comp.rows.dtype == np.int32 and comp.weights.dtype == np.float64
