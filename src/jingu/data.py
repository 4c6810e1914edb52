"""Datasets and a seeded ``DataLoader`` (batches of NumPy arrays)."""

from __future__ import annotations

import math
from typing import Any, Callable, Iterator, Sequence

import numpy as np


class Dataset:
    """Map-style dataset: implement ``__len__`` and ``__getitem__``; ``__getitems__`` (a list of
    indices at once) is optional and makes batching fast."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


class IterableDataset:
    """Stream-style dataset: implement ``__iter__`` (examples one by one)."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class ArrayDataset(Dataset):
    """Rows of equally long arrays; ``dataset[i]`` is a tuple of the i-th rows."""

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("ArrayDataset needs at least one array")
        n = len(arrays[0])
        for k, a in enumerate(arrays):
            if len(a) != n:
                raise ValueError(f"ArrayDataset: array {k} has {len(a)} rows, array 0 has {n}")
        self.arrays = [a.data if hasattr(a, "grad_fn") else a for a in arrays]

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        return tuple(a[index] for a in self.arrays)

    def __getitems__(self, indices: Any) -> tuple[Any, ...]:
        return tuple(a[indices] for a in self.arrays)


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of examples: arrays/numbers -> one array; tuples and dicts field by field."""
    first = batch[0]
    if isinstance(first, tuple):
        return tuple(default_collate([b[i] for b in batch]) for i in range(len(first)))
    if isinstance(first, list):
        return [default_collate([b[i] for b in batch]) for i in range(len(first))]
    if isinstance(first, dict):
        return {k: default_collate([b[k] for b in batch]) for k in first}
    if isinstance(first, str):
        return list(batch)
    return np.stack([np.asarray(b) for b in batch])


class DataLoader:
    """Iterate a dataset in batches; ``len()`` is the number of batches.

    ``shuffle`` draws a new order every epoch from ``generator`` (a ``numpy.random.Generator`` or an
    int seed), so a seed fixes the whole sequence of epochs.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Callable[[Sequence[Any]], Any] | None = None,
        generator: np.random.Generator | int | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if shuffle and isinstance(dataset, IterableDataset):
            raise ValueError("DataLoader: shuffle=True is not supported for an IterableDataset; shuffle the stream")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.generator = generator if isinstance(generator, np.random.Generator) else np.random.default_rng(generator)

    def __len__(self) -> int:
        n = len(self.dataset)  # an IterableDataset without __len__ raises TypeError, as in PyTorch
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        if isinstance(self.dataset, IterableDataset):
            yield from self._iter_stream()
            return
        n = len(self.dataset)
        order = self.generator.permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        fast = self.collate_fn is None and hasattr(self.dataset, "__getitems__")
        for start in range(0, stop, self.batch_size):
            idx = order[start : start + self.batch_size]
            if fast:
                yield self.dataset.__getitems__(idx)
            else:
                yield self._collate([self.dataset[int(i)] for i in idx])

    def _iter_stream(self) -> Iterator[Any]:
        batch: list[Any] = []
        for example in self.dataset:
            batch.append(example)
            if len(batch) == self.batch_size:
                yield self._collate(batch)
                batch = []
        if batch and not self.drop_last:
            yield self._collate(batch)

    def _collate(self, batch: list[Any]) -> Any:
        return (self.collate_fn or default_collate)(batch)
