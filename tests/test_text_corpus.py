"""Reading the raw corpus (encodings, BOM, CRLF, clear errors) and cutting it into shards."""

from __future__ import annotations

import pytest

from w2v.errors import UserError
from w2v.text.corpus import read_corpus_lines, shard_bounds

TEXT = "第一回 灵根育孕\n\n悟空道：“师父！”\n猪八戒笑了。\n"


def test_utf8_bom_and_crlf_read_like_plain_utf8(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_bytes(TEXT.encode("utf-8"))
    bom_crlf = tmp_path / "bom.txt"
    bom_crlf.write_bytes(b"\xef\xbb\xbf" + TEXT.replace("\n", "\r\n").encode("utf-8"))
    expected = ["第一回 灵根育孕", "", "悟空道：“师父！”", "猪八戒笑了。"]
    assert read_corpus_lines(plain) == expected
    assert read_corpus_lines(bom_crlf) == expected


def test_gb18030_file_reads_with_its_encoding(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes(TEXT.replace("\n", "\r\n").encode("gb18030"))
    assert read_corpus_lines(path, "gb18030")[2] == "悟空道：“师父！”"


def test_gb18030_read_as_utf8_names_file_line_and_encoding_key(tmp_path):
    path = tmp_path / "novel.txt"
    path.write_bytes(("ascii first line\nsecond line\n" + TEXT).encode("gb18030"))
    with pytest.raises(UserError) as info:
        read_corpus_lines(path, "utf-8")
    message = str(info.value)
    assert str(path) in message
    assert "line 3" in message
    assert "`encoding`" in message and "gb18030" in message


def test_unknown_encoding_names_the_key(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("x\n")
    with pytest.raises(UserError, match="unknown text encoding 'klingon'.*`encoding`"):
        read_corpus_lines(path, "klingon")


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n", b"\xef\xbb\xbf"])
def test_empty_corpus_is_an_error(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(UserError, match="empty"):
        read_corpus_lines(path)


def test_missing_corpus_names_the_key(tmp_path):
    with pytest.raises(UserError, match="does not exist.*`corpus`"):
        read_corpus_lines(tmp_path / "nope.txt")


@pytest.mark.parametrize("shards", [1, 2, 3, 4, 7, 20])
def test_shards_are_contiguous_and_cover_every_line(shards):
    lines = [("字" * (i % 13 + 1)) for i in range(10)]
    bounds = shard_bounds(lines, shards)
    assert len(bounds) == shards
    assert bounds[0][0] == 0 and bounds[-1][1] == len(lines)
    for (_, stop), (start, _) in zip(bounds, bounds[1:]):
        assert stop == start
    assert all(start <= stop for start, stop in bounds)


def test_shards_balance_characters_not_lines():
    lines = ["长" * 300] * 10 + ["短"] * 90  # 3,190 characters with line ends
    (a0, a1), (b0, b1) = shard_bounds(lines, 2)
    assert (a0, a1, b0, b1) == (0, 6, 6, 100)  # 1,806 + 1,384 characters, not 50 + 50 lines
