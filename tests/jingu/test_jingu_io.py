"""save/load (.npz without pickle) and the data utilities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import jingu
from jingu.data import ArrayDataset, DataLoader, Dataset, IterableDataset


def test_save_load_nested(tmp_path: Path) -> None:
    obj = {
        "weights": {"a": np.arange(6.0).reshape(2, 3), "b": np.array([1, 2], dtype=np.int32)},
        "list": [1, 2.5, "text", None, True, np.float32(0.5)],
        "tuple": (np.zeros(2), "x"),
        7: "int key",
        "tensor": jingu.Tensor(np.ones(3)),
        "empty": {},
    }
    path = tmp_path / "sub" / "obj.npz"
    jingu.save(obj, path)
    back = jingu.load(path)
    np.testing.assert_array_equal(back["weights"]["a"], obj["weights"]["a"])
    assert back["weights"]["b"].dtype == np.int32
    assert back["list"] == [1, 2.5, "text", None, True, 0.5]
    assert isinstance(back["tuple"], tuple) and back[7] == "int key"
    assert isinstance(back["tensor"], jingu.Tensor) and back["empty"] == {}
    with np.load(path, allow_pickle=False) as npz:  # a plain .npz that needs no pickle
        assert "__structure__" in npz.files
    assert [p.name for p in path.parent.iterdir()] == ["obj.npz"]  # no temporary left behind


def test_save_rejects_what_needs_pickle(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"cannot store object at obj\['bad'\]"):
        jingu.save({"bad": object()}, tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        jingu.load(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz is damaged"):
        jingu.load(junk)
    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.ones(2))
    with pytest.raises(ValueError, match="not a jingu checkpoint"):
        jingu.load(plain)


def test_load_to_device(tmp_path: Path, device: str) -> None:
    jingu.save({"w": np.ones(3)}, tmp_path / "w.npz")
    w = jingu.load(tmp_path / "w.npz", device=device)["w"]
    assert jingu.cuda.device_of(w).startswith(device)


class Squares(Dataset):
    def __len__(self) -> int:
        return 10

    def __getitem__(self, i: int) -> tuple[Any, int]:
        return np.array([i, i * i]), i


class Stream(IterableDataset):
    def __iter__(self) -> Any:
        yield from ({"x": np.float32(i)} for i in range(7))


def test_dataloader_map_style() -> None:
    loader = DataLoader(Squares(), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    x, y = batches[0]
    np.testing.assert_array_equal(x, [[0, 0], [1, 1], [2, 4], [3, 9]])
    np.testing.assert_array_equal(y, [0, 1, 2, 3])
    assert len(batches[-1][1]) == 2
    assert len(DataLoader(Squares(), batch_size=4, drop_last=True)) == 2
    assert len(list(DataLoader(Squares(), batch_size=4, drop_last=True))) == 2


def test_dataloader_shuffle_is_seeded_and_changes_per_epoch() -> None:
    def epochs(seed: int) -> list[list[int]]:
        loader = DataLoader(Squares(), batch_size=10, shuffle=True, generator=seed)
        return [list(next(iter(loader))[1]) for _ in range(2)]

    first = epochs(0)
    assert first == epochs(0)
    assert first[0] != first[1]
    assert sorted(first[0]) == list(range(10))
    assert first != epochs(1)


def test_dataloader_fast_path_and_collate_fn() -> None:
    data = ArrayDataset(np.arange(10), np.arange(10) * 2)
    loader = DataLoader(data, batch_size=3, shuffle=True, generator=np.random.default_rng(0))
    seen = np.concatenate([a for a, _ in loader])
    assert sorted(seen.tolist()) == list(range(10))
    for a, b in loader:
        np.testing.assert_array_equal(b, 2 * a)
    custom = DataLoader(data, batch_size=4, collate_fn=lambda batch: len(batch))
    assert list(custom) == [4, 4, 2]
    with pytest.raises(ValueError, match="array 1 has 3 rows"):
        ArrayDataset(np.arange(4), np.arange(3))


def test_dataloader_iterable() -> None:
    loader = DataLoader(Stream(), batch_size=3)
    batches = list(loader)
    assert [b["x"].tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(list(DataLoader(Stream(), batch_size=3, drop_last=True))) == 2
    with pytest.raises(TypeError):
        len(loader)
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(), shuffle=True)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(Squares(), batch_size=0)
