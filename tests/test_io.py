"""Atomic output files: all or nothing, with ordinary permissions."""

from __future__ import annotations

import os

import pytest

from w2v.errors import UserError
from w2v.io import atomic_open, atomic_path, decode_text


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


def test_decode_text_names_the_line_and_the_bytes(tmp_path):
    data = "第一行\n第二行\n孙悟空".encode("utf-8")[:-1]  # the last character cut in half
    assert decode_text(data[:10], "f.txt", "utf-8", advice="fix it") == "第一行\n"
    with pytest.raises(UserError, match=r"^f\.txt, line 3: not valid UTF-8 \(bytes b'\\x.*'\); fix it$"):
        decode_text(data, "f.txt", "utf-8", advice="fix it", label="UTF-8")
