"""Optimizers and learning-rate schedules."""

from jingu.optim import lr_scheduler
from jingu.optim.lr_scheduler import LambdaLR, LinearLR
from jingu.optim.optimizer import SGD, Adam, Optimizer

__all__ = ["SGD", "Adam", "LambdaLR", "LinearLR", "Optimizer", "lr_scheduler"]
