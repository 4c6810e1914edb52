"""Training with character-aware inputs (train.chars: cwe) end to end through the Python API."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from w2v.data.chars import char_table, load_char_table, write_char_table
from w2v.errors import UserError
from w2v.data.pairs import write_pairs
from helpers import train_files as train
from w2v.vectors import KeyedVectors, chars_path
from w2v.data.vocab import load_vocab, make_vocab

# Two topics whose words share a character each (甲 or 乙); 猫 only ever appears among topic-a words,
# 鱼 among topic-b words. 甲九 never occurs: its vector can only come from its characters.
TOPICS = {"a": [f"甲{c}" for c in "一二三四五六七八"], "b": [f"乙{c}" for c in "一二三四五六七八"]}
SPECIAL = {"猫": "a", "鱼": "b"}
FAST = {"vector_size": 16, "epochs": 5, "sample": 0.0, "batch_size": 64, "alpha": 0.05, "seed": 3, "workers": 1,
        "chars": "cwe"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("chars_corpus")
    rng = np.random.default_rng(0)
    lines = []
    for _ in range(1200):
        word = list(SPECIAL)[rng.integers(len(SPECIAL))]
        ctx = list(rng.choice(TOPICS[SPECIAL[word]], size=6))
        lines.append(" ".join(ctx[:3] + [word] + ctx[3:]))
    (root / "tokens.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    make_vocab(root / "tokens.txt", root / "vocab.tsv", min_count=1)
    vocab = load_vocab(root / "vocab.tsv")
    write_char_table(char_table(vocab), root / "chars.tsv")
    write_pairs(root / "tokens.txt", vocab, root / "cbow.parquet", root / "skipgram.parquet", window=3, seed=1,
                row_group_size=1000)
    return {"root": root, "vocab": root / "vocab.tsv", "cbow": root / "cbow.parquet",
            "skipgram": root / "skipgram.parquet"}


def run(corpus, out, model="cbow", **settings):
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = settings.pop("_ckpt", None)
    stop_after = settings.pop("_stop_after", None)
    table = settings.pop("_table", None)
    device = settings.pop("_device", "cpu")
    return train(model, corpus[model], corpus["vocab"], {**FAST, **settings}, out / "v.vec", out / "h.json",
                 checkpoint_path=checkpoint, device=device, stop_after=stop_after, char_table=table)


@pytest.mark.parametrize("model", ["cbow", "skipgram"])
@pytest.mark.parametrize("gpu", [
    "fake",  # the fake CuPy: the same test runs everywhere, so it is known to pass on a GPU's code path
    pytest.param("real", marks=[pytest.mark.gpu, pytest.mark.skipif(
        not __import__("jingu").cuda.is_available(), reason="CuPy finds no GPU")]),
])
def test_character_training_on_a_gpu_matches_the_cpu(corpus, tmp_path, model, gpu, request, monkeypatch):
    """The device's padded bags and whole-batch negatives learn what the host's CSR bags and chunks do."""
    from w2v.training import sampling  # noqa: PLC0415

    if gpu == "fake":
        request.getfixturevalue("fake_cuda")
    # The GPU shuffles by sorting random keys; the CPU reproduces that with argsort_permutation, so
    # both see the same batches and differ only in float32 summation order.
    monkeypatch.setattr(sampling, "permutation", sampling.argsort_permutation)
    run(corpus, tmp_path / "cpu", model)
    history = run(corpus, tmp_path / "gpu", model, _device="cuda")
    assert history["device"] == "cuda:0"
    for name in ("v.vec", chars_path("v.vec")):
        a, b = (KeyedVectors.load_word2vec_format(tmp_path / side / name) for side in ("cpu", "gpu"))
        assert a.index_to_key == b.index_to_key
        x, y = a.vectors.ravel(), b.vectors.ravel()
        assert float(x @ y / np.linalg.norm(x) / np.linalg.norm(y)) > 0.99, name
    kv = KeyedVectors.load_word2vec_format(tmp_path / "gpu" / "v.vec")
    chars = KeyedVectors.load_word2vec_format(chars_path(tmp_path / "gpu" / "v.vec"))
    neighbours = [w for w, _ in kv.similar_by_vector(chars["甲"], topn=8)]
    assert sum(w.startswith("甲") for w in neighbours) >= 6, neighbours


@pytest.mark.parametrize("model", ["cbow", "skipgram"])
@pytest.mark.parametrize("workers", [1, 2])
def test_a_word_never_seen_gets_its_meaning_from_its_characters(corpus, tmp_path, model, workers):
    run(corpus, tmp_path, model, workers=workers)
    kv = KeyedVectors.load_word2vec_format(tmp_path / "v.vec")
    chars = KeyedVectors.load_word2vec_format(chars_path(tmp_path / "v.vec"))
    # 甲九 is 甲 and 九; 九 is no character of the vocabulary, so its vector is 甲's.
    neighbours = [w for w, _ in kv.similar_by_vector(chars["甲"], topn=8)]
    # 8 of the 18 words start with 甲: by chance about 3.6 of 8 neighbours would; Hogwild's races
    # (two workers) move a neighbour or two from run to run.
    assert sum(w.startswith("甲") for w in neighbours) >= 6, neighbours
    assert "甲九" not in kv and [w for w, _ in kv.most_similar("甲九", topn=8)] == neighbours
    if workers == 1:  # bit-identical run; with two racing workers 鱼 is sometimes 猫's nearest word
        assert kv.most_similar("猫", topn=1)[0][0] != "鱼"


def test_outputs_hold_composed_words_and_the_character_table(corpus, tmp_path):
    history = run(corpus, tmp_path, min_char_count=2)
    kv = KeyedVectors.load_word2vec_format(tmp_path / "v.vec")
    chars = KeyedVectors.load_word2vec_format(chars_path(tmp_path / "v.vec"))
    table = load_char_table(corpus["root"] / "chars.tsv").at_least(2)
    assert chars.index_to_key == list(table.chars) and chars.vector_size == 16
    assert len(kv) == len(load_vocab(corpus["vocab"])) - 1
    assert history["config"]["chars"] == "cwe" and history["config"]["min_char_count"] == 2


def test_word_only_training_writes_an_empty_character_file_over_a_stale_one(corpus, tmp_path):
    run(corpus, tmp_path)
    assert len(KeyedVectors.load_word2vec_format(chars_path(tmp_path / "v.vec"))) > 0
    run(corpus, tmp_path, chars="none")
    stale = KeyedVectors.load_word2vec_format(chars_path(tmp_path / "v.vec"))
    assert len(stale) == 0 and stale.vector_size == 16


def test_characters_change_what_is_learned(corpus, tmp_path):
    run(corpus, tmp_path / "none", chars="none")
    run(corpus, tmp_path / "cwe")
    a, b = (KeyedVectors.load_word2vec_format(tmp_path / d / "v.vec") for d in ("none", "cwe"))
    assert a.index_to_key == b.index_to_key and not np.allclose(a.vectors, b.vectors)


def test_resume_with_characters_matches_and_another_table_starts_afresh(corpus, tmp_path, caplog):
    run(corpus, tmp_path / "whole")
    ckpt = tmp_path / "ckpt.npz"
    run(corpus, tmp_path / "resumed", _ckpt=ckpt, _stop_after=2)
    run(corpus, tmp_path / "resumed", _ckpt=ckpt)
    whole, resumed = ((tmp_path / d / "v.vec").read_bytes() for d in ("whole", "resumed"))
    assert whole == resumed

    run(corpus, tmp_path / "other", _ckpt=ckpt, _stop_after=2)
    other_table = tmp_path / "other-chars.tsv"
    full = load_char_table(corpus["root"] / "chars.tsv")
    write_char_table(type(full)(full.chars, full.counts * 2), other_table)
    with caplog.at_level(logging.WARNING):
        run(corpus, tmp_path / "other", _ckpt=ckpt, _table=other_table)
    assert "ignoring checkpoint" in caplog.text


def test_bad_character_tables_are_user_errors(corpus, tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        run(corpus, tmp_path, _table=tmp_path / "missing.tsv")
    table = corpus["root"] / "chars.tsv"
    with pytest.raises(UserError) as error:
        run(corpus, tmp_path, min_char_count=10**9)
    assert str(error.value) == (f"no character of {table} occurs at least train.min_char_count=1000000000 times; "
                                "lower it, or set train.chars to none")
    partial = tmp_path / "partial.tsv"
    partial.write_text("id\tchar\tcount\n0\t甲\t5\n", encoding="utf-8")
    with pytest.raises(UserError) as error:
        run(corpus, tmp_path, _table=partial)
    assert str(error.value) == (f"{partial} lacks characters of the vocabulary's words (e.g. ['一', '七', '三']); "
                                "it was written for another vocabulary: rerun `w2v vocab` (rule vocab)")
    # A table that lacks only the most frequent word's character (the vocabulary's first word).
    full = load_char_table(table)
    first = load_vocab(corpus["vocab"]).tokens[1]
    keep = [i for i, c in enumerate(full.chars) if c not in first]
    write_char_table(type(full)([full.chars[i] for i in keep], full.counts[keep]), tmp_path / "no-first.tsv")
    with pytest.raises(UserError, match=rf"lacks characters of the vocabulary's words \(e\.g\. \['{first}'\]\)"):
        run(corpus, tmp_path, _table=tmp_path / "no-first.tsv")
    assert not (tmp_path / "v.vec").exists()


def test_a_composed_vector_is_exactly_the_character_mean_the_model_uses(corpus, tmp_path):
    """KeyedVectors composes from results/{model}.chars.vec the same mean the model adds to a
    word's own vector: the written word vector is 1/2 (own row + kv.compose(word))."""
    from w2v.data.chars import cwe_composition
    from w2v.training.registry import build_model
    from w2v.training.train import write_char_vectors, write_vectors

    vocab = load_vocab(corpus["vocab"])
    table = load_char_table(corpus["root"] / "chars.tsv").at_least(2)
    comp = cwe_composition(vocab.tokens, table)
    net = build_model("skipgram", len(vocab), {"vector_size": 8}, generator=np.random.default_rng(1),
                      composition=comp)
    net.embed_in.data[...] = np.random.default_rng(2).normal(size=net.embed_in.data.shape)
    write_vectors(tmp_path / "v.vec", vocab.tokens, net.vectors())
    write_char_vectors(chars_path(tmp_path / "v.vec"), table.chars, net.char_vectors())
    kv = KeyedVectors.load_word2vec_format(tmp_path / "v.vec")
    own = net.embed_in.numpy()
    composed = [w for w in vocab.tokens[1:] if any(c in table.chars for c in w)]
    assert len(composed) > 10
    for word in composed:
        row = vocab.token_to_id[word]
        np.testing.assert_allclose(kv[word], 0.5 * own[row] + 0.5 * kv.compose(word), rtol=1e-5, atol=1e-6)
    # A word never seen: the mean of its known characters' vectors (九 is none of them).
    assert kv.is_composed("甲九")
    np.testing.assert_allclose(kv["甲九"], own[len(vocab) + table.chars.index("甲")], rtol=1e-6)


def test_gensim_reads_both_files_with_characters(corpus, tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    run(corpus, tmp_path, "skipgram")
    ours = KeyedVectors.load_word2vec_format(tmp_path / "v.vec")
    theirs = gensim_models.KeyedVectors.load_word2vec_format(str(tmp_path / "v.vec"))
    assert theirs.index_to_key == ours.index_to_key
    np.testing.assert_allclose(theirs.vectors, ours.vectors, rtol=1e-6)
    chars = gensim_models.KeyedVectors.load_word2vec_format(str(chars_path(tmp_path / "v.vec")))
    assert chars.index_to_key == ours.chars.index_to_key
