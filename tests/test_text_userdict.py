"""Parsing the jieba user dictionary, with errors that name the line."""

from __future__ import annotations

import pytest

from w2v.errors import UserError
from w2v.text.userdict import Entry, read_user_dict


def write(tmp_path, text: str, name="dict.txt"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_entries_counts_tags_comments_and_bom(tmp_path):
    path = write(tmp_path, "\ufeff# comment\n孙悟空 3000 nr\n\n花果山 ns\n金箍棒\n保唐僧 0\n")
    assert read_user_dict(path) == [
        Entry("孙悟空", 3000, "nr"),
        Entry("花果山", None, "ns"),
        Entry("金箍棒", None, None),
        Entry("保唐僧", 0, None),
    ]


@pytest.mark.parametrize(
    "bad_line", ["孙悟空 many nr", "孙悟空 12 nr extra", "孙悟空 -3", "孙悟空 nr 12", "孙悟空 1.5"]
)
def test_malformed_line_is_named(tmp_path, bad_line):
    path = write(tmp_path, f"八戒 10\n沙僧\n{bad_line}\n")
    with pytest.raises(UserError) as info:
        read_user_dict(path)
    assert f"{path}, line 3" in str(info.value)
    assert "word [count] [tag]" in str(info.value)


def test_missing_user_dict_names_the_config_key(tmp_path):
    with pytest.raises(UserError, match="does not exist.*segment.user_dict"):
        read_user_dict(tmp_path / "missing.txt")


def test_non_utf8_user_dict_names_the_line(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes("八戒\n孙悟空\n".encode("gb18030"))
    with pytest.raises(UserError, match="line 1: not valid UTF-8"):
        read_user_dict(path)


def test_user_dict_without_words_is_an_error(tmp_path):
    with pytest.raises(UserError, match="holds no words"):
        read_user_dict(write(tmp_path, "# only a comment\n\n"))


def test_shipped_user_dict_parses_and_covers_every_alias(repo_root):
    entries = read_user_dict(repo_root / "data" / "userdict.txt")
    words = {e.word for e in entries if e.count != 0}
    aliases = repo_root / "data" / "eval" / "xiyouji_aliases.txt"
    for line in aliases.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        for alias in line.split():
            assert alias in words, alias
