"""Alias retrieval metrics on hand-built vectors with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from w2v.errors import UserError
from w2v.evaluation import alias_metrics, alias_ranks, load_alias_groups, predict_analogies
from w2v.vectors import KeyedVectors


def angle_kv(angles: dict[str, float]) -> KeyedVectors:
    """2-D unit vectors at the given angles (degrees): cosines order by angular distance."""
    rad = np.deg2rad(list(angles.values()))
    return KeyedVectors(list(angles), np.stack([np.cos(rad), np.sin(rad)], axis=1))


# Angles chosen so every rank is known by hand.
KV = angle_kv({"a1": 0, "x": 10, "a2": 20, "y": 30, "b1": 90, "b2": 100, "z": 180, "c1": 270})
GROUPS = [["a1", "a2", "a3"], ["b1", "b2"], ["c1", "c2"]]


def test_alias_ranks_known_answers() -> None:
    ranks = alias_ranks(KV, GROUPS)
    # a1: x(10) closer than a2(20) -> rank 2; a2: x and y at 10 degrees, a1 at 20 -> rank 3
    assert ranks[0] == {"a1": 2, "a2": 3, "a3": None}
    assert ranks[1] == {"b1": 1, "b2": 1}
    assert ranks[2] == {"c1": None, "c2": None}  # c2 unknown: c1 has no partner


def test_alias_metrics_known_answers() -> None:
    m = alias_metrics(KV, GROUPS, topn=2)
    assert m["evaluated"] == 4
    assert m["hit_at_2"] == pytest.approx(3 / 4)
    assert m["mrr"] == pytest.approx((1 / 2 + 1 / 3 + 1 + 1) / 4)
    assert m["coverage"] == pytest.approx(5 / 7)
    a, b, c = m["per_group"]
    assert a["words"] == ["a1", "a2", "a3"] and a["evaluated"] == 2
    assert a["hit_at_2"] == pytest.approx(0.5) and a["coverage"] == pytest.approx(2 / 3)
    assert b["mrr"] == 1.0 and b["hit_at_2"] == 1.0
    assert c["evaluated"] == 0 and c["mrr"] is None and c["coverage"] == 0.5
    assert alias_metrics(KV, GROUPS)["hit_at_10"] == 1.0


def test_ties_count_in_the_query_s_favour() -> None:
    # p and n are exactly as similar to q (cosine 0): q's rank is 1, not 2.
    kv = KeyedVectors(["q", "p", "n", "m"], np.array([[1, 0], [0, 1], [0, -1], [-1, 0]]))
    assert alias_ranks(kv, [["q", "p"]]) == [{"q": 1, "p": 1}]
    assert alias_ranks(kv, [["q", "m"]]) == [{"q": 3, "m": 3}]


def test_chunking_gives_the_same_ranks(monkeypatch) -> None:
    rng = np.random.default_rng(0)
    keys = [f"w{i}" for i in range(60)]
    kv = KeyedVectors(keys, rng.normal(size=(60, 5)))
    groups = [keys[i : i + 4] for i in range(0, 40, 4)]
    whole = alias_ranks(kv, groups)
    monkeypatch.setattr("w2v.evaluation.CHUNK", 3)
    assert alias_ranks(kv, groups) == whole
    # brute force for one word
    sims = kv.unit_vectors @ kv.unit_vectors[0]
    order = [keys[i] for i in np.argsort(-sims) if i != 0]
    assert whole[0]["w0"] == 1 + min(order.index(w) for w in ["w1", "w2", "w3"])


def test_score_blocks_shrink_with_the_vocabulary(monkeypatch) -> None:
    from w2v.evaluation import BLOCK_ELEMENTS, rows_per_block

    # A million-word vocabulary scores a few queries at a time, not CHUNK x vocabulary floats.
    assert rows_per_block(1_000_000) * 1_000_000 <= BLOCK_ELEMENTS
    assert rows_per_block(10 * BLOCK_ELEMENTS) == 1 and rows_per_block(10) == 512
    rng = np.random.default_rng(1)
    keys = [f"w{i}" for i in range(60)]
    kv = KeyedVectors(keys, rng.normal(size=(60, 5)))
    groups = [keys[i : i + 3] for i in range(0, 45, 3)]
    questions = [tuple(keys[i : i + 4]) for i in range(0, 56, 2)]
    whole = alias_ranks(kv, groups), predict_analogies(kv, questions)
    monkeypatch.setattr("w2v.evaluation.BLOCK_ELEMENTS", 130)  # two queries a block
    assert rows_per_block(60) == 2
    assert (alias_ranks(kv, groups), predict_analogies(kv, questions)) == whole


def test_load_alias_groups(tmp_path) -> None:
    path = tmp_path / "aliases.txt"
    path.write_text("# comment\n\n孙悟空 悟空  行者 # inline\n唐僧\t三藏 唐僧\n", encoding="utf-8")
    assert load_alias_groups(path) == [["孙悟空", "悟空", "行者"], ["唐僧", "三藏"]]


def test_shipped_alias_file_loads() -> None:
    groups = load_alias_groups("data/eval/xiyouji_aliases.txt")
    assert groups[0][0] == "孙悟空" and len(groups) >= 7


@pytest.mark.parametrize(
    "text, message",
    [
        ("a b\n唐僧\n", "line 2: a group needs at least two different words"),
        ("a a\n", "line 1: a group needs"),
        ("# nothing\n", "no alias groups"),
    ],
)
def test_bad_alias_files(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "aliases.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=message):
        load_alias_groups(path)


def test_unreadable_alias_files(tmp_path) -> None:
    with pytest.raises(UserError, match="not found"):
        load_alias_groups(tmp_path / "missing.txt")
    path = tmp_path / "gbk.txt"
    path.write_bytes("孙悟空 悟空".encode("gb18030"))
    with pytest.raises(UserError, match="UTF-8"):
        load_alias_groups(path)


# ---------------------------------------------------------------------------- analogies
from w2v.evaluation import COSMUL_EPS, analogy_scores, load_analogies  # noqa: E402


def offset_kv(n_pairs: int = 30, dim: int = 12, noise: float = 0.6, seed: int = 0) -> KeyedVectors:
    """Pairs x_i, y_i = x_i + shared offset + noise, plus distractors: analogies x_i:y_i::x_j:y_j."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_pairs, dim))
    y = x + 2.0 * rng.normal(size=dim) + noise * rng.normal(size=(n_pairs, dim))
    distract = rng.normal(size=(10, dim))
    keys = [f"x{i}" for i in range(n_pairs)] + [f"y{i}" for i in range(n_pairs)] + [f"d{i}" for i in range(10)]
    return KeyedVectors(keys, np.concatenate([x, y, distract]))


def write_offset_questions(path, n_pairs: int = 30) -> None:
    lines = [": first-half"]
    lines += [f"x{i} y{i} x{i + 1} y{i + 1}" for i in range(0, n_pairs // 2)]
    lines += [": second-half"]
    lines += [f"x{i} y{i} x{i + 1} y{i + 1}" for i in range(n_pairs // 2, n_pairs - 1)]
    lines += ["x0 y0 unknown y1", "x1 y1 x2 y2"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("restrict_vocab", [300_000, 50])
def test_3cosadd_matches_gensim(tmp_path, restrict_vocab: int) -> None:
    gensim = pytest.importorskip("gensim.models")
    kv = offset_kv()
    path = tmp_path / "analogies.txt"
    write_offset_questions(path)
    ours = analogy_scores(kv, load_analogies(path), restrict_vocab=restrict_vocab)

    g = gensim.KeyedVectors(kv.vector_size)
    g.add_vectors(kv.index_to_key, kv.vectors)
    score, g_sections = g.evaluate_word_analogies(str(path), restrict_vocab=restrict_vocab)
    assert 0 < ours["correct_add"] < ours["answered"]  # the test discriminates
    assert ours["accuracy_add"] == pytest.approx(score)
    for mine, theirs in zip(ours["sections"], g_sections):
        assert mine["section"] == theirs["section"]
        assert mine["correct_add"] == len(theirs["correct"])
        assert mine["answered"] == len(theirs["correct"]) + len(theirs["incorrect"])
    # which questions are right, not only how many
    # which questions are right, not only how many (gensim upper-cases words by default)
    right = {(d["a"], d["b"], d["c"], d["expected"]) for d in ours["details"] if d["add"] == d["expected"]}
    assert {tuple(w.upper() for w in q) for q in right} == {
        tuple(q) for s in g_sections[:-1] for q in s["correct"]
    }


def test_3cosmul_against_the_formula() -> None:
    kv = offset_kv(seed=1)
    q = ("x3", "y3", "x7", "y7")
    (add, mul), = predict_analogies(kv, [q])
    u = kv.unit_vectors
    cos = lambda w: (u @ u[kv.key_to_index[w]] + 1) / 2  # noqa: E731
    score = cos("y3") * cos("x7") / (cos("x3") + COSMUL_EPS)
    for w in q[:3]:
        score[kv.key_to_index[w]] = -np.inf
    assert mul == kv.index_to_key[int(np.argmax(score))]
    assert add == kv.most_similar(positive=["y3", "x7"], negative=["x3"], topn=1)[0][0]


def test_analogy_coverage_and_restrict_vocab(tmp_path) -> None:
    kv = offset_kv()
    path = tmp_path / "analogies.txt"
    write_offset_questions(path)
    full = analogy_scores(kv, load_analogies(path))
    assert full["questions"] == 31 and full["answered"] == 30
    assert full["coverage"] == pytest.approx(30 / 31)
    assert [s["questions"] for s in full["sections"]] == [15, 16]
    # only x0..x29 in range: every question needs a y word, so none is answered
    none = analogy_scores(kv, load_analogies(path), restrict_vocab=30)
    assert none["answered"] == 0 and none["accuracy_add"] is None and none["coverage"] == 0.0


def test_tiny_analogy_fixture_loads() -> None:
    sections = load_analogies("tests/data/eval/tiny_analogies.txt")
    assert [name for name, _ in sections] == ["master-disciple", "character-weapon"]
    assert sections[1][1][0] == ("孙悟空", "金箍棒", "八戒", "钉钯")


@pytest.mark.parametrize(
    "text, message",
    [
        ("a b c d\n", "line 1: question before any ': section' header"),
        (": s\na b c\n", "line 2: expected four words"),
        (":\na b c d\n", "line 1: a section header needs a name"),
        (": s\n", "no analogy questions"),
    ],
)
def test_bad_analogy_files(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "analogies.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=message):
        load_analogies(path)


def test_names_outside_the_vocabulary_are_ranked_from_their_characters() -> None:
    kv = angle_kv({"a1": 0, "x": 10, "a2": 20, "y": 30, "b1": 90, "b2": 100, "z": 180, "c1": 270})
    kv.chars = angle_kv({"甲": 13, "乙": 97})
    groups = [["a1", "a2", "甲甲"], ["b1", "b2", "乙x"], ["c1", "丙"]]
    ranks = alias_ranks(kv, groups)
    # 甲甲 sits at 13 degrees: x (3 away) is nearer than its partner a2 (7 away), and a1 (13 away) is
    # no partner of anyone else's; 乙x is 乙 (x has no character vector), 3 degrees from b2.
    assert ranks == [{"a1": 2, "a2": 3, "甲甲": 2}, {"b1": 1, "b2": 1, "乙x": 1}, {"c1": None, "丙": None}]
    m = alias_metrics(kv, groups, topn=1)
    plain = alias_metrics(KV, groups, topn=1)
    for key in ("hit_at_1", "mrr", "coverage", "evaluated"):  # vocabulary names only, as without characters
        assert m[key] == plain[key]
    assert m["evaluated"] == 4 and m["coverage"] == pytest.approx(5 / 8)
    assert m["composed"] == {"hit_at_1": 0.5, "mrr": pytest.approx(0.75), "coverage": 0.25, "evaluated": 2,
                             "words": ["甲甲", "乙x"]}
    assert m["no_vector"] == ["丙"] and plain["no_vector"] == ["甲甲", "乙x", "丙"]
    assert plain["composed"]["evaluated"] == 0 and plain["composed"]["mrr"] is None
    assert [g["composed"] for g in m["per_group"]] == [["甲甲"], ["乙x"], []]
    assert m["per_group"][0]["ranks"]["甲甲"] == 2 and m["per_group"][0]["evaluated"] == 2
