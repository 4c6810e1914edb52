"""`w2v export` (TensorBoard Projector files, gensim's word2vec2tensor layout) and `w2v convert`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from w2v.cli import main
from w2v.vectors import KeyedVectors, is_binary_word2vec

DATA = Path(__file__).parent / "data" / "eval"
VECS = [DATA / "cbow.vec", DATA / "skipgram.vec"]


def test_export_writes_tensors_metadata_and_config(tmp_path) -> None:
    assert main(["export", *map(str, VECS), "-o", str(tmp_path / "proj"), "--vocab", str(DATA / "vocab.tsv")]) == 0
    config = json.loads((tmp_path / "proj" / "projector_config.json").read_text(encoding="utf-8"))
    counts = {t: c for _, t, c in (line.split("\t") for line in (DATA / "vocab.tsv").read_text(encoding="utf-8").splitlines()[1:])}
    for entry, path in zip(config["embeddings"], VECS):
        kv = KeyedVectors.load_word2vec_format(path)
        assert entry == {"tensorName": path.stem, "tensorShape": [len(kv), kv.vector_size],
                         "tensorPath": f"{path.stem}_tensor.tsv", "metadataPath": f"{path.stem}_metadata.tsv"}
        tensor = np.loadtxt(tmp_path / "proj" / entry["tensorPath"], delimiter="\t", dtype=np.float32)
        np.testing.assert_array_equal(tensor, kv.vectors)
        rows = (tmp_path / "proj" / entry["metadataPath"]).read_text(encoding="utf-8").splitlines()
        assert rows[0] == "word\tcount"
        assert rows[1:] == [f"{w}\t{counts[w]}" for w in kv.index_to_key]


def test_export_matches_gensims_word2vec2tensor(tmp_path) -> None:
    word2vec2tensor = pytest.importorskip("gensim.scripts.word2vec2tensor").word2vec2tensor
    word2vec2tensor(str(VECS[0]), str(tmp_path / "gensim"))
    assert main(["export", str(VECS[0]), "-o", str(tmp_path / "ours")]) == 0
    theirs = np.loadtxt(tmp_path / "gensim_tensor.tsv", delimiter="\t", dtype=np.float32)
    ours = np.loadtxt(tmp_path / "ours" / "cbow_tensor.tsv", delimiter="\t", dtype=np.float32)
    np.testing.assert_array_equal(ours, theirs)
    their_words = (tmp_path / "gensim_metadata.tsv").read_text(encoding="utf-8").splitlines()
    our_rows = (tmp_path / "ours" / "cbow_metadata.tsv").read_text(encoding="utf-8").splitlines()
    assert our_rows[0] == "word\trank"  # two columns, so the Projector reads the header as one
    assert [row.split("\t")[0] for row in our_rows[1:]] == their_words


def test_export_detects_binary_vectors(tmp_path) -> None:
    binary = tmp_path / "binary.bin"
    KeyedVectors.load_word2vec_format(VECS[0]).save_word2vec_format(binary, binary=True)
    assert main(["export", str(binary), str(VECS[1]), "-o", str(tmp_path / "b")]) == 0  # no --binary
    assert main(["export", str(VECS[0]), "-o", str(tmp_path / "t")]) == 0
    assert ((tmp_path / "b" / "binary_tensor.tsv").read_text(encoding="utf-8")
            == (tmp_path / "t" / f"{VECS[0].stem}_tensor.tsv").read_text(encoding="utf-8"))


def test_export_needs_distinct_names(tmp_path, capsys) -> None:
    assert main(["export", str(VECS[0]), str(VECS[0]), "-o", str(tmp_path / "p")]) == 2
    assert "distinct names" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_convert_round_trip_and_detection(tmp_path) -> None:
    kv = KeyedVectors.load_word2vec_format(VECS[0])
    binary, text = tmp_path / "cbow.bin", tmp_path / "back.vec"
    assert main(["convert", str(VECS[0]), str(binary)]) == 0  # .bin: binary
    assert is_binary_word2vec(binary) and not is_binary_word2vec(VECS[0])
    assert main(["convert", str(binary), str(text)]) == 0  # detected as binary, written as text
    back = KeyedVectors.load_word2vec_format(text)
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(back.vectors, kv.vectors)
    assert main(["convert", str(text), str(tmp_path / "x.vectors"), "--to", "binary"]) == 0
    assert (tmp_path / "x.vectors").read_bytes() == binary.read_bytes()
    gensim = pytest.importorskip("gensim.models")
    theirs = gensim.KeyedVectors.load_word2vec_format(str(binary), binary=True)
    np.testing.assert_array_equal(theirs.vectors, kv.vectors)
    theirs.save_word2vec_format(str(tmp_path / "gensim.bin"), binary=True)  # gensim's layout: no row newline
    assert main(["convert", str(tmp_path / "gensim.bin"), str(tmp_path / "g.vec")]) == 0
    np.testing.assert_array_equal(KeyedVectors.load_word2vec_format(tmp_path / "g.vec").vectors, kv.vectors)


def test_convert_reports_a_wrong_format(tmp_path, capsys) -> None:
    binary = tmp_path / "cbow.bin"
    assert main(["convert", str(VECS[0]), str(binary)]) == 0
    assert main(["convert", str(binary), str(tmp_path / "t.vec"), "--from", "text"]) == 2
    assert "not valid UTF-8; is this a binary file" in capsys.readouterr().err
    assert not (tmp_path / "t.vec").exists()
    assert main(["convert", str(tmp_path / "missing.vec"), str(tmp_path / "t.vec")]) == 2
    assert "not found" in capsys.readouterr().err
