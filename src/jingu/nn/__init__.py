"""Neural-network building blocks: Module, Parameter, layers, losses, ``functional`` and ``init``."""

from jingu.nn import functional, init
from jingu.nn.module import Module, Parameter
from jingu.nn.modules import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Embedding,
    EmbeddingBag,
    Linear,
    NLLLoss,
)

__all__ = [
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Embedding",
    "EmbeddingBag",
    "Linear",
    "Module",
    "NLLLoss",
    "Parameter",
    "functional",
    "init",
]
