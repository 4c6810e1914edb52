"""Reading a pairs dataset: its Parquet part files as one stream of row groups, as host arrays.

A dataset is one Parquet file per corpus shard (or a single file). Each epoch reads the parts in an
order drawn from (seed, epoch), row group by row group, so memory stays flat however long the
corpus is; a small dataset (under `cache_bytes` decoded) is read once and kept in memory for later
epochs. Where the row groups go from here (masks, shuffle, batches, on the CPU or a GPU) is the
pipelines' business (`w2v.training.pipeline`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from w2v.data.pairs import PairsLayout
from w2v.errors import UserError
from w2v.training import sampling


class PairsFile:
    """One Parquet file of pairs of `layout`, read one row group at a time (and kept in memory after
    the first pass once `keep_in_memory` was called)."""

    def __init__(self, path: str | Path, layout: PairsLayout, window: int) -> None:
        self.path, self.layout, self.window = Path(path), layout, window
        try:
            self._file = pq.ParquetFile(self.path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise UserError(f"{self.path} is not a readable Parquet file ({exc}); rerun `w2v pairs`") from None
        names = self._file.schema_arrow.names
        if names != layout.columns():
            raise UserError(f"{self.path}: columns {names} do not match the {layout.format} contract "
                            f"{layout.columns()}; rerun `w2v pairs` (rule pairs)")
        self.num_rows = self._file.metadata.num_rows
        self.num_row_groups = self._file.num_row_groups
        self.nbytes = self.num_rows * layout.row_bytes(window)  # decoded size
        self._cache: list[dict[str, np.ndarray]] | None = None
        self._cached = False

    def keep_in_memory(self) -> None:
        """Keep the decoded row groups after the first pass, for later epochs."""
        if self._cache is None:
            self._cache = []

    @property
    def in_memory(self) -> bool:
        return self._cache is not None

    def row_groups(self) -> Iterator[dict[str, np.ndarray]]:
        """Yield each row group's columns as NumPy arrays (validated)."""
        if self._cached:
            yield from self._cache
            return
        for i in range(self.num_row_groups):
            arrays = self.read_row_group(i)
            if self._cache is not None:
                self._cache.append(arrays)
            yield arrays
        if self._cache is not None:
            self._cached = True

    def read_row_group(self, i: int) -> dict[str, np.ndarray]:
        """Row group `i`'s columns as NumPy arrays, decoded and validated (never from memory)."""
        return self.layout.decode(self._file.read_row_group(i), self.window, f"{self.path}, row group {i}")


class PairsDataset:
    """A pairs dataset: its part files (one per corpus shard, or a single file), read as one stream.

    A dataset whose decoded size is under `cache_bytes` is read from disk once and kept in memory.
    """

    def __init__(self, files: list[str | Path] | str | Path, layout: PairsLayout, window: int,
                 cache_bytes: int = 256 << 20) -> None:
        paths = files if isinstance(files, (list, tuple)) else [files]
        self.layout, self.window = layout, window
        self.parts = [PairsFile(p, layout, window) for p in paths]
        self.num_rows = sum(p.num_rows for p in self.parts)
        self.nbytes = sum(p.nbytes for p in self.parts)
        if self.nbytes <= cache_bytes:
            for part in self.parts:
                part.keep_in_memory()

    @property
    def path(self) -> Path:
        """The first part's file (for messages)."""
        return self.parts[0].path

    def order(self, seed: int, epoch: int) -> list[int]:
        """The parts in the order epoch `epoch` reads them."""
        return sampling.part_order(len(self.parts), seed, epoch)

    @property
    def cached(self) -> bool:
        """Whether the decoded dataset is kept in memory after its first pass."""
        return self.parts[0].in_memory

    @property
    def num_row_groups(self) -> int:
        return sum(p.num_row_groups for p in self.parts)

    def row_groups(self, order: list[int] | None = None) -> Iterator[dict[str, np.ndarray]]:
        """Every row group of the parts in `order` (default: part order), as host arrays."""
        for i in range(len(self.parts)) if order is None else order:
            yield from self.parts[i].row_groups()

    def dealt_row_groups(self, worker: int, workers: int, order: list[int] | None = None) -> Iterator[dict[str, np.ndarray]]:
        """Row groups k, k + workers, k + 2 * workers, ... of the stream in `order` (k = `worker`):
        one worker's share, read and decoded by that worker only (the others' are skipped unread)."""
        index = 0
        for i in range(len(self.parts)) if order is None else order:
            part = self.parts[i]
            for group in range(part.num_row_groups):
                if index % workers == worker:
                    yield part.read_row_group(group)
                index += 1

    def check_ids(self, vocab_size: int, each: Callable[[int, dict[str, np.ndarray]], None] | None = None) -> None:
        """Raise if any id falls outside the vocabulary (one pass over the data, before training);
        `each(part index, row group)` sees every checked row group, so a pipeline can keep them
        without decoding the Parquet twice."""
        for index, part in enumerate(self.parts):
            for i, group in enumerate(part.row_groups()):
                for name in ("center", "context"):
                    col = group[name]
                    if col.size and (col.min() < 0 or col.max() >= vocab_size):
                        raise UserError(
                            f"{part.path}, row group {i}: column {name!r} holds ids outside the "
                            f"vocabulary (0..{vocab_size - 1}); the pairs and vocab.tsv disagree, rerun `w2v pairs`"
                        )
                if each is not None:
                    each(index, group)
