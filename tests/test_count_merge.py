"""The count merge in hash partitions: any number of partitions gives the in-memory merge's
vocabulary, character table and corpus statistics (ties at the max_vocab_size cut, min_count and
counts included), and each partition's merge reads and holds only its own tokens."""

from __future__ import annotations

import zlib
from collections import Counter
from pathlib import Path

import pytest

import w2v.data.count_merge as count_merge
import w2v.data.counts as counts_module
from w2v.cli import main
from w2v.data.count_merge import merge_partition, partition_range, read_partition, vocab_from_partitions, write_partition
from w2v.data.counts import shard_counts, token_hashes, write_counts
from w2v.errors import UserError
from w2v.data.vocab import load_vocab, make_vocab

# Three shards. At count 4 sit eight words, so max_vocab_size 6 cuts through them: the kept ones
# are the two smallest in code point order (Latin, then CJK, then a character beyond the BMP).
TIED = ["zz", "Ab", "词", "猴", "𠀋", "ab", "王", "a"]
SHARDS = [
    Counter({"道": 9, "悟空": 5, "zz": 2, "词": 1, "猴": 4, "𠀋": 3, "孤": 1}),
    Counter({"道": 1, "八戒": 6, "Ab": 4, "ab": 4, "词": 3, "zz": 2, "王": 2}),
    Counter({"悟空": 2, "八戒": 1, "沙僧": 5, "a": 4, "𠀋": 1, "王": 2}),
]


def write_shards(folder: Path, shards=SHARDS) -> list[Path]:
    paths = []
    for k, counter in enumerate(shards):
        path = folder / f"counts-{k}.parquet"
        write_counts(shard_counts(counter, sentences=10 + k), path)
        paths.append(path)
    return paths


def partitioned_vocab(folder: Path, paths: list[Path], parts: int, min_count: int, cap: int | None) -> Path:
    """The partitioned route, through the library: a merge per partition, then the vocabulary."""
    out = folder / f"parts-{parts}-{min_count}-{cap}"
    merged = []
    for part in range(parts):
        merged.append(out / f"part-{part}.parquet")
        write_partition(merge_partition(paths, part, parts, min_count, cap), merged[-1])
    vocab_from_partitions(merged[::-1], paths, out / "vocab.tsv", min_count, cap, out / "corpus.json")  # any order
    return out


def test_the_tie_at_the_cut_is_what_the_fixture_says():
    total = sum(SHARDS, Counter())
    assert sorted(w for w, c in total.items() if c == 4) == sorted(TIED)
    assert sum(c > 4 for c in total.values()) == 4  # so max_vocab_size 6 keeps 2 of the 8 tied words


@pytest.mark.parametrize("parts", [1, 2, 3, 16])
@pytest.mark.parametrize("min_count, cap", [(1, None), (3, None), (1, 6), (4, 6), (2, 1), (5, None)])
def test_any_partition_count_gives_the_in_memory_vocabulary(tmp_path, parts, min_count, cap):
    paths = write_shards(tmp_path)
    out = partitioned_vocab(tmp_path, paths, parts, min_count, cap)
    make_vocab(paths, tmp_path / "vocab.tsv", min_count, cap, tmp_path / "corpus.json")
    assert (out / "vocab.tsv").read_bytes() == (tmp_path / "vocab.tsv").read_bytes()
    assert (out / "corpus.json").read_bytes() == (tmp_path / "corpus.json").read_bytes()
    # and both are the exact counts, by count descending then code point, cut exactly at max_vocab_size
    total = sum(SHARDS, Counter())
    expected = sorted(((w, c) for w, c in total.items() if c >= min_count), key=lambda wc: (-wc[1], wc[0]))[:cap]
    vocab = load_vocab(out / "vocab.tsv")
    assert list(zip(vocab.tokens[1:], vocab.counts[1:].tolist())) == expected


def test_ties_at_the_cut_keep_the_smallest_tokens(tmp_path):
    out = partitioned_vocab(tmp_path, write_shards(tmp_path), 4, 1, 6)
    assert load_vocab(out / "vocab.tsv").tokens[-2:] == ["Ab", "a"]  # "A" < "a" < "ab" < "zz" < CJK


def test_the_hash_is_crc32_of_the_utf8_the_same_in_every_process():
    import pyarrow as pa

    assert token_hashes(pa.array(["孙悟空", "a"])).to_pylist() == [zlib.crc32("孙悟空".encode()), 0xE8B7BE43]


@pytest.fixture
def many_tokens(tmp_path, monkeypatch) -> list[Path]:
    """Three shards of 3,000 distinct tokens each (half shared), in row groups of 100 rows."""
    monkeypatch.setattr(counts_module, "ROW_GROUP_ROWS", 100)
    shards = [Counter({f"w{i}": 1 + i % 7 for i in range(k * 1500, k * 1500 + 3000)}) for k in range(3)]
    return write_shards(tmp_path, shards)


@pytest.mark.parametrize("parts", [1, 4, 8])
def test_a_partition_reads_only_the_row_groups_of_its_hash_range(many_tokens, parts):
    seen: set[str] = set()
    for part in range(parts):
        lo, hi = partition_range(part, parts)
        own: set[str] = set()
        for path in many_tokens:
            table, rows_read = read_partition(path, part, parts)
            tokens = table["token"].to_pylist()
            assert all(lo <= h < hi for h in token_hashes(table["token"]).to_pylist())
            assert rows_read <= len(tokens) + 2 * 100  # its rows and at most a row group at each end
            own.update(tokens)
        assert seen.isdisjoint(own)
        seen |= own
    assert len(seen) == 6000  # every token in exactly one partition


def test_a_partition_merge_holds_only_its_own_tokens(many_tokens, monkeypatch):
    summed = []
    real = count_merge.sum_counts
    monkeypatch.setattr(count_merge, "sum_counts", lambda tables: summed.append(tables) or real(tables))
    part, parts = 2, 8
    lo, hi = partition_range(part, parts)
    merged = merge_partition(many_tokens, part, parts, 1, None)
    held = [t for tables in summed for table in tables for t in table["token"].to_pylist()]
    assert held and all(lo <= zlib.crc32(t.encode()) < hi for t in held)
    assert merged.summary.distinct == sum(lo <= zlib.crc32(f"w{i}".encode()) < hi for i in range(6000))
    assert 6000 / parts * 0.7 < merged.summary.distinct < 6000 / parts * 1.3  # the hash spreads tokens evenly


def run_cli(*args) -> int:
    return main([str(a) for a in args])


def test_the_commands_give_the_in_memory_outputs(tmp_path):
    paths = write_shards(tmp_path)
    settings = ["--min-count", "2", "--max-vocab-size", "5"]
    parts = [tmp_path / f"part-{p}.parquet" for p in range(3)]
    for p, part in enumerate(parts):
        assert run_cli("count-merge", *paths, "--partition", p, "--partitions", 3, *settings, "-o", part) == 0
    outputs = {}
    for name, merged in (("one", []), ("parts", ["--merged", *parts])):
        folder = tmp_path / name
        assert run_cli("vocab", *paths, *merged, *settings, "-o", folder / "vocab.tsv",
                       "--stats", folder / "corpus.json", "--chars", folder / "chars.tsv") == 0
        outputs[name] = {f: (folder / f).read_bytes() for f in ("vocab.tsv", "corpus.json", "chars.tsv")}
    assert outputs["parts"] == outputs["one"]


def merged_files(tmp_path, paths, parts, min_count=1, cap=None) -> list[Path]:
    files = []
    for part in range(parts):
        files.append(tmp_path / f"m-{parts}-{min_count}-{part}.parquet")
        write_partition(merge_partition(paths, part, parts, min_count, cap), files[-1])
    return files


def test_a_missing_partition_is_named(tmp_path):
    paths = write_shards(tmp_path)
    with pytest.raises(UserError, match=r"2 partitions with min_count 1 .* rerun `w2v count-merge`"):
        vocab_from_partitions(merged_files(tmp_path, paths, 3)[:2], paths, tmp_path / "v.tsv")
    assert not (tmp_path / "v.tsv").exists()


def test_partitions_cut_with_other_settings_are_named(tmp_path):
    paths = write_shards(tmp_path)
    with pytest.raises(UserError, match=r"m-2-3-0.parquet is partition 0 of 2 cut with min_count 3"):
        vocab_from_partitions(merged_files(tmp_path, paths, 2, min_count=3), paths, tmp_path / "v.tsv", min_count=2)


def test_an_old_counts_file_says_to_rerun_clean(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    old = tmp_path / "old.parquet"
    table = pa.table({"token": ["道"], "count": [3]}).replace_schema_metadata(
        {"w2v.format": "w2v-counts-1", "w2v.sentences": "1", "w2v.tokens": "3"})
    pq.write_table(table, old)
    assert run_cli("count-merge", old, "--partition", 0, "--partitions", 1, "-o", tmp_path / "p.parquet") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "old.parquet is not a w2v counts file of this version" in err
    assert "rerun `w2v clean --counts` (rule clean)" in err
    assert run_cli("count-merge", tmp_path / "none.parquet", "--partition", 0, "--partitions", 1,
                   "-o", tmp_path / "p.parquet") == 2
    assert "counts file " in capsys.readouterr().err


def test_a_partition_number_out_of_range_is_one_message(tmp_path, capsys):
    paths = write_shards(tmp_path)
    assert run_cli("count-merge", *paths, "--partition", 3, "--partitions", 3, "-o", tmp_path / "p.parquet") == 2
    assert "partition 3 does not exist: partitions are numbered 0 to 2" in capsys.readouterr().err


def test_no_word_left_names_min_count(tmp_path):
    paths = write_shards(tmp_path)
    with pytest.raises(UserError, match=r"the most frequent occurs 10 times.*lower config key `vocab.min_count`"):
        vocab_from_partitions(merged_files(tmp_path, paths, 3, min_count=11), paths, tmp_path / "v.tsv", min_count=11)


def test_a_counts_file_given_as_a_partition_is_named(tmp_path, capsys):
    paths = write_shards(tmp_path)
    assert run_cli("vocab", *paths, "--merged", paths[0], "-o", tmp_path / "v.tsv") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "counts-0.parquet is not a w2v count partition file" in err
    assert "rerun `w2v count-merge` (rule count_merge)" in err and not (tmp_path / "v.tsv").exists()
