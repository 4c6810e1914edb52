"""Pairs edges found by mutation testing (benchmarks/mutation.sh pairs): partitioned datasets,
metadata checks, windows and sentence batches."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from w2v.data import pairs
from w2v.errors import UserError
from w2v.data.pairs import Part, read_dataset_metadata, read_pairs_metadata, write_pairs
from w2v.data.vocab import build_vocab, write_vocab

SHARDS = ["悟空 道 师父\n八戒 悟空\n", "师父 道\n", "稀 稀罕\n", "八戒 道 悟空 师父 八戒\n"]


@pytest.fixture()
def vocab(tmp_path):
    vocab = build_vocab(Counter(w for text in SHARDS for w in text.split()), min_count=2)
    write_vocab(vocab, tmp_path / "vocab.tsv")  # sets vocab.sha256
    return vocab


def write_parts(tmp_path, vocab, shards=SHARDS, window=2, seed=1, model="cbow"):
    """One pairs file per shard, as the workflow writes them; returns the folder."""
    folder = tmp_path / model
    folder.mkdir(exist_ok=True)
    position = 0
    for k, text in enumerate(shards):
        tokens = tmp_path / f"tok-{k}.txt"
        tokens.write_text(text, encoding="utf-8")
        out = folder / f"part-{k}.parquet"
        stats = write_pairs(tokens, vocab, out if model == "cbow" else None, out if model != "cbow" else None,
                            window, seed, part=Part(k, len(shards), position))
        position += stats.n_tokens
    return folder


def test_a_dataset_totals_its_parts_in_part_order(tmp_path, vocab):
    folder = write_parts(tmp_path, vocab)
    meta, files = read_dataset_metadata(folder)
    assert [f.name for f in files] == [f"part-{k}.parquet" for k in range(4)]
    assert meta == {"format": "cbow-pairs-1", "window": 2, "vocab_sha256": vocab.sha256, "seed": 1,
                    "parts": 4, "n_tokens": 3 + 2 + 2 + 0 + 5, "n_sentences": 4}
    # listed out of order, the parts still come back in part order
    meta2, files2 = read_dataset_metadata([folder / "part-3.parquet", *sorted(folder.glob("part-[0-2]*"))[::-1]])
    assert meta2 == meta and files2 == files


def test_positions_continue_across_parts(tmp_path, vocab):
    folder = write_parts(tmp_path, vocab)
    positions = [p for f in sorted(folder.glob("*.parquet")) for p in pq.read_table(f).column("position").to_pylist()]
    assert positions == list(range(12))


def test_an_empty_part_is_allowed_but_an_empty_dataset_is_not(tmp_path, vocab):
    write_parts(tmp_path, vocab)  # part 2 holds no vocabulary word
    assert read_pairs_metadata(tmp_path / "cbow" / "part-2.parquet")["n_tokens"] == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    write_parts(empty, vocab, shards=["稀\n", "稀罕\n"])
    with pytest.raises(UserError, match=r"the pairs dataset .*empty.* holds no tokens"):
        read_dataset_metadata(empty / "cbow")


@pytest.mark.parametrize("key, change", [("window", {"window": 3}), ("seed", {"seed": 2}),
                                         ("format", {"model": "skipgram"})])
def test_parts_of_different_datasets_are_refused(tmp_path, vocab, key, change):
    folder = write_parts(tmp_path, vocab)
    other_root = tmp_path / "other"
    other_root.mkdir()
    other = write_parts(other_root, vocab, **change)
    mixed = [folder / "part-0.parquet", *sorted(other.glob("part-[1-3]*"))]
    with pytest.raises(UserError, match=rf"belong to different pairs datasets \(metadata w2v.{key}:"):
        read_dataset_metadata(mixed)


def test_parts_of_another_vocabulary_or_part_count_are_refused(tmp_path, vocab):
    folder = write_parts(tmp_path, vocab)
    other_vocab = build_vocab(Counter({"悟空": 5, "道": 4, "师父": 3, "八戒": 3, "沙僧": 2}), min_count=2)
    write_vocab(other_vocab, tmp_path / "other-vocab.tsv")
    root = tmp_path / "v2"
    root.mkdir()
    other = write_parts(root, other_vocab)
    with pytest.raises(UserError, match=r"metadata w2v.vocab_sha256"):
        read_dataset_metadata([folder / "part-0.parquet", *sorted(other.glob("part-[1-3]*"))])
    root = tmp_path / "three"
    root.mkdir()
    three = write_parts(root, vocab, shards=SHARDS[:3])
    with pytest.raises(UserError, match=r"metadata w2v.parts: 3 vs 4"):
        read_dataset_metadata([folder / "part-0.parquet", three / "part-1.parquet", three / "part-2.parquet"])


def test_a_missing_or_misplaced_part_is_named(tmp_path, vocab):
    folder = write_parts(tmp_path, vocab)
    with pytest.raises(UserError, match=r"part-3.parquet: part 3 \(first position 7\) does not follow the parts "
                                        r"before it \(expected part 2 at position 7\)"):
        read_dataset_metadata([folder / f"part-{k}.parquet" for k in (0, 1, 3)])
    with pytest.raises(UserError, match=r"the pairs dataset has 3 of its 4 part files"):
        read_dataset_metadata([folder / f"part-{k}.parquet" for k in (0, 1, 2)])


def test_a_part_at_the_wrong_position_is_refused(tmp_path, vocab):
    folder = write_parts(tmp_path, vocab)
    tokens = tmp_path / "tok-1.txt"
    write_pairs(tokens, vocab, folder / "part-1.parquet", None, 2, 1, part=Part(1, 4, 4))  # part 0 holds 5 tokens
    with pytest.raises(UserError, match=r"part 1 \(first position 4\) .* \(expected part 1 at position 5\)"):
        read_dataset_metadata(folder)


def test_dataset_files_of_a_folder_list_or_nothing(tmp_path, vocab):
    folder = write_parts(tmp_path, vocab)
    (folder / "notes.txt").write_text("not a part", encoding="utf-8")
    assert pairs.dataset_files(folder) == sorted(folder.glob("*.parquet"))
    assert pairs.dataset_files(str(folder / "part-1.parquet")) == [folder / "part-1.parquet"]
    assert pairs.dataset_files((folder / "part-1.parquet", folder)) == [folder / "part-1.parquet", *sorted(folder.glob("*.parquet"))]
    (tmp_path / "hollow").mkdir()
    with pytest.raises(UserError, match=r"pairs folder .*hollow holds no .parquet files; rerun `w2v pairs`"):
        pairs.dataset_files(tmp_path / "hollow")
    with pytest.raises(UserError, match=r"no pairs file given"):
        pairs.dataset_files([])


def test_a_part_with_another_token_count_than_the_statistics_is_refused(tmp_path, vocab):
    tokens = tmp_path / "tok.txt"
    tokens.write_text(SHARDS[0], encoding="utf-8")
    with pytest.raises(UserError, match=r"tok.txt holds 5 vocabulary tokens, but the corpus statistics say 6 for part 2"):
        write_pairs(tokens, vocab, tmp_path / "c.parquet", None, 2, 1, part=Part(2, 4, 0, expected_tokens=6))
    assert not (tmp_path / "c.parquet").exists()
    stats = write_pairs(tokens, vocab, tmp_path / "c.parquet", None, 2, 1, part=Part(2, 4, 0, expected_tokens=5))
    assert stats.n_tokens == 5


def with_metadata(tmp_path, source, changes: dict):
    """A copy of the pairs file `source` with its w2v.* metadata changed (None removes a key)."""
    table = pq.read_table(source)
    meta = {k.decode(): v.decode() for k, v in pq.read_metadata(source).metadata.items() if k.startswith(b"w2v.")}
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    out = tmp_path / "edited.parquet"
    pq.write_table(table.replace_schema_metadata(meta), out)
    return out


@pytest.mark.parametrize("key", ["w2v.window", "w2v.n_tokens", "w2v.n_sentences", "w2v.seed"])
def test_an_integer_key_missing_or_not_an_integer_is_named(tmp_path, vocab, key):
    source = write_parts(tmp_path, vocab) / "part-0.parquet"
    for value in (None, "three"):
        with pytest.raises(UserError, match=rf"edited.parquet: metadata {key} is missing or not an integer; rerun `w2v pairs`"):
            read_pairs_metadata(with_metadata(tmp_path, source, {key: value}))


@pytest.mark.parametrize("key", ["w2v.part", "w2v.parts", "w2v.first_position"])
def test_part_keys_default_to_a_single_part_and_must_be_integers(tmp_path, vocab, key):
    source = write_parts(tmp_path, vocab) / "part-1.parquet"
    defaults = {"w2v.part": 0, "w2v.parts": 1, "w2v.first_position": 0}
    meta = read_pairs_metadata(with_metadata(tmp_path, source, {key: None}))
    assert meta[key[4:]] == defaults[key] and isinstance(meta[key[4:]], int)
    with pytest.raises(UserError, match=rf"edited.parquet: metadata {key} is not an integer"):
        read_pairs_metadata(with_metadata(tmp_path, source, {key: "x"}))


def test_a_file_without_the_vocabulary_hash_is_refused(tmp_path, vocab):
    source = write_parts(tmp_path, vocab) / "part-0.parquet"
    with pytest.raises(UserError, match=r"metadata w2v.vocab_sha256 is missing"):
        read_pairs_metadata(with_metadata(tmp_path, source, {"w2v.vocab_sha256": None}))


@pytest.mark.parametrize("window", [0, 128])
def test_window_bounds(tmp_path, vocab, window):
    tokens = tmp_path / "tok.txt"
    tokens.write_text(SHARDS[0], encoding="utf-8")
    with pytest.raises(ValueError, match=rf"window must be in 1..127, got {window}"):
        write_pairs(tokens, vocab, tmp_path / "c.parquet", None, window, 1)


def test_windows_1_and_127_are_accepted(tmp_path, vocab):
    tokens = tmp_path / "tok.txt"
    tokens.write_text(SHARDS[3], encoding="utf-8")
    for window in (1, 127):
        write_pairs(tokens, vocab, None, tmp_path / "s.parquet", window, 1)
        offsets = pq.read_table(tmp_path / "s.parquet").column("offset").to_pylist()
        assert max(offsets) == 4 and min(offsets) == -4 if window == 127 else set(offsets) == {-1, 1}


def test_a_path_is_needed(tmp_path, vocab):
    with pytest.raises(ValueError, match="needs a CBOW or a skip-gram path"):
        write_pairs(tmp_path / "tok.txt", vocab, None, None, 2, 1)


def test_sentence_batches_hold_whole_sentences_of_about_the_batch_size(tmp_path, vocab):
    tokens = tmp_path / "tok.txt"
    tokens.write_text("悟空 道\n稀\n师父 八戒 道\n悟空\n道 道 道 道\n", encoding="utf-8")
    batches = list(pairs.iter_sentence_batches(tokens, vocab, batch_tokens=3))
    assert [lengths.tolist() for _, lengths in batches] == [[2, 3], [1, 4]]
    assert [ids.dtype for ids, _ in batches] == [np.int32, np.int32]
    assert [lengths.dtype for _, lengths in batches] == [np.int64, np.int64]
    ids = np.concatenate([i for i, _ in batches]).tolist()
    assert ids == [vocab.token_to_id[w] for w in "悟空 道 师父 八戒 道 悟空 道 道 道 道".split()]


# ---------------------------------------------------------------- writing: batches, files, progress, log
LONG = "悟空 道 师父\n八戒 悟空 道\n师父 道\n悟空 八戒 师父 道 悟空\n道 悟空\n"


def tables(tmp_path, vocab, name, **kwargs):
    tokens = tmp_path / "long.txt"
    tokens.write_text(LONG, encoding="utf-8")
    cbow, skipgram = tmp_path / f"{name}-c.parquet", tmp_path / f"{name}-s.parquet"
    write_pairs(tokens, vocab, cbow, skipgram, 2, 1, **kwargs)
    return pq.read_table(cbow).to_pydict(), pq.read_table(skipgram).to_pydict()


@pytest.mark.parametrize("batch_tokens, row_group_size", [(2, 65_536), (5, 65_536), (2, 3), (7, 4)])
def test_the_files_do_not_depend_on_batches_or_row_groups(tmp_path, vocab, batch_tokens, row_group_size):
    whole = tables(tmp_path, vocab, "whole")
    assert len(whole[0]["position"]) == 15
    assert tables(tmp_path, vocab, "parts", batch_tokens=batch_tokens, row_group_size=row_group_size) == whole


def test_sentences_reach_the_window_code_in_runs_of_about_batch_tokens(tmp_path, vocab, monkeypatch):
    seen = []
    original = pairs.context_matrix

    def spy(ids, lengths, window):
        seen.append(len(ids))
        return original(ids, lengths, window)

    monkeypatch.setattr(pairs, "context_matrix", spy)
    tables(tmp_path, vocab, "b", batch_tokens=4)
    assert seen == [6, 7, 2]  # whole sentences, each run closed once it holds 4 tokens


def test_the_files_are_complete_when_write_pairs_returns(tmp_path, vocab, monkeypatch):
    # Each Parquet writer is closed (its footer written) before the file is renamed into place, not
    # when Python happens to collect it: the references kept here stop that.
    kept = []

    class KeptWriter(pq.ParquetWriter):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            kept.append(self)

    monkeypatch.setattr(pairs.pq, "ParquetWriter", KeptWriter)
    whole = tables(tmp_path, vocab, "kept")
    assert len(kept) == 2 and len(whole[1]["position"]) > 0


def test_stats_count_no_rows_for_a_model_not_written(tmp_path, vocab):
    tokens = tmp_path / "long.txt"
    tokens.write_text(LONG, encoding="utf-8")
    only_sg = write_pairs(tokens, vocab, None, tmp_path / "s.parquet", 2, 1)
    only_cbow = write_pairs(tokens, vocab, tmp_path / "c.parquet", None, 2, 1)
    assert (only_sg.cbow_rows, only_cbow.skipgram_rows) == (0, 0)
    assert only_sg.skipgram_rows > 0 and only_cbow.cbow_rows == 15


def test_progress_counts_tokens_and_stays_quiet_off_a_terminal(tmp_path, vocab, monkeypatch, capsys):
    tables(tmp_path, vocab, "quiet")
    assert capsys.readouterr().err == ""  # not a terminal: no progress bar in the logs
    counted = []

    class Progress:
        def __init__(self, **kwargs):
            pass

        def update(self, n):
            counted.append(n)

        def close(self):
            pass

    monkeypatch.setattr(pairs, "tqdm", Progress)
    tables(tmp_path, vocab, "counted", batch_tokens=4)
    assert counted == [6, 7, 2]


def test_the_summary_is_logged(tmp_path, vocab, caplog):
    with caplog.at_level("INFO", logger="w2v.data.pairs"):
        tables(tmp_path, vocab, "logged")
    assert [r.getMessage() for r in caplog.records if r.name == "w2v.data.pairs"] == [
        "pairs: 15 tokens in 5 sentences, 15 CBOW rows, 30 skip-gram rows (window 2)"]


# ---------------------------------------------------------------- reading: messages
def test_a_missing_pairs_file_names_itself_and_the_fix(tmp_path):
    with pytest.raises(UserError, match=r"^pairs file .*missing.parquet does not exist; rerun `w2v pairs` \(rule pairs\)$"):
        read_pairs_metadata(tmp_path / "missing.parquet")


def test_a_foreign_file_names_the_format_it_holds(tmp_path):
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1]}).replace_schema_metadata({"w2v.format": "glove-1"}), other)
    with pytest.raises(UserError, match=r"metadata w2v.format is 'glove-1', expected 'cbow-pairs-1'"):
        read_pairs_metadata(other)


def test_metadata_that_is_not_utf8_gives_a_clear_error(tmp_path):
    odd = tmp_path / "odd.parquet"
    pq.write_table(pa.table({"x": [1]}).replace_schema_metadata({b"w2v.format": b"\xff\xfe", b"\xff": b"x"}), odd)
    with pytest.raises(UserError, match="odd.parquet is not a w2v pairs file \\(metadata w2v.format is '\ufffd\ufffd'"):
        read_pairs_metadata(odd)


def test_dataset_errors_say_how_to_rebuild_it(tmp_path, vocab):
    folder = write_parts(tmp_path, vocab)
    with pytest.raises(UserError, match=r"; delete the pairs folder and rerun `w2v pairs` for every shard \(rule pairs\)$"):
        read_dataset_metadata([folder / f"part-{k}.parquet" for k in (0, 1, 2)])
