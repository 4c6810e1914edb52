"""Reading the raw corpus as shards: encodings, BOM, CRLF, clear errors, and byte ranges that give
every line to exactly one shard (plain and compressed files, folders, one huge line)."""

from __future__ import annotations

import bz2
import gzip
import lzma
import random

import pytest

from w2v.errors import UserError
from w2v.text import corpus
from w2v.text.corpus import ShardReader, corpus_files, even_ranges

TEXT = "第一回 灵根育孕\n\n悟空道：“师父！”\n猪八戒笑了。\n"


def read(paths, shards=1, encoding="utf-8") -> list[list[str]]:
    files = corpus_files(paths if isinstance(paths, list) else [paths])
    return [list(ShardReader(even_ranges(files, shards, k), encoding)) for k in range(shards)]


def test_utf8_bom_and_crlf_read_like_plain_utf8(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_bytes(TEXT.encode("utf-8"))
    bom_crlf = tmp_path / "bom.txt"
    bom_crlf.write_bytes(b"\xef\xbb\xbf" + TEXT.replace("\n", "\r\n").encode("utf-8"))
    expected = [["第一回 灵根育孕", "", "悟空道：“师父！”", "猪八戒笑了。"]]
    assert read(plain) == expected
    assert read(bom_crlf) == expected


def test_lone_carriage_returns_end_lines(tmp_path):
    path = tmp_path / "mac.txt"
    path.write_bytes(TEXT.replace("\n", "\r").encode("utf-8"))
    assert [line for shard in read(path) for line in shard] == ["第一回 灵根育孕", "", "悟空道：“师父！”", "猪八戒笑了。"]


def test_gb18030_file_reads_with_its_encoding(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes(TEXT.replace("\n", "\r\n").encode("gb18030"))
    assert read(path, encoding="gb18030")[0][2] == "悟空道：“师父！”"


@pytest.mark.parametrize("shards", [1, 2, 3])
def test_gb18030_read_as_utf8_names_file_line_and_encoding_key(tmp_path, shards):
    path = tmp_path / "novel.txt"
    path.write_bytes(("ascii first line\n" * 40 + "second line\n" + TEXT).encode("gb18030"))
    with pytest.raises(UserError) as info:
        read(path, shards)
    message = str(info.value)
    assert str(path) in message
    assert "line 42" in message  # the file's line number, whichever shard met it
    assert "`encoding`" in message and "gb18030" in message


def test_unknown_and_unsplittable_encodings_name_the_key(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("x\n")
    with pytest.raises(UserError, match="unknown text encoding 'klingon'.*`encoding`"):
        read(path, encoding="klingon")
    with pytest.raises(UserError, match="utf-16.*`encoding`.*convert the corpus to UTF-8"):
        read(path, encoding="utf-16")


def test_empty_corpus_is_an_error(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(UserError, match="empty"):
        corpus_files([path])


def test_missing_corpus_and_empty_folder_name_the_key(tmp_path):
    with pytest.raises(UserError, match="does not exist.*`corpus`"):
        corpus_files([tmp_path / "nope.txt"])
    (tmp_path / "shelf").mkdir()
    with pytest.raises(UserError, match="holds no files.*`corpus`"):
        corpus_files([tmp_path / "shelf"])


def novel(n_lines: int, seed: int = 0) -> str:
    """Lines of varied length (some empty, some long) of random CJK characters and punctuation."""
    rng = random.Random(seed)
    chars = [chr(c) for c in range(0x4E00, 0x4E00 + 800)] + list("，。！？“”")
    lines = []
    for _ in range(n_lines):
        n = rng.choice([0, 3, 20, 80, 300, 1500])
        lines.append("".join(rng.choice(chars) for _ in range(n)))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("shards", [1, 2, 3, 7, 20, 64])
def test_shards_cover_every_line_once_in_order(tmp_path, shards):
    text = novel(40)
    path = tmp_path / "novel.txt"
    path.write_text(text, encoding="utf-8")
    parts = read(path, shards)
    assert len(parts) == shards
    assert [line for part in parts for line in part] == text.split("\n")[:-1]
    if shards <= 7:
        assert all(parts), "every shard of a 40-line corpus gets lines"


def test_more_shards_than_lines_leaves_some_empty(tmp_path):
    path = tmp_path / "two.txt"
    path.write_text("悟空\n八戒\n", encoding="utf-8")
    parts = read(path, 5)
    assert [line for part in parts for line in part] == ["悟空", "八戒"]
    assert sum(1 for part in parts if not part) == 3


def test_shards_balance_bytes_not_lines(tmp_path):
    path = tmp_path / "uneven.txt"
    path.write_text("长" * 300 + "\n" + "\n".join(["短"] * 400) + "\n", encoding="utf-8")
    first, second = read(path, 2)
    # 901 bytes in the first line, 1,600 in the short ones: half of 2,501 bytes is 88 short lines on
    assert first[0] == "长" * 300 and 80 < len(first) < 100 and len(first) + len(second) == 401


def test_one_huge_line_splits_at_sentence_ends(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "LONG_LINE", 64)
    sentence = "悟空笑道师父放心。"  # 27 bytes, ends with a sentence mark
    text = sentence * 50
    path = tmp_path / "one-line.txt"
    path.write_text(text, encoding="utf-8")  # no line end at all
    for shards in (1, 3, 8):
        parts = read(path, shards)
        pieces = [piece for part in parts for piece in part]
        assert "".join(pieces) == text
        assert all(piece.endswith("。") for piece in pieces)
        assert all(len(piece.encode()) <= 2 * 64 for piece in pieces)  # memory stays bounded
        if shards > 1:
            assert sum(1 for part in parts if part) == shards


@pytest.mark.parametrize("suffix, opener", [(".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)])
def test_compressed_files_read_as_streams_and_split(tmp_path, suffix, opener):
    text = novel(1500, seed=1)  # ~1.7 MB: several reads of the decompressor, so shards get lines
    plain = tmp_path / "novel.txt"
    plain.write_text(text, encoding="utf-8")
    packed = tmp_path / f"novel.txt{suffix}"
    with opener(packed, "wb") as handle:
        handle.write(text.encode("utf-8"))
    expected = text.split("\n")[:-1]
    assert read(packed) == [expected]
    parts = read(packed, 3)
    assert [line for part in parts for line in part] == expected
    assert sum(1 for part in parts if part) >= 2


def test_a_folder_reads_its_files_in_name_order_across_shards(tmp_path):
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    books = {"b.txt": novel(10, 2), "a.txt.gz": novel(10, 3), "c.txt": novel(10, 4)}
    for name, text in books.items():
        data = text.encode("utf-8")
        (shelf / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    (shelf / ".hidden.txt").write_text("never read\n", encoding="utf-8")
    expected = [line for name in sorted(books) for line in books[name].split("\n")[:-1]]
    for shards in (1, 2, 5):
        assert [line for part in read(shelf, shards) for line in part] == expected


# --- shard edges: a cut that falls exactly on a line start -------------------------------------


def _write(path, data: bytes, suffix: str):
    openers = {"": open, ".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
    with openers[suffix](path, "wb") as handle:
        handle.write(data)
    return path


@pytest.mark.parametrize("suffix", ["", ".gz", ".bz2", ".xz"])
def test_a_cut_on_a_line_start_gives_that_line_to_the_later_shard_only(tmp_path, suffix):
    """Lines of 64 bytes start at every multiple of 64 (so at 8,192, a decompressor's block size):
    two ranges meeting there must hand out each line once, the line at the cut to the second."""
    lines = [f"{i:05d}" + "x" * 58 for i in range(300)]
    data = "".join(line + "\n" for line in lines).encode("ascii")
    path = _write(tmp_path / f"lines.txt{suffix}", data, suffix)
    f = corpus_files([path])[0].measured()
    assert f.text_size == len(data)
    for cut in (64, 8192, 64 * 200, 64 * 137 + 1, 64 * 137 - 1):
        first = list(ShardReader([corpus.TextRange(f, 0, cut)]))
        second = list(ShardReader([corpus.TextRange(f, cut, f.text_size)]))
        assert first + second == lines, (suffix, cut)
        if cut % 64 == 0:
            assert second[0] == lines[cut // 64], (suffix, cut)


# --- shards that belong to files ---------------------------------------------------------------


def _shelf(tmp_path, books: dict[str, bytes]):
    shelf = tmp_path / "shelf"
    shelf.mkdir(exist_ok=True)
    for name, data in books.items():
        (shelf / name).write_bytes(data)
    return shelf


def _plan(shelf, shard_bytes):
    return {s.name: s.spec() for s in corpus.plan_shards(corpus_files([shelf]), shard_bytes)}


def test_adding_removing_or_changing_a_file_moves_no_other_shard(tmp_path):
    books = {f"{name}.txt": novel(40, seed).encode("utf-8") for seed, name in enumerate("abcdef")}
    books["tiny1.txt"], books["tiny2.txt"] = b"short\n", b"shorter\n"
    shelf = _shelf(tmp_path, books)
    size = len(books["a.txt"])
    before = _plan(shelf, size // 2)
    assert sum(1 for name in before if name.startswith("a_txt-")) == 2  # a file's own pieces, named after it
    assert sum(1 for name in before if name.startswith("small-")) <= 2  # small files share hashed buckets
    _shelf(tmp_path, {"new.txt": novel(40, 9).encode("utf-8")})
    added = _plan(shelf, size // 2)
    assert {k: v for k, v in added.items() if "new.txt" not in v} == before
    (shelf / "c.txt").unlink()
    removed = _plan(shelf, size // 2)
    assert {k: v for k, v in removed.items() if "new.txt" not in v} == {k: v for k, v in before.items() if "c.txt" not in v}
    (shelf / "d.txt").write_bytes(books["d.txt"] + novel(5, 11).encode("utf-8"))
    changed = _plan(shelf, size // 2)
    assert {k for k in changed if changed[k] != removed.get(k)} == {k for k in changed if "d.txt" in changed[k]}


def test_shards_follow_the_text_compressed_or_not(tmp_path):
    """A gzipped novel and a plain one of the same text get the same number of shards."""
    text = novel(300, seed=5).encode("utf-8")
    shelf = _shelf(tmp_path, {"plain.txt": text, "packed.txt.gz": gzip.compress(text)})
    cache = tmp_path / "sizes.json"
    shards = corpus.plan_corpus([shelf], len(text) / 4e6, cache=cache)
    assert sum("plain_txt" in s.name for s in shards) == sum("packed_txt_gz" in s.name for s in shards) == 4
    assert str(shelf / "packed.txt.gz") in cache.read_text(encoding="utf-8")  # measured once, kept
    for s in shards:
        lines = list(ShardReader(list(s.ranges)))
        assert abs(sum(len(line.encode()) + 1 for line in lines) - len(text) / 4) < len(text) / 10, s.name
    read_back = [line for s in shards for line in ShardReader(list(corpus.ranges_from_spec(s.spec())))]
    assert read_back == 2 * text.decode("utf-8").split("\n")[:-1]
