"""Segmentation with our own jieba tokenizer: cache location, user dictionary, output format."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from w2v.text.segment import build_cache, make_tokenizer, segment_lines, write_segmented
from w2v.text.userdict import Entry, read_user_dict


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return build_cache(tmp_path_factory.mktemp("jieba") / "jieba.cache")


@pytest.fixture(scope="module")
def plain(cache):
    return make_tokenizer(cache)


@pytest.fixture(scope="module")
def novel(cache, repo_root):
    return make_tokenizer(cache, read_user_dict(repo_root / "data" / "userdict.txt"))


def test_cache_is_written_where_we_say_not_in_the_system_temp(tmp_path, capfd):
    cache = tmp_path / "sub" / "my.cache"
    tokenizer = make_tokenizer(cache)
    assert cache.is_file() and cache.stat().st_size > 1_000_000
    assert Path(tokenizer.tmp_dir) == cache.parent.resolve()
    assert not str(cache.parent).startswith(str(Path(tempfile.gettempdir()) / "jieba"))
    out, err = capfd.readouterr()
    assert "Building prefix dict" not in err and "Loading model" not in err  # jieba kept quiet
    assert out == ""


def test_build_cache_replaces_a_stale_file(tmp_path):
    cache = tmp_path / "jieba.cache"
    cache.write_bytes(b"stale")
    build_cache(cache)
    assert cache.stat().st_size > 1_000_000


@pytest.fixture(scope="module")
def water_margin(cache, repo_root):
    return make_tokenizer(cache, read_user_dict(repo_root / "data" / "userdict_shuihuzhuan.txt"))


@pytest.mark.parametrize("tokenizer, aliases", [("novel", "xiyouji_aliases.txt"),
                                                ("water_margin", "shuihuzhuan_aliases.txt")])
def test_every_alias_comes_out_as_one_token(request, repo_root, tokenizer, aliases):
    tokenizer = request.getfixturevalue(tokenizer)
    split = []
    for line in (repo_root / "data" / "eval" / aliases).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            split += [(a, tokenizer.lcut(a)) for a in line.split() if tokenizer.lcut(a) != [a]]
    assert split == []


@pytest.mark.parametrize("sentence, glued, name", [("宋江道：", "宋江道", "宋江"), ("战秦明", "战秦明", "秦明")])
def test_water_margin_user_dict_unglues_names(plain, water_margin, sentence, glued, name):
    assert glued in plain.lcut(sentence)
    assert name in water_margin.lcut(sentence)


@pytest.mark.parametrize(
    "sentence, glued, name",
    [
        ("他保唐僧西去", "保唐僧", "唐僧"),  # a compound in jieba's own dictionary
        ("沙僧笑道", "沙僧笑", "沙僧"),
        ("那长老见了", "那长老", "长老"),
        ("大圣何不去", "大圣何", "大圣"),
        ("老孙去也", "老孙去", "老孙"),  # HMM glues an unknown name to a verb
        ("你这泼猴", "泼", "泼猴"),  # a name cut apart
        ("官封弼马温", "马温", "弼马温"),
    ],
)
def test_user_dict_fixes_real_mis_segmentations(plain, novel, sentence, glued, name):
    assert glued in plain.lcut(sentence)
    assert name in novel.lcut(sentence)
    assert glued not in novel.lcut(sentence)


def test_user_dict_count_zero_removes_a_word(cache):
    tokenizer = make_tokenizer(cache, [Entry("保唐僧", 0)])
    assert "保唐僧" not in tokenizer.lcut("他保唐僧西去")


def test_hmm_switch_reaches_jieba(plain):
    # "老孙去" is glued by the HMM; without it the unknown characters stay single.
    assert "老孙去" in next(segment_lines(plain, ["老孙去也"], hmm=True))
    assert "老孙去" not in next(segment_lines(plain, ["老孙去也"], hmm=False))


def test_segment_lines_drops_whitespace_tokens(plain):
    lines = list(segment_lines(plain, ["  悟空\t道 ：  ", "", "abc  def"]))
    assert lines[0] == ["悟空", "道", "："]
    assert lines[1] == []
    assert lines[2] == ["abc", "def"]


def test_write_segmented_one_line_per_input_line(plain, tmp_path):
    out = tmp_path / "shard-0.txt"
    n = write_segmented(plain, ["悟空道：师父", "", "八戒"], out)
    assert out.read_text(encoding="utf-8") == "悟空 道 ： 师父\n\n八戒\n"
    assert n == 5
