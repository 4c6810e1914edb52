"""KeyedVectors edges found by mutation testing (benchmarks/mutation.sh vectors): argument checks,
ties, zero vectors, format detection and load errors."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from w2v.errors import UserError
from w2v.vectors import KeyedVectors, is_binary_word2vec

KEYS = ["甲", "乙", "丙", "丁"]


def plain_kv() -> KeyedVectors:
    return KeyedVectors(KEYS, np.array([[1, 0], [0.6, 0.8], [0, 1], [-1, 0]], dtype=np.float32))


def test_vectors_must_be_a_table_of_one_row_per_key():
    with pytest.raises(ValueError, match=r"need one vector row per key: 3 keys, vectors of shape \(3,\)"):
        KeyedVectors(["a", "b", "c"], np.zeros(3))
    with pytest.raises(ValueError, match=r"duplicate key 'b' at rows 1 and 3"):
        KeyedVectors(["a", "b", "c", "b"], np.zeros((4, 2)))


def test_most_similar_argument_checks():
    kv = plain_kv()
    with pytest.raises(ValueError, match="most_similar needs at least one positive or negative word"):
        kv.most_similar()
    with pytest.raises(ValueError, match="topn must be at least 1, got 0"):
        kv.most_similar("甲", topn=0)
    assert [w for w, _ in kv.most_similar("甲", topn=1)] == ["乙"]
    assert [w for w, _ in kv.most_similar(negative="甲", topn=1)] == ["丁"]


def test_a_query_word_beyond_restrict_vocab_does_not_shift_the_exclusion():
    kv = plain_kv()
    # 丁 is outside the first two rows: it takes part in the query but excludes nothing.
    assert [w for w, _ in kv.most_similar(positive=["乙", "丁"], topn=5, restrict_vocab=2)] == ["甲"]
    assert kv.most_similar("甲", restrict_vocab=10, topn=10)[-1][0] == "丁"


def test_ties_are_answered_in_row_order():
    kv = KeyedVectors(["q", "b", "a", "c", "d"], np.array([[1, 0], [1, 1], [1, 1], [0, -1], [1, 1]], dtype=np.float32))
    assert [w for w, _ in kv.most_similar("q", topn=3)] == ["b", "a", "d"]
    assert [w for w, _ in kv.similar_by_vector(np.array([1, 1]), topn=4)] == ["b", "a", "d", "q"]


def test_similar_by_vector_takes_a_word_and_the_zero_vector():
    kv = plain_kv()
    assert kv.similar_by_vector("乙", topn=2)[0] == ("乙", pytest.approx(1.0))
    scores = kv.similar_by_vector(np.zeros(2), topn=4)
    assert sorted(s for _, s in scores) == [0.0] * 4
    assert [w for w, _ in kv.similar_by_vector(np.array([0, 2.0]), topn=1)] == ["丙"]
    assert kv.similar_by_vector(np.array([0, 2.0]), topn=1)[0][1] == pytest.approx(1.0)


def test_zero_rows_stay_zero_and_score_zero():
    kv = KeyedVectors(["z", "a", "b"], np.array([[0, 0], [1, 0], [0, 3]], dtype=np.float32))
    np.testing.assert_array_equal(kv.unit_vectors, [[0, 0], [1, 0], [0, 1]])
    assert kv.unit_vectors.dtype == np.float32
    assert kv.similarity("z", "a") == 0.0
    np.testing.assert_array_equal(kv.get_vector("b", norm=True), [0, 1])
    np.testing.assert_array_equal(kv.get_vector("b"), [0, 3])


def test_unit_vectors_follow_a_replaced_table():
    kv = plain_kv()
    first = kv.unit_vectors
    kv.vectors = np.array([[3, 4]], dtype=np.float32)
    np.testing.assert_allclose(kv.unit_vectors, [[0.6, 0.8]])
    assert first.shape == (4, 2)


def test_doesnt_match_warns_about_unknown_words(caplog):
    kv = plain_kv()
    with caplog.at_level(logging.WARNING, logger="w2v.vectors"):
        assert kv.doesnt_match(["甲", "乙", "丁", "戊"]) == "丁"
    assert "ignoring unknown words ['戊']" in caplog.text
    with caplog.at_level(logging.WARNING, logger="w2v.vectors"):
        caplog.clear()
        kv.doesnt_match(["甲", "乙"])
    assert caplog.text == ""
    with pytest.raises(ValueError, match="none of the words is in the vocabulary"):
        kv.doesnt_match(["戊"])


def test_doesnt_match_with_opposite_words():
    # The mean of the unit vectors is zero: every score is 0 and the first word is answered.
    kv = plain_kv()
    assert kv.doesnt_match(["甲", "丁"]) == "甲"


def test_is_binary_word2vec(tmp_path):
    def detect(data: bytes) -> bool:
        path = tmp_path / "v"
        path.write_bytes(data)
        return is_binary_word2vec(path)

    row = np.array([1.5, -2.0], "<f4").tobytes()
    assert detect(b"1 2\na " + row + b"\n") is True
    assert detect(b"1 2\na 1.5 -2\n") is False
    assert detect(b"1 2\na\t1.5\t-2\r\n") is False  # tabs and CR are text
    assert detect(b"0 2\n") is False
    assert detect(b"1 2\n\xff\xfe 1 2\n") is True  # not UTF-8
    assert detect(b"1 2\na\x01b 1 2\n") is True  # a control character
    assert detect(b"1 2\nlonely\n") is True  # no value after the word
    with pytest.raises(UserError, match=r"nope: vector file not found"):
        is_binary_word2vec(tmp_path / "nope")
    with pytest.raises(UserError, match=r"is a folder, expected a word2vec vector file"):
        is_binary_word2vec(tmp_path)


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(UserError, match=r"is a folder, expected a word2vec vector file"):
        KeyedVectors.load_word2vec_format(tmp_path, binary=False)
    with pytest.raises(UserError, match=r"gone.vec: vector file not found; train the model first"):
        KeyedVectors.load_word2vec_format(tmp_path / "gone.vec")
    dup = tmp_path / "dup.vec"
    dup.write_text("2 2\na 1 2\na 3 4\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"dup.vec: duplicate key 'a' at rows 0 and 1; the file is corrupt, rerun"):
        KeyedVectors.load_word2vec_format(dup)


def test_chars_none_never_loads_the_sibling_file(tmp_path):
    kv = plain_kv()
    kv.save_word2vec_format(tmp_path / "m.vec")
    KeyedVectors(["甲"], np.ones((1, 2))).save_word2vec_format(tmp_path / "m.chars.vec")
    assert KeyedVectors.load_word2vec_format(tmp_path / "m.vec", chars=None).chars is None
    assert KeyedVectors.load_word2vec_format(tmp_path / "m.vec").chars.index_to_key == ["甲"]
    explicit = KeyedVectors.load_word2vec_format(tmp_path / "m.vec", chars=str(tmp_path / "m.chars.vec"))
    assert explicit.chars.index_to_key == ["甲"]


def test_composed_vectors_and_their_norm():
    kv = KeyedVectors(["甲乙"], np.ones((1, 2)), chars=KeyedVectors(["丙", "丁"], np.array([[3, 0], [-3, 0]])))
    assert kv.is_composed("丙") and not kv.is_composed("甲乙") and not kv.is_composed("戊")
    assert kv.has_vector("丙戊") and not kv.has_vector("") and not kv.has_vector("戊")
    np.testing.assert_array_equal(kv.get_vector("丙", norm=True), [1, 0])
    np.testing.assert_array_equal(kv.get_vector("丙丁", norm=True), [0, 0])  # a zero mean stays zero
    assert kv.get_vector("丙丁").dtype == np.float32
    with pytest.raises(KeyError, match="word '戊' is not in the vocabulary and none of its characters has a vector"):
        kv.get_vector("戊")
    with pytest.raises(KeyError, match=r"^\"word '戊' is not in the vocabulary\"$"):
        plain_kv().get_vector("戊")


def test_closest_keys_limits_and_orders_suggestions():
    keys = ["孙悟空", "孙行者", "孙大圣", "悟空", "悟净", "八戒", "唐僧"]
    kv = KeyedVectors(keys, np.zeros((len(keys), 2)))
    assert kv.closest_keys("孙悟空", n=2) == ["孙悟空", "悟空"]
    # Too long a query for difflib's cutoff: the keys sharing the most characters, then in row order.
    assert kv.closest_keys("孙悟甲乙丙丁戊己", n=3) == ["孙悟空", "孙行者", "孙大圣"]
    assert kv.closest_keys("孙甲乙丙丁戊己庚", n=10) == ["孙悟空", "孙行者", "孙大圣"]
    assert kv.closest_keys("孙甲乙丙丁戊己庚", n=1) == ["孙悟空"]


# ---------------------------------------------------------------- second round (survivors of the first run)
from w2v.vectors import keyed as vectors_module  # noqa: E402


def test_plain_lists_are_accepted_and_get_index_names_the_word():
    kv = KeyedVectors(["a", "b"], [[1, 2], [3, 4]])
    assert kv.vectors.dtype == np.float32 and kv.get_index("b") == 1
    with pytest.raises(KeyError, match="word 'c' is not in the vocabulary"):
        kv.get_index("c")


def test_query_defaults_are_gensims():
    keys = [f"w{i}" for i in range(15)]
    kv = KeyedVectors(keys, np.random.default_rng(0).normal(size=(15, 3)))
    assert len(kv.most_similar("w0")) == 10
    assert len(kv.similar_by_vector(np.ones(3))) == 10
    spelled = KeyedVectors([f"孙{c}" for c in "甲乙丙丁戊己庚"], np.zeros((7, 2)))
    assert len(spelled.closest_keys("孙")) == 5


def test_a_short_composed_vector_is_scaled_up_to_unit_length():
    kv = KeyedVectors(["甲乙"], np.ones((1, 2)), chars=KeyedVectors(["丙"], np.array([[0.3, 0.4]])))
    np.testing.assert_allclose(kv.get_vector("丙", norm=True), [0.6, 0.8], rtol=1e-6)


def test_composition_does_not_depend_on_the_order_of_the_characters():
    chars = KeyedVectors(["甲", "乙", "丙"], np.array([[1e8], [1.0], [-1e8]]))
    kv = KeyedVectors(["x"], np.zeros((1, 1)), chars=chars)
    # float64 accumulation gives 1/3 whatever the order; float32 would lose the 1 next to 1e8
    assert kv.compose("甲乙丙")[0] == kv.compose("乙甲丙")[0] == np.float32(1 / 3)


def test_opposite_query_words_give_zero_scores_not_nothing():
    kv = plain_kv()
    answers = kv.most_similar(positive=["甲"], negative=["甲"], topn=5)
    assert [w for w, _ in answers] == ["乙", "丙", "丁"] and all(s == 0.0 for _, s in answers)


def test_a_query_word_at_the_restrict_vocab_limit():
    kv = plain_kv()
    assert [w for w, _ in kv.most_similar(positive=["甲", "丙"], topn=5, restrict_vocab=2)] == ["乙"]


def test_similar_by_vector_scores_are_cosines_for_short_vectors():
    kv = plain_kv()
    assert kv.similar_by_vector(np.array([0, 0.5]), topn=1) == [("丙", pytest.approx(1.0))]


def test_top_answers_are_the_best_scores_in_order():
    rng = np.random.default_rng(11)
    kv = KeyedVectors([f"w{i}" for i in range(400)], rng.normal(size=(400, 8)))
    query = rng.normal(size=8).astype(np.float32)
    scores = kv.unit_vectors @ (query / np.linalg.norm(query))
    best = [f"w{i}" for i in np.argsort(-scores, kind="stable")]
    for topn in (1, 2, 7, 400):
        assert [w for w, _ in kv.similar_by_vector(query, topn=topn)] == best[:topn]


def test_closest_keys_fills_up_after_difflibs_matches():
    keys = ["孙悟空", "孙行者", "孙大圣", "悟空", "悟净", "八戒", "唐僧"]
    kv = KeyedVectors(keys, np.zeros((len(keys), 2)))
    found = kv.closest_keys("孙悟", n=4)
    assert len(found) == 4 and found[-1] == "孙行者" and set(found[:3]) == {"孙悟空", "悟空", "悟净"}


def test_a_bad_header_names_the_vector_file(tmp_path):
    path = tmp_path / "bad.vec"
    path.write_text("hello\n", encoding="utf-8")
    with pytest.raises(UserError, match=rf"^{tmp_path}/bad.vec, line 1: expected a word2vec header"):
        KeyedVectors.load_word2vec_format(path, binary=False)


def test_loading_logs_what_was_read(tmp_path, caplog):
    plain_kv().save_word2vec_format(tmp_path / "m.vec")
    KeyedVectors(["甲", "乙"], np.ones((2, 2))).save_word2vec_format(tmp_path / "m.chars.vec")
    with caplog.at_level(logging.DEBUG, logger="w2v.vectors"):
        KeyedVectors.load_word2vec_format(tmp_path / "m.vec")
    messages = [r.getMessage() for r in caplog.records if r.name == "w2v.vectors.keyed"]
    assert messages == [f"loaded 4 vectors of dimension 2 from {tmp_path}/m.vec",
                        f"loaded 2 vectors of dimension 2 from {tmp_path}/m.chars.vec",
                        f"loaded 2 character vectors from {tmp_path}/m.chars.vec"]


def test_an_explicit_chars_path_given_as_a_string_is_used(tmp_path):
    plain_kv().save_word2vec_format(tmp_path / "m.vec")
    KeyedVectors(["甲"], np.ones((1, 2))).save_word2vec_format(tmp_path / "m.chars.vec")
    KeyedVectors(["乙", "丙"], np.ones((2, 2))).save_word2vec_format(tmp_path / "other.vec")
    kv = KeyedVectors.load_word2vec_format(tmp_path / "m.vec", chars=str(tmp_path / "other.vec"))
    assert kv.chars.index_to_key == ["乙", "丙"]


def test_format_detection_edges(tmp_path):
    def detect(data: bytes) -> bool:
        path = tmp_path / "v"
        path.write_bytes(data)
        return is_binary_word2vec(path)

    # A binary row whose float bytes are printable but for a trailing form feed before a newline byte.
    assert detect(b"1 1\na ABC\x0c\n") is True
    # A malformed text row still counts as text, so that reading it names the line.
    assert detect(b"1 1\na X\n") is False
    # A text row whose first 40 bytes end inside a character is still text.
    assert detect(("1 1\n" + "孙悟空" * 10 + " 0.5\n").encode("utf-8")) is False


def test_format_detection_reads_a_bounded_first_row(tmp_path, monkeypatch):
    sizes = []

    class Handle:
        def __init__(self, raw):
            self.raw = raw

        def readline(self, size=-1):
            sizes.append(size)
            return self.raw.readline(size)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.raw.close()

    path = tmp_path / "v.bin"
    KeyedVectors(["a"], np.ones((1, 2))).save_word2vec_format(path, binary=True)
    monkeypatch.setattr(vectors_module, "open", lambda p, mode="r": Handle(open(p, mode)), raising=False)
    assert is_binary_word2vec(path)
    assert all(size is not None and size > 0 for size in sizes[1:]), sizes
