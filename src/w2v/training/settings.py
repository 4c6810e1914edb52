"""`TrainSettings`: one model's training settings, validated against the config schema and frozen.

The schema (`w2v/config.schema.yaml`) is where each key's type, bounds, default and meaning are
written; this class gives the checked values names and types for the code, and a test keeps its
fields and the schema's train keys the same set.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from w2v.config import PLACEMENT_KEYS, check_train_settings, train_defaults


@dataclass(frozen=True)
class TrainSettings:
    """The `train` keys of one model (after its `train.<model>` overrides) and `seed`."""

    vector_size: int
    negative: int
    ns_exponent: float
    sample: float
    epochs: int
    alpha: float
    min_alpha: float
    cbow_gradient: str
    loss: str
    batch_size: int
    shared_negatives: int
    negative_group: int
    shuffle_buffer: int
    optimizer: str
    workers: int
    chars: str
    min_char_count: int
    seed: int
    device: str  # where to train, not what: left out of `as_dict`, so of a checkpoint's fingerprint

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> "TrainSettings":
        """`values` (config keys; missing ones take the schema's defaults) checked against the schema;
        a bad key or value raises one UserError naming it."""
        checked = check_train_settings(values)
        placement = {key: values.get(key, train_defaults(placement=True)[key]) for key in PLACEMENT_KEYS}
        return cls(**checked, **placement)

    def as_dict(self) -> dict[str, Any]:
        """What is trained, as config keys (no placement keys): a history's `config`, a checkpoint's fingerprint."""
        return {key: value for key, value in dataclasses.asdict(self).items() if key not in PLACEMENT_KEYS}

    def replace(self, **changes: Any) -> "TrainSettings":
        """A copy with `changes`, checked again."""
        return TrainSettings.from_mapping({**dataclasses.asdict(self), **changes})

    @property
    def negatives(self) -> int:
        """Negatives drawn per example (0 with the full softmax)."""
        return self.negative if self.loss == "negative" else 0

    @property
    def negative_scale(self) -> float:
        """Weight of a shared negative's term: K / S keeps the expected gradient of K per-example draws."""
        return self.negatives / self.shared_negatives if self.shared_negatives else 1.0
