"""Learning-rate schedules that set ``group["lr"]`` on an optimizer's param_groups."""

from __future__ import annotations

from typing import Any, Callable

from jingu.optim.optimizer import Optimizer


class LRScheduler:
    """Base: ``lr = base_lr * factor(step)``; call ``step()`` after each ``optimizer.step()``."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} needs a jingu optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.last_epoch = 0
        self._apply()

    def factor(self, step: int) -> float:
        raise NotImplementedError

    def _apply(self) -> None:
        f = self.factor(self.last_epoch)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base * f

    def step(self) -> None:
        self.last_epoch += 1
        self._apply()

    def seek(self, position: float) -> None:
        """Set the rates for `position` steps into the schedule; a fractional position suits progress
        counted in examples rather than optimizer steps (several workers adding to one count, say)."""
        self.last_epoch = position
        self._apply()

    def get_last_lr(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.last_epoch = int(state["last_epoch"])
        self.base_lrs = list(state["base_lrs"])
        self._apply()


class LinearLR(LRScheduler):
    """Factor moves linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` steps, then stays.

    word2vec's decay from alpha to min_alpha is ``LinearLR(opt, 1.0, min_alpha / alpha, total_steps)``.
    """

    def __init__(
        self, optimizer: Optimizer, start_factor: float = 1.0, end_factor: float = 0.0, total_iters: int = 1
    ) -> None:
        if start_factor < 0 or end_factor < 0:
            raise ValueError(f"LinearLR factors must be >= 0, got {start_factor} and {end_factor}")
        if not isinstance(total_iters, int) or total_iters < 1:
            raise ValueError(f"LinearLR total_iters must be a positive integer, got {total_iters!r}")
        self.start_factor = float(start_factor)
        self.end_factor = float(end_factor)
        self.total_iters = total_iters
        super().__init__(optimizer)

    def factor(self, step: int) -> float:
        t = min(step, self.total_iters) / self.total_iters
        return self.start_factor + (self.end_factor - self.start_factor) * t


class LambdaLR(LRScheduler):
    """Factor given by ``lr_lambda(step)``."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]) -> None:
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)

    def factor(self, step: int) -> float:
        return float(self.lr_lambda(step))
