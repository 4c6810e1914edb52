"""The public test sets: word-pair rho and analogy accuracy against gensim, and the composed path."""

from __future__ import annotations

import numpy as np
import pytest

from w2v.errors import UserError
from w2v.evaluation import load_analogies
from w2v.testsets import TestSets, analogy_set_scores, load_word_pairs, word_pair_scores
from w2v.vectors import KeyedVectors

WORDS = [chr(0x4E00 + 37 * i) + chr(0x4E01 + 53 * i) for i in range(60)]  # 60 distinct two-character words


class ComposingKV(KeyedVectors):
    """Vectors that compose the words of `composed` (CHARS_CONTRACT's API, without a chars file)."""

    def __init__(self, keys, vectors, composed: dict[str, np.ndarray]) -> None:
        super().__init__(keys, vectors)
        self.composed = {w: np.asarray(v, dtype=np.float32) for w, v in composed.items()}

    def has_vector(self, word: str) -> bool:
        return word in self or word in self.composed

    def get_vector(self, word: str) -> np.ndarray:
        return self.vectors[self.get_index(word)] if word in self else self.composed[word]

    def is_composed(self, word: str) -> bool:
        return word not in self and word in self.composed


def random_kv(n: int = 60, dim: int = 8, seed: int = 0) -> KeyedVectors:
    return KeyedVectors(WORDS[:n], np.random.default_rng(seed).normal(size=(n, dim)))


def write_pairs(path, rng, n: int = 40, unknown: int = 5) -> list[tuple[str, str, float]]:
    """COS960-shaped lines (word1 word2 mean score1 score2 ...), `unknown` of them with an unknown word."""
    rows = []
    for i in range(n):
        a, b = rng.choice(len(WORDS), size=2, replace=False)
        rows.append((WORDS[a], WORDS[b] if i >= unknown else f"未知{i}", float(rng.integers(0, 17)) / 4))
    lines = ["# a comment", *(f"{a} {b} {s} {int(s)} {int(s)} " for a, b, s in rows)]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return rows


def test_word_pairs_read_tabs_spaces_and_comments(tmp_path) -> None:
    path = tmp_path / "pairs.txt"
    path.write_text("# w1\tw2\tscore\n老虎\t猫\t7.35\n\n小心谨慎 谨慎小心 4.0 4 4 4 \n", encoding="utf-8")
    assert load_word_pairs(path) == [("老虎", "猫", 7.35), ("小心谨慎", "谨慎小心", 4.0)]


@pytest.mark.parametrize("text, message", [
    ("老虎 猫\n", "line 1: expected 'word1 word2 score'"),
    ("# header\nword1\tword2\tscore\n", "line 2: the third field 'score' is not a number"),
    ("# only comments\n", "no word pairs found"),
])
def test_bad_word_pair_files(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "pairs.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=message):
        load_word_pairs(path)


@pytest.mark.parametrize("restrict_vocab", [300_000, 40])
def test_word_pair_rho_matches_gensim(tmp_path, restrict_vocab: int) -> None:
    gensim = pytest.importorskip("gensim.models")
    kv = random_kv()
    rows = write_pairs(tmp_path / "pairs.txt", np.random.default_rng(1))
    ours = word_pair_scores(kv, load_word_pairs(tmp_path / "pairs.txt"), restrict_vocab)
    tsv = tmp_path / "pairs.tsv"  # gensim reads tab-separated triples only
    tsv.write_text("".join(f"{a}\t{b}\t{s}\n" for a, b, s in rows), encoding="utf-8")
    g = gensim.KeyedVectors(kv.vector_size)
    g.add_vectors(kv.index_to_key, kv.vectors)
    _, (rho, _), oov_percent = g.evaluate_word_pairs(str(tsv), restrict_vocab=restrict_vocab)
    assert ours["vocab"]["score"] == pytest.approx(rho, abs=1e-6)
    assert ours["vocab"]["used"] < len(rows) - 4  # unknown words were skipped (and restrict_vocab bites)
    assert 100 * (1 - ours["vocab"]["coverage"]) == pytest.approx(oov_percent)
    assert ours["chars"] is None and ours["composed_words"] == 0


def offset_words_kv(n_pairs: int = 25, dim: int = 12, seed: int = 0) -> tuple[KeyedVectors, list[str], list[str]]:
    """Word pairs x_i, y_i = x_i + shared offset + noise, plus distractors, keyed by Chinese words."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_pairs, dim))
    y = x + 2.0 * rng.normal(size=dim) + 0.6 * rng.normal(size=(n_pairs, dim))
    xs, ys = WORDS[:n_pairs], WORDS[n_pairs : 2 * n_pairs]
    keys = xs + ys + WORDS[2 * n_pairs : 2 * n_pairs + 10]
    return KeyedVectors(keys, np.concatenate([x, y, rng.normal(size=(10, dim))])), xs, ys


def write_ca8_like(path, xs: list[str], ys: list[str]) -> None:
    n = len(xs)
    lines = [": A"] + [f"{xs[i]} {ys[i]} {xs[i + 1]} {ys[i + 1]}" for i in range(n // 2)]
    lines += [": prefix"] + [f"{xs[i]} {ys[i]} {xs[i + 1]} {ys[i + 1]}" for i in range(n // 2, n - 1)]
    lines += ["甲甲 乙乙 丙丙 丁丁", f"{xs[0]} 未知 {xs[1]} {ys[1]}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("restrict_vocab", [300_000, 45])
def test_analogy_set_accuracy_matches_gensim(tmp_path, restrict_vocab: int) -> None:
    gensim = pytest.importorskip("gensim.models")
    kv, xs, ys = offset_words_kv()
    path = tmp_path / "ca8.txt"
    write_ca8_like(path, xs, ys)
    ours = analogy_set_scores(kv, load_analogies(path), restrict_vocab)
    g = gensim.KeyedVectors(kv.vector_size)
    g.add_vectors(kv.index_to_key, kv.vectors)
    score, sections = g.evaluate_word_analogies(str(path), restrict_vocab=restrict_vocab, case_insensitive=False)
    used = len(sections[-1]["correct"]) + len(sections[-1]["incorrect"])
    assert 0 < ours["vocab"]["score"] < 1 and ours["vocab"]["used"] == used < ours["total"]
    assert ours["vocab"]["score"] == pytest.approx(score)
    for mine, theirs in zip(ours["vocab"]["sections"], sections[:-1]):
        assert mine["section"] == theirs["section"]
        assert mine["used"] == len(theirs["correct"]) + len(theirs["incorrect"])
        assert mine["score"] == pytest.approx(len(theirs["correct"]) / mine["used"])
    assert ours["chars"] is None


def brute_force_3cosadd(kv: KeyedVectors, question) -> str:
    """The 3CosAdd answer one word at a time: the vocabulary word (not a, b, c) nearest to b - a + c."""
    def unit(w):
        v = kv.get_vector(w)
        return v / np.linalg.norm(v)
    a, b, c = (unit(w) for w in question[:3])
    best, answer = -np.inf, None
    for word in kv.index_to_key:
        score = unit(word) @ (b - a + c)
        if word not in question[:3] and score > best:
            best, answer = score, word
    return answer


def test_composed_words_answer_questions_and_pairs(tmp_path) -> None:
    base, xs, ys = offset_words_kv()
    # x3's vector leaves the vocabulary and comes back composed: x3 y3 x4 y4 needs it as a, x2 y2 x3 y3 as c.
    keys = [w for w in base.index_to_key if w != xs[3]]
    kv = ComposingKV(keys, base.vectors[[base.key_to_index[w] for w in keys]],
                     {xs[3]: base[xs[3]], "甲甲": base[xs[0]]})
    path = tmp_path / "ca8.txt"
    write_ca8_like(path, xs, ys)
    sections = load_analogies(path)
    scores = analogy_set_scores(kv, sections, 300_000)
    # x3 as c of x2 y2 x3 y3 and as a of x3 y3 x4 y4; 甲甲 alone does not cover 甲甲 乙乙 丙丙 丁丁
    assert scores["composed_words"] == 2 and scores["chars"]["used"] == scores["vocab"]["used"] + 2
    assert scores["vocab"]["used"] == 22 and scores["chars"]["sections"][0]["used"] == 12
    right = sum(brute_force_3cosadd(kv, q) == q[3] for _, questions in sections for q in questions
                if q[3] in kv and all(kv.has_vector(w) for w in q[:3]))
    assert scores["chars"]["used"] * scores["chars"]["score"] == pytest.approx(right)

    pairs = tmp_path / "pairs.txt"
    pairs.write_text(f"{xs[3]} {ys[3]} 3\n{xs[0]} {ys[0]} 1\n{xs[1]} {ys[1]} 2\n{xs[2]} 乙乙 0\n", encoding="utf-8")
    got = word_pair_scores(kv, load_word_pairs(pairs))
    assert got["vocab"]["used"] == 2
    assert got["chars"]["used"] == 3 and got["chars"]["coverage"] == pytest.approx(0.75)
    cos = [float(kv.get_vector(a) @ kv.get_vector(b) / np.linalg.norm(kv.get_vector(a)) / np.linalg.norm(kv.get_vector(b)))
           for a, b in ((xs[3], ys[3]), (xs[0], ys[0]), (xs[1], ys[1]))]
    ranks = np.argsort(np.argsort(cos))
    expected = np.corrcoef(ranks, [2, 0, 1])[0, 1]
    assert got["chars"]["score"] == pytest.approx(expected)


def test_test_sets_name_each_file_by_its_stem(tmp_path) -> None:
    kv, xs, ys = offset_words_kv()
    write_ca8_like(tmp_path / "ca8_morphological.txt", xs, ys)
    (tmp_path / "cos960_all.txt").write_text(f"{xs[0]} {ys[0]} 1\n{xs[1]} {ys[2]} 2\n{xs[2]} {xs[5]} 0\n",
                                             encoding="utf-8")
    sets = TestSets([tmp_path / "ca8_morphological.txt"], [tmp_path / "cos960_all.txt"])
    got = sets.scores(kv)
    assert [(s["name"], s["kind"], s["total"]) for s in got] == [
        ("ca8_morphological", "analogies", 26), ("cos960_all", "word_pairs", 3)]
    assert [s["section"] for s in got[0]["vocab"]["sections"]] == ["A", "prefix"]
    assert not TestSets()
