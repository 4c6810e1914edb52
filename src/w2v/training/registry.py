"""The models this package trains, by name: each name's model class, pairs layout and example mask.

A new model is one new entry here (and its `train.<name>` section in the config schema, which
lists the names a config may use: `w2v.config.model_names`). The workflow, the `w2v train` command
and the readers take the names and the layouts from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from w2v.data.chars import Composition
from w2v.config import model_names
from w2v.data.pairs import CBOW_PAIRS, SKIPGRAM_PAIRS, PairsLayout
from w2v.errors import UserError
from w2v.training.models import CBOW, Init, SkipGram, Word2Vec
from w2v.training.ops import HOST, Backend
from w2v.training.pipeline import mask_cbow, mask_skipgram
from w2v.training.settings import TrainSettings


@dataclass(frozen=True)
class ModelKind:
    """What training one model takes: its `model` class, the `pairs` layout it reads (written by
    `w2v pairs`) and the `mask` that draws an epoch's examples from those pairs."""

    name: str
    model: type[Word2Vec]
    pairs: PairsLayout
    mask: Callable[..., tuple[Any, Any]]


MODELS: dict[str, ModelKind] = {kind.name: kind for kind in (
    ModelKind("cbow", CBOW, CBOW_PAIRS, mask_cbow),
    ModelKind("skipgram", SkipGram, SKIPGRAM_PAIRS, mask_skipgram),
)}

if tuple(MODELS) != model_names():  # a model needs its config section, and a section its model
    raise ImportError(f"the training registry's models {tuple(MODELS)} and the config schema's train "
                      f"sections {model_names()} differ")


def model_kind(name: str) -> ModelKind:
    """The registry's entry for `name`; an unknown name is a UserError listing the known ones."""
    try:
        return MODELS[name]
    except KeyError:
        raise UserError(f"unknown model {name!r}; expected one of {', '.join(MODELS)}") from None


def build_model(
    name: str, vocab_size: int, settings: TrainSettings | dict, backend: Backend = HOST,
    generator: np.random.Generator | None = None, composition: Composition | None = None,
) -> Word2Vec:
    """The model named `name`, configured from `settings` (a `TrainSettings`, or config keys that the
    schema's defaults complete), with words composed from characters when a `composition` is given."""
    if not isinstance(settings, TrainSettings):
        settings = TrainSettings.from_mapping(settings)
    model = model_kind(name).model
    return model(vocab_size, settings.vector_size, composition=composition,
                 init=Init(backend=backend, generator=generator), **model.options(settings))
