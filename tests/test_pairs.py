"""Window pairs: Parquet contents against a brute-force reference, row groups, metadata."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from w2v.cli import main
from w2v.errors import UserError
from w2v.data.pairs import read_pairs_metadata, write_pairs
from w2v.data.vocab import build_vocab, make_vocab, write_vocab

SENTENCES = [
    "悟空 道 师父 八戒 沙僧 道 悟空 唐僧",
    "稀 道",  # "稀" is rare: dropped from the stream, leaving a one-word sentence
    "稀罕",  # only a rare word: the sentence disappears
    "八戒 悟空",
    "沙僧 唐僧 师父 悟空 八戒 道 道 师父 沙僧 唐僧 悟空",
]


@pytest.fixture()
def prepared(tmp_path):
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    counts = Counter(w for s in SENTENCES for w in s.split())
    vocab = build_vocab(counts, min_count=2)
    write_vocab(vocab, tmp_path / "vocab.tsv")
    return tokens, vocab


def reference(vocab, window):
    """Brute force: in-vocabulary sentences, then every pair by position and offset."""
    stream = [[vocab.token_to_id[w] for w in s.split() if w in vocab.token_to_id] for s in SENTENCES]
    stream = [s for s in stream if s]
    cbow, skipgram, position = [], [], 0
    for sentence in stream:
        for i, center in enumerate(sentence):
            row = []
            for offset in [*range(-window, 0), *range(1, window + 1)]:
                j = i + offset
                inside = 0 <= j < len(sentence)
                row.append(sentence[j] if inside else 0)
                if inside:
                    skipgram.append((position, center, sentence[j], offset))
            cbow.append((position, center, row))
            position += 1
    return stream, cbow, skipgram


@pytest.mark.parametrize("window", [1, 2, 5])
@pytest.mark.parametrize("row_group_size, batch_tokens", [(65_536, 65_536), (7, 3)])
def test_pairs_match_brute_force(tmp_path, prepared, window, row_group_size, batch_tokens):
    tokens, vocab = prepared
    cbow_path, sg_path = tmp_path / "cbow.parquet", tmp_path / "skipgram.parquet"
    stats = write_pairs(tokens, vocab, cbow_path, sg_path, window, seed=7,
                        row_group_size=row_group_size, batch_tokens=batch_tokens)
    stream, cbow, skipgram = reference(vocab, window)

    table = pq.read_table(cbow_path)
    assert table.schema.field("position").type == pa.int64()
    assert table.schema.field("center").type == pa.int32()
    assert table.schema.field("context").type == pa.list_(pa.int32(), 2 * window)
    assert table.column("position").to_pylist() == [r[0] for r in cbow]
    assert table.column("center").to_pylist() == [r[1] for r in cbow]
    assert table.column("context").to_pylist() == [r[2] for r in cbow]

    table = pq.read_table(sg_path)
    assert [f.type for f in table.schema] == [pa.int64(), pa.int32(), pa.int32(), pa.int8()]
    rows = list(zip(*(table.column(c).to_pylist() for c in ("position", "center", "context", "offset"))))
    assert rows == skipgram

    assert (stats.n_tokens, stats.n_sentences) == (sum(map(len, stream)), len(stream))
    assert (stats.cbow_rows, stats.skipgram_rows) == (len(cbow), len(skipgram))


def test_row_groups_are_full_except_the_last_and_zstd(tmp_path, prepared):
    tokens, vocab = prepared
    write_pairs(tokens, vocab, tmp_path / "c.parquet", tmp_path / "s.parquet", 2, 1, row_group_size=4, batch_tokens=5)
    for name in ("c.parquet", "s.parquet"):
        meta = pq.ParquetFile(tmp_path / name).metadata
        sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        assert all(s == 4 for s in sizes[:-1]) and 1 <= sizes[-1] <= 4, sizes
        assert meta.row_group(0).column(0).compression == "ZSTD"


def test_metadata_round_trip(tmp_path, prepared):
    tokens, vocab = prepared
    write_pairs(tokens, vocab, tmp_path / "c.parquet", tmp_path / "s.parquet", 3, seed=42)
    stream, _, _ = reference(vocab, 3)
    for name, fmt in (("c.parquet", "cbow-pairs-1"), ("s.parquet", "skipgram-pairs-1")):
        meta = read_pairs_metadata(tmp_path / name)
        assert meta["format"] == fmt
        assert meta["window"] == 3 and meta["seed"] == 42
        assert meta["n_tokens"] == sum(map(len, stream)) and meta["n_sentences"] == len(stream)
        assert meta["vocab_sha256"] == vocab.sha256 and len(vocab.sha256) == 64


def test_read_pairs_metadata_rejects_foreign_files(tmp_path):
    text = tmp_path / "not.parquet"
    text.write_text("hello")
    with pytest.raises(UserError, match="not a readable Parquet file"):
        read_pairs_metadata(text)
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), other)
    with pytest.raises(UserError, match="not a w2v pairs file"):
        read_pairs_metadata(other)
    with pytest.raises(UserError, match="does not exist"):
        read_pairs_metadata(tmp_path / "missing.parquet")


def test_tokens_outside_the_vocabulary_give_an_error_and_no_files(tmp_path, prepared):
    _, vocab = prepared
    tokens = tmp_path / "other.txt"
    tokens.write_text("甲 乙 丙\n", encoding="utf-8")
    with pytest.raises(UserError, match="no token .* is in the vocabulary"):
        write_pairs(tokens, vocab, tmp_path / "c.parquet", tmp_path / "s.parquet", 2, 1)
    assert not (tmp_path / "c.parquet").exists() and not (tmp_path / "s.parquet").exists()


def test_failure_midway_leaves_no_partial_file(tmp_path, prepared, monkeypatch):
    tokens, vocab = prepared
    import w2v.data.pairs

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(w2v.data.pairs, "context_matrix", boom)
    with pytest.raises(RuntimeError):
        write_pairs(tokens, vocab, tmp_path / "c.parquet", tmp_path / "s.parquet", 2, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokens.txt", "vocab.tsv"]


def test_a_token_shard_changed_after_the_vocabulary_names_the_stages_to_rerun(tmp_path, capsys):
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    make_vocab(tokens, tmp_path / "vocab.tsv", min_count=2, stats_path=tmp_path / "corpus.json")
    with tokens.open("a", encoding="utf-8") as handle:
        handle.write("悟空 八戒\n")  # two more vocabulary tokens than the statistics counted
    argv = ["pairs", str(tokens), "--vocab", str(tmp_path / "vocab.tsv"), "--stats", str(tmp_path / "corpus.json"),
            "--part", "0", "--cbow", str(tmp_path / "cbow.parquet")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "the token shard changed after the vocabulary was built" in err
    assert "rerun `w2v clean --counts` and `w2v vocab` (rules clean and vocab)" in err
