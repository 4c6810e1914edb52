"""Resume only what was trained under the same settings: every key that decides the vectors is in a
checkpoint's fingerprint, and the keys that only place the run (device, the worker count among
Hogwild runs) are not.

The keys come from the config schema, so a train key added there is checked here without a test edit.
"""

from __future__ import annotations

import logging

import pytest

from w2v.config import PLACEMENT_KEYS, train_properties
from w2v.data.pairs import read_dataset_metadata, write_pairs
from w2v.config import check_train_settings as full_settings
from helpers import train_files as train
from w2v.training.checkpoint import FORMAT, fingerprint, load_checkpoint, save_checkpoint
from w2v.data.vocab import load_vocab

BASE = {"vector_size": 8, "epochs": 3, "sample": 0.0, "batch_size": 64, "seed": 3, "workers": 1, "device": "cpu"}
# Keys whose change must still resume; every other train key must not.
RESUMING = {"device": "auto"}


def other_value(key: str, settings: dict) -> object:
    """A valid value of train setting `key` other than its value in `settings`, from the schema."""
    prop, current = train_properties()[key], settings[key]
    if "enum" in prop:
        return next(v for v in prop["enum"] if v != current)
    if prop["type"] == "boolean":
        return not current
    if prop["type"] == "integer":
        return current + 1 if current + 1 <= prop.get("maximum", current + 1) else current - 1
    return current / 2 if current else 1e-4


def deciding_keys() -> list[str]:
    return [k for k in train_properties() if k not in PLACEMENT_KEYS]


def test_every_train_key_is_either_deciding_or_placement():
    assert set(deciding_keys()) | set(PLACEMENT_KEYS) == set(train_properties())
    assert set(RESUMING) == set(PLACEMENT_KEYS)  # a new placement key gets a resume case above


@pytest.fixture(scope="module")
def inputs(zipf_pairs):
    vocab = load_vocab(zipf_pairs / "vocab.tsv")
    meta, _ = read_dataset_metadata(zipf_pairs / "cbow.parquet")
    return {"sha": vocab.sha256, "meta": meta, "rows": 600, "cfg": full_settings(BASE)}


def fp(inputs, model="cbow", settings=None, sha=None, meta=None, rows=None) -> str:
    return fingerprint(model, inputs["cfg"] if settings is None else settings, sha or inputs["sha"],
                       inputs["meta"] if meta is None else meta, inputs["rows"] if rows is None else rows)


@pytest.mark.parametrize("key", deciding_keys())
def test_fingerprint_changes_with_every_deciding_setting(inputs, key):
    changed = full_settings({**BASE, key: other_value(key, {**inputs["cfg"], **BASE})})
    if key == "workers":  # among Hogwild runs the count does not decide; one worker against several does
        assert fp(inputs, settings={**inputs["cfg"], "workers": 3}) == fp(inputs, settings=changed)
    assert fp(inputs, settings=changed) != fp(inputs)


def test_fingerprint_changes_with_the_pairs_metadata_vocabulary_rows_and_model(inputs):
    reference = fp(inputs)
    for key, value in inputs["meta"].items():
        changed = {**inputs["meta"], key: value + 1 if isinstance(value, int) else value + "x"}
        assert fp(inputs, meta=changed) != reference, key
    assert fp(inputs, sha="0" * 64) != reference
    assert fp(inputs, rows=599) != reference
    assert fp(inputs, model="skipgram") != reference
    assert fp(inputs) == reference  # and nothing else moves it


def test_placement_keys_do_not_change_the_fingerprint(inputs):
    for key, value in RESUMING.items():
        assert fp(inputs, settings={**inputs["cfg"], key: value}) == fp(inputs)


def resume(zipf_pairs, tmp_path, first: dict, second: dict, pairs: str = "cbow.parquet") -> dict:
    """Train `first` for one epoch (checkpoint kept), then run `second` on the same checkpoint."""
    ckpt = tmp_path / "ckpt.npz"
    args = ("cbow", zipf_pairs / "cbow.parquet", zipf_pairs / "vocab.tsv")
    train(*args, first, tmp_path / "a.vec", tmp_path / "a.json", checkpoint_path=ckpt, device="cpu", stop_after=1)
    assert ckpt.exists()
    return train("cbow", zipf_pairs / pairs, zipf_pairs / "vocab.tsv", second, tmp_path / "b.vec",
                 tmp_path / "b.json", checkpoint_path=ckpt, device="cpu", stop_after=1)


def test_same_settings_resume_after_the_checkpointed_epoch(zipf_pairs, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="w2v.training.train"):
        history = resume(zipf_pairs, tmp_path, BASE, BASE)
    assert [e["epoch"] for e in history["epochs"]] == [1, 2]  # epoch 1 came from the checkpoint
    assert "resuming cbow" in caplog.text


@pytest.mark.parametrize("key", deciding_keys())
def test_a_changed_setting_ignores_the_checkpoint(zipf_pairs, tmp_path, caplog, key):
    second = {**BASE, key: other_value(key, full_settings(BASE))}
    with caplog.at_level(logging.WARNING, logger="w2v.training.checkpoint"):
        history = resume(zipf_pairs, tmp_path, BASE, second)
    assert [e["epoch"] for e in history["epochs"]] == [1], f"{key}: the old checkpoint was resumed"
    assert "written for other settings" in caplog.text


@pytest.mark.parametrize("key", sorted(RESUMING))
def test_a_changed_placement_key_still_resumes(zipf_pairs, tmp_path, key):
    history = resume(zipf_pairs, tmp_path, BASE, {**BASE, key: RESUMING[key]})
    assert [e["epoch"] for e in history["epochs"]] == [1, 2]


def test_hogwild_runs_resume_across_worker_counts(zipf_pairs, tmp_path):
    history = resume(zipf_pairs, tmp_path, {**BASE, "workers": 2}, {**BASE, "workers": 3})
    assert [e["epoch"] for e in history["epochs"]] == [1, 2]


def test_other_pairs_ignore_the_checkpoint(zipf_pairs, tmp_path):
    # Same vocabulary and window, pairs drawn with another seed: the pairs metadata differs.
    write_pairs(zipf_pairs / "tokens.txt", load_vocab(zipf_pairs / "vocab.tsv"), tmp_path / "cbow.parquet",
                tmp_path / "skipgram.parquet", window=3, seed=2, row_group_size=500)
    history = resume(zipf_pairs, tmp_path, BASE, BASE, pairs=str(tmp_path / "cbow.parquet"))
    assert [e["epoch"] for e in history["epochs"]] == [1]


def test_fingerprint_ignores_the_order_of_the_settings(inputs):
    reordered = dict(reversed(list(inputs["cfg"].items())))
    assert list(reordered) != list(inputs["cfg"])
    assert fp(inputs, settings=reordered) == fp(inputs)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, None),  # no file: nothing to say
        (b"not a zip file", "ignoring unreadable checkpoint {path} ("),
        ({"format": "something-else", "fingerprint": "x"}, "ignoring {path}: not a w2v training checkpoint;"),
        ({"format": FORMAT, "fingerprint": "other"}, "ignoring checkpoint {path}: it was written for other settings"),
    ],
)
def test_checkpoints_that_cannot_be_resumed_are_ignored_with_a_reason(tmp_path, caplog, content, message):
    path = tmp_path / "ckpt.npz"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        save_checkpoint(path, content)
    with caplog.at_level(logging.WARNING, logger="w2v.training.checkpoint"):
        assert load_checkpoint(path, "expected") is None
    if message is None:
        assert caplog.records == []
        return
    [record] = caplog.records
    text = record.getMessage()
    assert text.startswith(message.format(path=path)) and text.endswith("; training from scratch"), text
    assert "(None)" not in text  # an unreadable file's error is named


def test_a_matching_checkpoint_is_returned_whole(tmp_path):
    save_checkpoint(tmp_path / "ckpt.npz", {"fingerprint": "abc", "epoch": 3})
    state = load_checkpoint(tmp_path / "ckpt.npz", "abc")
    assert state["format"] == FORMAT and state["epoch"] == 3
