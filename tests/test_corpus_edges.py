"""Corpus reading edges found by mutation testing (benchmarks/mutation.sh corpus): glob patterns,
the size cache, shard plans and names, range specs, boundaries and long lines."""

from __future__ import annotations

import gzip
import json

import pytest

from w2v.errors import UserError
from w2v.text import corpus
from w2v.text.corpus import CorpusFile, ShardReader, TextRange, corpus_files


def lines_of(ranges, encoding="utf-8") -> list[str]:
    return list(ShardReader(list(ranges), encoding))


def test_a_glob_pattern_stands_for_its_sorted_matches(tmp_path):
    for name in ("b.txt", "a.txt", "c.md"):
        (tmp_path / name).write_text(name + "\n", encoding="utf-8")
    (tmp_path / "d.txt").mkdir()  # a folder matching the pattern is not a file
    files = corpus_files([str(tmp_path / "*.txt")])
    assert [f.path.name for f in files] == ["a.txt", "b.txt"]
    assert [f.size for f in files] == [6, 6]
    with pytest.raises(UserError, match=r"config key `corpus`: the pattern '.*\*.rst' matches no file"):
        corpus_files([str(tmp_path / "*.rst")])


def test_a_file_whose_name_looks_like_a_pattern_is_that_file(tmp_path):
    odd = tmp_path / "vol[1].txt"
    odd.write_text("悟空\n", encoding="utf-8")
    (tmp_path / "vol1.txt").write_text("八戒\n", encoding="utf-8")
    assert [f.path for f in corpus_files([str(odd)])] == [odd]


def test_hidden_folders_are_skipped_and_empty_files_are_fine_beside_others(tmp_path):
    shelf = tmp_path / "shelf"
    (shelf / ".git").mkdir(parents=True)
    (shelf / ".git" / "x.txt").write_text("never\n", encoding="utf-8")
    (shelf / "sub").mkdir()
    (shelf / "sub" / "b.txt").write_text("八戒\n", encoding="utf-8")
    (shelf / "a.txt").write_bytes(b"")
    assert [f.path.relative_to(shelf).as_posix() for f in corpus_files([shelf])] == ["a.txt", "sub/b.txt"]


def test_all_files_empty_names_them_all(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"")
    b.write_bytes(b"")
    with pytest.raises(UserError, match=rf"corpus file {a}, {b} is empty"):
        corpus_files([a, b])
    with pytest.raises(UserError, match=r"no corpus file given \(config key `corpus`\)"):
        corpus_files([])


def test_even_ranges_refuse_a_shard_out_of_range(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("x\n", encoding="utf-8")
    files = corpus_files([path])
    for shard in (-1, 3):
        with pytest.raises(ValueError, match=rf"shard {shard} out of range for 3 shards"):
            corpus.even_ranges(files, 3, shard)
    assert corpus.even_ranges(files, 3, 2) == [TextRange(files[0].measured(), 1, 2)]


def test_the_size_cache_is_used_and_refreshed(tmp_path, monkeypatch):
    text = ("悟空道师父。\n" * 500).encode("utf-8")
    packed = tmp_path / "novel.txt.gz"
    packed.write_bytes(gzip.compress(text))
    cache = tmp_path / "cache" / "sizes.json"
    first = corpus.plan_corpus([packed], 0.002, cache=cache)
    assert json.loads(cache.read_text(encoding="utf-8"))[str(packed)][2] == len(text)
    assert first[0].ranges[0].file.text_size == len(text)

    def no_decompression(*args, **kwargs):
        raise AssertionError("measured again although the cache holds the size")

    with monkeypatch.context() as patch:
        patch.setitem(corpus._OPENERS, ".gz", no_decompression)
        assert corpus.plan_corpus([packed], 0.002, cache=cache) == first
    more = text + "八戒笑了。\n".encode("utf-8")
    packed.write_bytes(gzip.compress(more))  # another size and mtime: measured again
    again = corpus.plan_corpus([packed], 0.002, cache=cache)
    assert again[0].ranges[0].file.text_size == len(more)
    assert json.loads(cache.read_text(encoding="utf-8"))[str(packed)][2] == len(more)


def test_a_damaged_size_cache_is_remeasured(tmp_path):
    text = b"abc\n" * 100
    packed = tmp_path / "a.txt.gz"
    packed.write_bytes(gzip.compress(text))
    cache = tmp_path / "sizes.json"
    cache.write_text("{not json", encoding="utf-8")
    shards = corpus.plan_corpus([packed], 1, cache=cache)
    assert shards[0].ranges[0].file.text_size == len(text)
    assert json.loads(cache.read_text(encoding="utf-8"))[str(packed)][2] == len(text)


def test_measured_keeps_a_known_size_and_measures_plain_files_by_size(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"abc\n")
    assert CorpusFile(path, 4).measured().text_size == 4
    assert CorpusFile(path, 4, 99).measured().text_size == 99
    packed = tmp_path / "b.TXT.GZ"  # the suffix is matched without regard to case
    packed.write_bytes(gzip.compress(b"x" * 1000))
    assert CorpusFile(packed, packed.stat().st_size).measured().text_size == 1000


def test_shard_names_come_from_the_file_name(tmp_path):
    names = {"红楼梦 (第1卷).txt": "红楼梦_第1卷_txt", "——.txt": "txt", "……": "file", "x" * 60 + ".txt": "x" * 40,
             "Xmas_X.txt": "Xmas_X_txt"}
    for name in names:
        (tmp_path / name).write_bytes(b"a\n" * 50)
    shards = corpus.plan_shards(corpus_files([tmp_path]), 100)
    stems = sorted(s.name.rsplit("-", 2)[0] for s in shards)
    assert stems == sorted(names.values())
    assert all(len(s.name.rsplit("-", 2)[1]) == 8 and s.name.endswith("-0000") for s in shards)


@pytest.mark.parametrize("size, pieces", [(49, 0), (50, 1), (149, 1), (150, 2), (251, 3)])
def test_a_file_is_cut_into_round_text_over_shard_pieces(tmp_path, size, pieces):
    path = tmp_path / "a.txt"
    path.write_bytes(b"x" * (size - 1) + b"\n")
    shards = corpus.plan_shards(corpus_files([path]), 100)
    if pieces == 0:
        assert [s.name for s in shards] == [f"small-{int(corpus._digest(path), 16) % 64:02d}"]
        assert shards[0].ranges == (TextRange(corpus_files([path])[0].measured(), 0, size),)
        return
    assert len(shards) == pieces
    cuts = [(r.start, r.stop) for s in shards for r in s.ranges]
    assert cuts == [(size * k // pieces, size * (k + 1) // pieces) for k in range(pieces)]


def test_small_files_share_buckets_in_bucket_order(tmp_path):
    for k in range(200):
        (tmp_path / f"t{k:03d}.txt").write_bytes(b"ab\n")
    shards = corpus.plan_shards(corpus_files([tmp_path]), 10**6)
    assert len(shards) <= corpus.SMALL_BUCKETS
    assert [s.name for s in shards] == sorted(s.name for s in shards)
    assert sum(len(s.ranges) for s in shards) == 200
    for s in shards:
        assert {int(corpus._digest(r.file.path), 16) % 64 for r in s.ranges} == {int(s.name[6:])}
    assert corpus.plan_corpus([tmp_path], 1)[0].spec() == shards[0].spec()


def test_shard_paths_and_spec_round_trip(tmp_path):
    a, b = tmp_path / "甲.txt", tmp_path / "b.txt"
    a.write_bytes(b"1\n2\n")
    b.write_bytes(b"3\n")
    fa, fb = corpus_files([a, b])
    shard = corpus.Shard("s", (TextRange(fa, 0, 2), TextRange(fa, 2, 4), TextRange(fb, 0, 2)))
    assert shard.paths() == [str(a), str(b)]
    assert "甲" in shard.spec()  # kept readable, not \\u-escaped
    back = corpus.ranges_from_spec(shard.spec())
    assert [(r.file.path, r.file.size, r.start, r.stop) for r in back] == [(a, 4, 0, 2), (a, 4, 2, 4), (b, 2, 0, 2)]


@pytest.mark.parametrize("spec", ["not json", '[["a.txt", 0]]', '[["a.txt", "x", 3]]', "[1]"])
def test_a_bad_range_spec_is_named(spec):
    with pytest.raises(UserError, match=r"--ranges must be a JSON list of \[file, start, stop\]"):
        corpus.ranges_from_spec(spec)


def test_a_range_spec_naming_a_missing_file_is_named(tmp_path):
    with pytest.raises(UserError, match=r"corpus file .*gone.txt does not exist \(config key `corpus`\)"):
        corpus.ranges_from_spec(json.dumps([[str(tmp_path / "gone.txt"), 0, 5]]))


def test_boundaries_at_and_beyond_the_ends(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"ab\ncd\nef")
    with open(path, "rb") as handle:
        got = [corpus.boundary(handle, 8, offset, corpus._MARKS_UTF8) for offset in (-5, 0, 1, 2, 3, 4, 6, 7, 8, 20)]
    assert got == [0, 0, 3, 3, 3, 6, 6, 8, 8, 8]


def test_find_mark_takes_the_earliest_mark_and_its_length():
    data = "甲乙？丙！丁".encode("utf-8")
    assert corpus._find_mark(data, corpus._MARKS_UTF8) == len("甲乙？".encode("utf-8"))
    assert corpus._find_mark(data, corpus._MARKS_UTF8, 6) == len("甲乙？".encode("utf-8"))
    assert corpus._find_mark(data, corpus._MARKS_UTF8, 10) == len("甲乙？丙！".encode("utf-8"))
    assert corpus._find_mark(b"no mark", corpus._MARKS_UTF8) == -1
    assert corpus._find_mark(b"a?b!", corpus._MARKS_OTHER) == 2


def test_gb18030_long_lines_are_cut_only_at_ascii_marks(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "LONG_LINE", 64)
    # In GB18030 the bytes of "！" (A3 A1) also occur across two characters; only "!" and "?" are safe.
    text = ("悟空笑道！" * 10 + "师父放心!") * 6
    path = tmp_path / "gb.txt"
    path.write_bytes(text.encode("gb18030"))
    f = corpus_files([path])[0]
    pieces = lines_of([TextRange(f, 0, f.size)], "gb18030")
    assert "".join(pieces) == text
    assert len(pieces) > 1 and all(piece.endswith("!") for piece in pieces)


def test_a_line_without_any_mark_past_the_long_line_limit_ends_at_the_next_newline(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "LONG_LINE", 64)
    monkeypatch.setattr(corpus, "_READ", 16)
    # The first line's newline (byte 85) is the first byte of a 16-byte block read after the window.
    lines = ["x" * 85, "short", "y" * 300, "z"]
    path = tmp_path / "a.txt"
    path.write_bytes("\n".join(lines).encode("utf-8") + b"\n")
    f = corpus_files([path])[0]
    for cut, later in ((5, 1), (87, 2), (100, 3), (390, 3)):
        first, second = lines_of([TextRange(f, 0, cut)]), lines_of([TextRange(f, cut, f.size)])
        assert (first, second) == (lines[:later], lines[later:]), cut


def test_a_decoding_error_in_a_compressed_file_names_its_line(tmp_path):
    data = "第一行\n".encode("utf-8") * 30 + "第二行\n".encode("gb18030")
    path = tmp_path / "novel.txt.gz"
    path.write_bytes(gzip.compress(data))
    f = corpus_files([path])[0].measured()
    with pytest.raises(UserError, match=r"novel.txt.gz, line 31: not valid utf-8"):
        lines_of([TextRange(f, 0, f.text_size)])


def test_bytes_read_counts_the_text_handed_out(tmp_path):
    data = "悟空\r\n八戒\n\n沙僧".encode("utf-8")
    path = tmp_path / "a.txt"
    path.write_bytes(data)
    f = corpus_files([path])[0]
    reader = ShardReader([TextRange(f, 0, f.size)])
    assert list(reader) == ["悟空", "八戒", "", "沙僧"]
    assert reader.bytes_read == len(data) + 1  # each line's end, and one for the last line's missing end


def test_a_bom_only_counts_at_the_start_of_the_file(tmp_path):
    data = "a\n".encode("utf-8") + b"\xef\xbb\xbfb\n"
    path = tmp_path / "a.txt"
    path.write_bytes(data)
    f = corpus_files([path])[0]
    assert lines_of([TextRange(f, 0, f.size)]) == ["a", "\ufeffb"]


def test_a_shard_of_even_ranges_names_only_the_files_it_reads(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"1\n2\n")
    b.write_bytes(b"3\n4\n")
    files = corpus_files([a, b])
    assert [[r.file.path for r in corpus.even_ranges(files, 2, k)] for k in (0, 1)] == [[a], [b]]


def test_a_missing_file_with_an_x_in_its_name_is_reported_missing(tmp_path):
    with pytest.raises(UserError, match=r"corpus file .*XBOX.txt does not exist"):
        corpus_files([tmp_path / "XBOX.txt"])


def test_a_double_star_pattern_reaches_into_subfolders(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.txt").write_text("x\n", encoding="utf-8")
    (tmp_path / "top.txt").write_text("y\n", encoding="utf-8")
    found = [f.path.relative_to(tmp_path).as_posix() for f in corpus_files([str(tmp_path / "**" / "*.txt")])]
    assert found == ["a/b/deep.txt", "top.txt"]


def test_small_files_spread_over_many_buckets(tmp_path):
    for k in range(200):
        (tmp_path / f"t{k:03d}.txt").write_bytes(b"ab\n")
    assert len(corpus.plan_shards(corpus_files([tmp_path]), 10**6)) > 32


def test_large_files_of_the_same_name_in_two_folders_get_distinct_shards(tmp_path):
    for folder in ("vol1", "vol2"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "novel.txt").write_bytes(b"abc\n" * 100)
    names = [s.name for s in corpus.plan_shards(corpus_files([tmp_path]), 200)]
    assert len(names) == 4 and len(set(names)) == 4


def test_planning_without_a_cache_measures_compressed_files(tmp_path):
    packed = tmp_path / "a.txt.gz"
    packed.write_bytes(gzip.compress(b"abc\n" * 100))
    shards = corpus.plan_corpus([packed], 1)
    assert shards[0].ranges[0].file.text_size == 400


def test_the_size_cache_may_sit_in_folders_not_made_yet(tmp_path):
    packed = tmp_path / "a.txt.gz"
    packed.write_bytes(gzip.compress(b"abc\n" * 100))
    cache = tmp_path / "results" / "plan" / "sizes.json"
    corpus.plan_corpus([packed], 1, cache=cache)
    assert json.loads(cache.read_text(encoding="utf-8"))[str(packed)][2] == 400


def test_a_cache_holding_every_size_is_not_rewritten(tmp_path):
    # Every job of a cluster run plans the corpus; only one that measured something writes.
    packed = tmp_path / "a.txt.gz"
    packed.write_bytes(gzip.compress(b"abc\n" * 100))
    cache = tmp_path / "sizes.json"
    corpus.plan_corpus([packed], 1, cache=cache)
    cache.write_text(cache.read_text(encoding="utf-8") + " ", encoding="utf-8")  # marks this copy
    corpus.plan_corpus([packed], 1, cache=cache)
    assert cache.read_text(encoding="utf-8").endswith(" ")


def test_shard_mb_counts_megabytes_of_a_million_bytes(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"x" * 1_499_999 + b"\n")  # 1.5 shards of 1,000,000 bytes: rounded to two
    assert len(corpus.plan_corpus([path], 1)) == 2


def test_find_mark_prefers_the_earlier_of_two_adjacent_marks():
    data = "甲！？乙".encode("utf-8")
    assert corpus._find_mark(data, corpus._MARKS_UTF8) == len("甲！".encode("utf-8"))


def test_gb18030_text_holding_the_bytes_of_a_utf8_mark_is_not_cut_there(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "LONG_LINE", 64)
    # 锛丂 is EF BC 81 40 in GB18030: its first three bytes spell "！" in UTF-8.
    text = ("悟空笑道锛丂" * 10 + "师父放心!") * 6
    path = tmp_path / "gb.txt"
    path.write_bytes(text.encode("gb18030"))
    f = corpus_files([path])[0]
    pieces = lines_of([TextRange(f, 0, f.size)], "gb18030")
    assert "".join(pieces) == text and all(piece.endswith("!") for piece in pieces)


def test_lines_up_to_the_long_line_limit_come_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "LONG_LINE", 64)
    last = "悟空。" * 7 + "a"  # 64 bytes with marks past the middle, no newline after it
    assert len(last.encode("utf-8")) == 64
    path = tmp_path / "a.txt"
    path.write_bytes(("a" * 39 + "\n" + last).encode("utf-8"))
    f = corpus_files([path])[0]
    assert lines_of([TextRange(f, 0, f.size)]) == ["a" * 39, last]


def test_split_pieces_gives_each_piece_its_offset_in_the_stream(monkeypatch):
    monkeypatch.setattr(corpus, "LONG_LINE", 64)
    text = ("短句\n" + "悟空笑道师父放心。" * 12 + "\n") * 3
    data = text.encode("utf-8")
    # Small blocks, and a block that ends inside a long line after a short one (cut mid-buffer).
    for blocks in ([data[i : i + 10] for i in range(0, len(data), 10)], [data[:207], data[207:]]):
        pieces = list(corpus.split_pieces(blocks, corpus._MARKS_UTF8))
        assert len(pieces) > 6
        for offset, piece in pieces:
            assert data[offset : offset + len(piece)] == piece


@pytest.mark.parametrize("shards", [1, 2, 3])
def test_a_compressed_long_line_is_cut_and_shared_out_once(tmp_path, monkeypatch, shards):
    monkeypatch.setattr(corpus, "LONG_LINE", 64)
    monkeypatch.setattr(corpus, "_READ", 16)  # blocks shorter than the line, as 64 KiB ones are at 1 MiB
    text = "开头\n" + "悟空笑道师父放心。" * 40 + "\n结尾\n"
    path = tmp_path / "a.txt.gz"
    path.write_bytes(gzip.compress(text.encode("utf-8")))
    files = corpus_files([path])
    parts = [lines_of(corpus.even_ranges(files, shards, k)) for k in range(shards)]
    pieces = [piece for part in parts for piece in part]
    assert "".join(pieces) == text.replace("\n", "") and len(pieces) > 10
    assert pieces[0] == "开头" and pieces[-1] == "结尾"


def test_the_last_byte_of_a_range_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "_READ", 16)
    path = tmp_path / "a.txt"
    path.write_bytes(b"abcdefghijklmno\nq")  # 17 bytes: one block and one byte
    f = corpus_files([path])[0]
    assert lines_of([TextRange(f, 0, f.size)]) == ["abcdefghijklmno", "q"]


def test_a_decoding_error_after_a_block_names_the_right_line(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "_READ", 16)
    path = tmp_path / "a.txt"
    path.write_bytes(b"a" * 16 + b"\n" + "第二行".encode("gb18030") + b"\n")  # line 2 starts at byte 17
    f = corpus_files([path])[0]
    with pytest.raises(UserError, match=r"a.txt, line 2: not valid utf-8"):
        lines_of([TextRange(f, 0, f.size)])


class BoundedReads:
    """A binary stream that fails when asked for everything at once or more than `limit` bytes."""

    def __init__(self, stream, limit=1 << 20):
        self.stream, self.limit = stream, limit

    def read(self, n=-1):
        assert n is not None and 0 <= n <= self.limit, f"read({n}) would hold the whole file"
        return self.stream.read(n)

    def seek(self, *args):
        return self.stream.seek(*args)

    def tell(self):
        return self.stream.tell()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stream.close()


def test_compressed_files_are_read_in_blocks(tmp_path, monkeypatch):
    text = "悟空道师父。\n" * 2000
    path = tmp_path / "a.txt.gz"
    path.write_bytes(gzip.compress(text.encode("utf-8")))
    monkeypatch.setitem(corpus._OPENERS, ".gz", lambda p, mode="rb": BoundedReads(gzip.open(p, mode)))
    f = corpus_files([path])[0].measured()
    assert f.text_size == len(text.encode("utf-8"))
    assert len(lines_of([TextRange(f, 0, f.text_size)])) == 2000


def test_boundaries_read_a_bounded_window(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "LONG_LINE", 64)
    monkeypatch.setattr(corpus, "_READ", 16)
    path = tmp_path / "a.txt"
    path.write_bytes(b"x" * 500 + b"\n" + b"y" * 500 + b"\n")
    with open(path, "rb") as raw:
        handle = BoundedReads(raw, 65)
        assert corpus.boundary(handle, 1002, 10, corpus._MARKS_UTF8) == 501
        assert corpus.boundary(handle, 1002, 495, corpus._MARKS_UTF8) == 501
