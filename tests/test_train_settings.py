"""TrainSettings: the checked, frozen settings of one model, and the keys it refuses."""

from __future__ import annotations

import dataclasses

import pytest

from w2v import config
from w2v.config import check_train_settings as full_settings
from w2v.errors import UserError
from w2v.training.settings import TrainSettings


def test_the_renamed_cbow_mean_key_is_refused_with_its_new_name():
    """`cbow_mean` picked a gradient rule, not gensim's sum-or-mean: an old config must not train on
    silently with the default in place of its value."""
    with pytest.raises(UserError, match=r"train\.cbow_mean is now train\.cbow_gradient .*word2vec, formerly gensim"):
        full_settings({"cbow_mean": "exact"})


def test_train_settings_fields_are_the_schema_train_keys():
    """TrainSettings names every key the schema's train section (and seed) holds, and no other."""
    assert {f.name for f in dataclasses.fields(TrainSettings)} == set(config.train_properties())
    settings = TrainSettings.from_mapping({"epochs": 3, "device": "cpu"})
    assert settings.epochs == 3 and settings.device == "cpu" and "device" not in settings.as_dict()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.epochs = 4  # type: ignore[misc]
    with pytest.raises(UserError, match="train.epochs"):
        settings.replace(epochs=0)


def test_derived_quantities_follow_the_loss_and_the_sharing():
    """Negatives drawn per example (none with the softmax) and the weight of a shared negative's term."""
    base = TrainSettings.from_mapping({"negative": 5})
    assert (base.negatives, base.negative_scale) == (5, 1.0)
    assert base.replace(loss="softmax").negatives == 0
    shared = base.replace(shared_negatives=20)
    assert shared.negative_scale == pytest.approx(5 / 20)
    assert TrainSettings.from_mapping({}).device == config.train_defaults(placement=True)["device"]
