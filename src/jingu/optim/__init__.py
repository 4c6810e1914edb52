"""Optimizers and learning-rate schedules."""

from jingu.optim import lr_scheduler
from jingu.optim.lr_scheduler import LambdaLR, LinearLR
from jingu.optim.optimizer import SGD, Adam, Optimizer, UndeclaredStateError, check_hyperparameter

__all__ = [
    "SGD", "Adam", "LambdaLR", "LinearLR", "Optimizer", "UndeclaredStateError", "check_hyperparameter", "lr_scheduler",
]
