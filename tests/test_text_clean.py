"""Cleaning: punctuation/symbol removal, digit and Latin options, sentence splitting."""

from __future__ import annotations

import pytest

from w2v.text.clean import CleanOptions, clean_files, clean_line, is_latin, is_number, trim

PUNCTUATION = list("，。！？：；、“”‘’（）【】《》〈〉「」『』〔〕［］｛｝…—～·,.!?:;\"'()[]{}<>-_/\\|@#$%^&*+=~`") + [
    "……", "——", "（", "＂", "｀", "＃", "＄", "％", "＆", "＊", "＋", "－", "／", "＜", "＝", "＞", "＠", "＼", "＾", "＿", "｜", "￥", "☆", "※", "\u3000",
]


@pytest.mark.parametrize("token", PUNCTUATION)
def test_punctuation_symbol_and_whitespace_tokens_are_dropped(token):
    assert list(clean_line(["悟空", token, "八戒"])) in ([["悟空", "八戒"]], [["悟空"], ["八戒"]])


def test_sentences_end_at_final_marks_and_line_end():
    tokens = "悟空 道 ： “ 师父 ！ ” 八戒 笑 。 沙僧 ？ 唐僧 ； 白马 …… 完".split()
    assert list(clean_line(tokens)) == [["悟空", "道", "师父"], ["八戒", "笑"], ["沙僧"], ["唐僧"], ["白马"], ["完"]]


def test_commas_do_not_end_sentences_and_empty_sentences_vanish():
    assert list(clean_line("。 。 悟空 ， 八戒 、 沙僧 。 ！".split())) == [["悟空", "八戒", "沙僧"]]


def test_tokens_are_trimmed_of_edge_punctuation():
    assert trim("“悟空”") == "悟空"
    assert trim("《西游记》") == "西游记"
    assert trim("3.14") == "3.14"
    assert trim("——") == ""


@pytest.mark.parametrize("token, number", [("12", True), ("３２", True), ("3.14", True), ("1,000", True), ("50%", True), ("一百", False), ("A4", False), ("第一", False)])
def test_is_number(token, number):
    assert is_number(token) is number


@pytest.mark.parametrize("token, latin", [("abc", True), ("A4", True), ("ＡＢＣ", True), ("é", True), ("12", False), ("A股", False), ("悟空", False)])
def test_is_latin(token, latin):
    assert is_latin(token) is latin


def test_digit_and_latin_options():
    tokens = ["悟空", "72", "变", "OK", "A4", "一百"]
    assert list(clean_line(tokens, CleanOptions(digits=False, latin=True))) == [["悟空", "变", "OK", "A4", "一百"]]
    assert list(clean_line(tokens, CleanOptions(digits=True, latin=False))) == [["悟空", "72", "变", "一百"]]


def test_clean_files_concatenates_shards_in_order(tmp_path):
    a = tmp_path / "shard-0.txt"
    b = tmp_path / "shard-1.txt"
    a.write_text("悟空 道 ： 师父 。 八戒\n\n", encoding="utf-8")
    b.write_text("“ 沙僧 ” ！\n", encoding="utf-8")
    out = tmp_path / "tokens.txt"
    stats = clean_files([a, b], out)
    assert out.read_text(encoding="utf-8") == "悟空 道 师父\n八戒\n沙僧\n"
    assert (stats.lines, stats.sentences, stats.tokens_out) == (3, 3, 5)


def test_a_shard_with_no_tokens_left_is_written_empty(tmp_path, caplog):
    """A shard may hold no word; the vocabulary stage checks the corpus as a whole."""
    shard = tmp_path / "shard-0.txt"
    shard.write_text("。 ！ ？\n12 34\n", encoding="utf-8")
    out = tmp_path / "tokens.txt"
    stats = clean_files([shard], out)
    assert stats.tokens_out == 0 and out.read_text(encoding="utf-8") == ""
    assert "no tokens left after cleaning" in caplog.text
