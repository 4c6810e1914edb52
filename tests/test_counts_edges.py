"""Edges of `w2v.data.counts` that the merge and vocabulary tests leave open (found by mutation testing,
docs/testing.md): a clean token file counted (sentences and tokens), the messages of an unreadable
counts file and an empty merge, and corpus.json read back or refused with the step that rewrites it."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from w2v.data.counts import STATS_FORMAT, CorpusStats, corpus_stats, load_counts, merge_counts, shard_counts
from w2v.errors import UserError


def test_a_token_file_counts_its_sentences_and_tokens_skipping_blank_lines(tmp_path):
    path = tmp_path / "clean.txt"
    path.write_text("孙悟空 八戒 孙悟空\n\n   \n道 八戒\n悟空\n", encoding="utf-8")
    counts = load_counts(path)
    assert counts.sentences == 3 and counts.tokens == 6
    assert dict(zip(counts.table["token"].to_pylist(), counts.table["count"].to_pylist())) == {
        "孙悟空": 2, "八戒": 2, "道": 1, "悟空": 1}


def test_an_empty_token_file_has_no_sentence(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n\n", encoding="utf-8")
    counts = load_counts(path)
    assert counts.sentences == 0 and counts.tokens == 0 and counts.table.num_rows == 0


def test_an_unreadable_counts_file_says_to_rerun_clean(tmp_path):
    bad = tmp_path / "counts-0.parquet"
    bad.write_bytes(b"PAR1 but not really")
    with pytest.raises(UserError, match=r"counts-0.parquet is not a readable Parquet file .*; rerun `w2v clean --counts` \(rule clean\)$"):
        load_counts(bad)


def test_merging_nothing_says_so():
    with pytest.raises(ValueError, match=r"^no counts to merge$"):
        merge_counts([])


def _stats():
    shard = shard_counts(Counter({"道": 2, "王": 1}), 2)
    return CorpusStats(sentences=2, tokens=3, distinct=2, vocab_sha256="ab", vocab_words=1, vocab_tokens=2,
                       shards=[{"sentences": 2, "tokens": shard.tokens, "vocab_tokens": 2, "first_position": 0}])


def test_corpus_stats_read_back_as_written(tmp_path):
    path = tmp_path / "corpus.json"
    _stats().write(path)
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == STATS_FORMAT
    assert CorpusStats.read(str(path)) == _stats()


REDO = r"rerun `w2v vocab` \(rule vocab\)"


@pytest.mark.parametrize(
    "data", [[1, 2], {"format": "w2v-corpus-stats-0", "sentences": 1}, {"sentences": 1}],
    ids=["not-an-object", "other-format", "no-format"],
)
def test_a_foreign_corpus_stats_file_is_named_with_the_step_that_rewrites_it(tmp_path, data):
    path = tmp_path / "corpus.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(UserError, match=rf"^{path} is not a w2v corpus statistics file; {REDO}$"):
        CorpusStats.read(path)


def test_a_corpus_stats_file_with_a_missing_or_unknown_key_names_it(tmp_path):
    path = tmp_path / "corpus.json"
    data = {"format": STATS_FORMAT, **{k: v for k, v in _stats().__dict__.items() if k != "distinct"}, "extra": 1}
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(UserError, match=rf"^{path}: .*'extra'.*; {REDO}$"):
        CorpusStats.read(path)


def test_a_missing_corpus_stats_file_is_named(tmp_path):
    with pytest.raises(UserError, match=rf"^{tmp_path}/none.json: corpus statistics not found; {REDO}$"):
        CorpusStats.read(tmp_path / "none.json")


def test_corpus_stats_place_each_shard_in_the_in_vocabulary_stream():
    """Per shard: its totals, its tokens of vocabulary words, and where they start in the stream of
    vocabulary tokens (what the pairs jobs number positions from); a shard with none starts where the
    next one does."""
    shards = [
        shard_counts(Counter({"道": 3, "王": 1, "孤": 2}), 2),
        shard_counts(Counter({"孤": 4}), 1),
        shard_counts(Counter({"王": 2, "道": 1}), 3),
    ]
    stats = corpus_stats(shards, 3, ["道", "王"], "f00d")
    assert stats == CorpusStats(
        sentences=6, tokens=13, distinct=3, vocab_sha256="f00d", vocab_words=2, vocab_tokens=7,
        shards=[
            {"sentences": 2, "tokens": 6, "vocab_tokens": 4, "first_position": 0},
            {"sentences": 1, "tokens": 4, "vocab_tokens": 0, "first_position": 4},
            {"sentences": 3, "tokens": 3, "vocab_tokens": 3, "first_position": 4},
        ],
    )


def test_corpus_stats_of_an_empty_vocabulary_word_list_count_nothing():
    stats = corpus_stats([shard_counts(Counter({"道": 3}), 1)], 1, [], "")
    assert stats.vocab_tokens == 0 and stats.shards[0]["vocab_tokens"] == 0


def test_a_missing_counts_file_is_named(tmp_path):
    with pytest.raises(UserError, match=rf"^counts file {tmp_path}/c.parquet does not exist; rerun `w2v clean --counts`"):
        load_counts(tmp_path / "c.parquet")


@pytest.mark.parametrize(
    "columns, fmt", [({"token": ["a"], "count": [1], "hash": [1]}, "w2v-counts-1"), ({"token": ["a"], "count": [1]}, "w2v-counts-2")],
    ids=["old-format", "no-hash-column"],
)
def test_a_counts_file_of_another_version_names_its_format_and_the_fix(tmp_path, columns, fmt):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "c.parquet"
    meta = {"w2v.format": fmt, "w2v.sentences": "1", "w2v.tokens": "1"}
    pq.write_table(pa.table(columns).replace_schema_metadata(meta), path)
    with pytest.raises(UserError, match=rf"^{path} is not a w2v counts file of this version \(format '{fmt}', expected 'w2v-counts-2'\); rerun `w2v clean --counts` \(rule clean\)$"):
        load_counts(path)
