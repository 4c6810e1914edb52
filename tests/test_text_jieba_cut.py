"""`JiebaCut` gives jieba's own tokens: on both novels, on awkward text, and where scores tie."""

from __future__ import annotations

import random

import pytest

from w2v.text.jieba_cut import JiebaCut
from w2v.text.segment import build_cache, make_tokenizer
from w2v.text.userdict import read_user_dict


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return build_cache(tmp_path_factory.mktemp("jieba") / "jieba.cache")


def _mismatches(tokenizer, cutter, lines, hmm):
    return [(line, list(tokenizer.cut(line, HMM=hmm)), cutter.cut(line, hmm))
            for line in lines if list(tokenizer.cut(line, HMM=hmm)) != cutter.cut(line, hmm)]


@pytest.mark.slow
@pytest.mark.parametrize("corpus, user_dict", [("raw/xiyouji.txt", "userdict.txt"),
                                               ("raw-extra/shuihuzhuan.txt", "userdict_shuihuzhuan.txt")])
def test_same_tokens_as_jieba_on_the_novels(cache, repo_root, corpus, user_dict):
    tokenizer = make_tokenizer(cache, read_user_dict(repo_root / "data" / user_dict))
    cutter = JiebaCut(tokenizer)
    lines = (repo_root / "data" / corpus).read_text(encoding="utf-8").splitlines()
    assert len(lines) > 3000
    assert _mismatches(tokenizer, cutter, lines, hmm=True) == []
    assert _mismatches(tokenizer, cutter, lines[::5], hmm=False) == []


AWKWARD = [
    "", " ", "\r\n", "悟", "　悟空　", "行者道：“师父，我老孙去也！”",
    "C++ 与 C# 的 3.5% 和 1,000 元", "e-mail: abc.def@example.com 2024-01-02",
    "ＡＢＣ１２３全角字母", "第3回 灵根育孕源流出", "𠀀𠀁𡃁 扩展区的字", "鿪鿫 超出 9FD5 的字",
    "😀表情符号😀", "老孙去也老孙去也老孙去也", "abc  def\tghi", "一二三四五六七八九十百千万",
    "那猴在山中，却会用力走跳，食草木，饮涧泉，采山花，觅树果；与狼虫为伴，虎豹为群",
    "唵嘛呢叭咪吽", "囗囗囗囗", "x" * 50 + "中文" + "9" * 30,
]


@pytest.mark.parametrize("hmm", [True, False])
def test_same_tokens_as_jieba_on_awkward_text(cache, hmm):
    tokenizer = make_tokenizer(cache)
    assert _mismatches(tokenizer, JiebaCut(tokenizer), AWKWARD, hmm) == []


@pytest.mark.parametrize("hmm", [True, False])
def test_same_tokens_as_jieba_on_random_text(cache, hmm):
    """Random strings over common and rare characters, letters, digits, punctuation and spaces."""
    tokenizer = make_tokenizer(cache)
    rng = random.Random(7)
    pool = list("的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会"
                "悟空八戒沙僧唐师父行者妖怪魔王菩萨观音如来佛祖天宫花果山水帘洞龙王东海")
    pool += list("囗丒丣乛亍亗亖亗") + list("abcXYZ0129.%-+#&_") + list("，。！？：；“”、 \t")
    lines = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 40))) for _ in range(1500)]
    assert _mismatches(tokenizer, JiebaCut(tokenizer), lines, hmm) == []


def _toy_tokenizer(freq):
    """A jieba `Tokenizer` on a tiny dictionary: `freq` (word -> count) plus every word's prefixes."""
    import jieba

    tokenizer = jieba.Tokenizer()
    table = {}
    for word, count in freq.items():
        for end in range(1, len(word)):
            table.setdefault(word[:end], 0)
        table[word] = count
    tokenizer.FREQ, tokenizer.total, tokenizer.initialized = table, sum(freq.values()), True
    return tokenizer


@pytest.mark.parametrize("hmm", [True, False])
def test_route_ties_break_as_jieba_does(hmm):
    # total 1 makes every word's score log(1) - log(1) = 0: every route ties, the longer word wins.
    tokenizer = _toy_tokenizer({"甲": 1, "乙": 0, "甲乙": 1, "乙丙": 0, "丙": 0})
    tokenizer.total = 1
    lines = ["甲乙", "甲乙丙", "丙甲乙甲", "乙丙丙甲乙乙"]
    assert _mismatches(tokenizer, JiebaCut(tokenizer), lines, hmm) == []
    assert JiebaCut(tokenizer).cut("甲乙", hmm) == ["甲乙"]


def test_viterbi_ties_break_as_jieba_does(cache, monkeypatch):
    """Equal start and transition probabilities, and emissions that favour B (丐), E (丒) or nothing
    (囗): many states' choices, and the last one, are exact ties, broken as jieba's `max` does."""
    import itertools

    from jieba import finalseg

    tokenizer = make_tokenizer(cache)
    emit = {"囗": (-2.0, -2.0, -2.0, -2.0), "丐": (-1.5, -2.0, -2.0, -2.0), "丒": (-2.0, -2.0, -1.5, -2.0)}
    monkeypatch.setattr(finalseg, "start_P", {state: -1.0 for state in "BMES"})
    monkeypatch.setattr(finalseg, "trans_P", {a: {b: -1.0 for b in "BMES"} for a in "BMES"})
    monkeypatch.setattr(finalseg, "emit_P", {s: {c: e[i] for c, e in emit.items()} for i, s in enumerate("BMES")})
    lines = ["".join(chars) for n in range(2, 6) for chars in itertools.product(emit, repeat=n)]
    lines = [line for line in lines if len(tokenizer.lcut(line, HMM=False)) == len(line)]  # all reach the HMM
    assert len(lines) > 100
    assert _mismatches(tokenizer, JiebaCut(tokenizer), lines, hmm=True) == []


def test_user_dict_removal_keeps_the_hmm_from_making_the_word(cache):
    """A count of 0 (jieba's del_word) also stops the HMM from joining those characters again."""
    from jieba import finalseg
    from w2v.text.userdict import Entry

    before = set(finalseg.Force_Split_Words)
    try:
        tokenizer = make_tokenizer(cache, [Entry("老孙去", 0)])
        cutter = JiebaCut(tokenizer)
        assert "老孙去" not in cutter.cut("老孙去也", True)
        assert cutter.cut("老孙去也", True) == list(tokenizer.cut("老孙去也", HMM=True))
    finally:
        finalseg.Force_Split_Words.clear()
        finalseg.Force_Split_Words.update(before)
