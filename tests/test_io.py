"""Atomic output files: all or nothing, with ordinary permissions."""

from __future__ import annotations

import os

import pytest

from w2v.io import atomic_open, atomic_path


def test_atomic_open_replaces_target_only_on_success(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as handle:
            handle.write("half")
            raise RuntimeError("writer failed")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]  # no temp file left behind

    with atomic_open(target) as handle:
        handle.write("new")
    assert target.read_text(encoding="utf-8") == "new"


def test_atomic_path_gives_permissions_from_umask(tmp_path):
    old = os.umask(0o027)
    try:
        with atomic_path(tmp_path / "sub" / "file.bin") as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "sub" / "file.bin").stat().st_mode & 0o777 == 0o640
