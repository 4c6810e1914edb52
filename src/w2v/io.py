"""File helpers: atomic outputs (temporary file, then rename), reading inputs, and text decoding that
names the bad line."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

from w2v.errors import UserError


def _umask() -> int:
    """The process umask (read by setting it, then restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it to `path` only if the block succeeds.

    Use it for writers that want a file name (pyarrow, numpy, matplotlib). On any exception the
    temporary file is removed and `path` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates files readable by their owner only; give the output ordinary permissions.
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file for writing that replaces `path` when the block succeeds."""
    if "b" in mode:
        encoding = None
    with atomic_path(path) as tmp:
        with open(tmp, mode, encoding=encoding, newline="\n" if encoding else None) as handle:
            yield handle


def read_input_bytes(path: Path, missing: str, folder: str) -> bytes:
    """The bytes of an input file; a missing file or a folder raises `UserError` with `missing` or
    `folder` (messages that name the file and say how to fix it)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UserError(missing) from None
    except IsADirectoryError:
        raise UserError(folder) from None


def decode_text(
    data: bytes, path: str | os.PathLike, encoding: str, advice: str, label: str | None = None, first_line: int = 1
) -> str:
    """Decode `data`, read from `path`; undecodable bytes raise `UserError` naming the line and the bytes.

    `advice` tells the user what to do; `label` names the encoding in the message (default: `encoding`);
    `first_line` is the line number of `data`'s first line in the file.
    """
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + first_line
        bad = data[exc.start : exc.start + 4]
        raise UserError(f"{path}, line {line}: not valid {label or encoding} (bytes {bad!r}); {advice}") from None


def read_parquet(path: Path, label: str, redo: str, metadata_only: bool = False):
    """A Parquet table (or only its footer, `pyarrow.parquet.FileMetaData`); a missing or unreadable
    file raises `UserError` naming the file as `label` and saying `redo`, the step that rewrites it."""
    import pyarrow as pa  # noqa: PLC0415 - only the readers of Parquet files pay for the import
    import pyarrow.parquet as pq  # noqa: PLC0415

    try:
        return pq.read_metadata(path) if metadata_only else pq.read_table(path)
    except FileNotFoundError:
        raise UserError(f"{label} {path} does not exist; {redo}") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise UserError(f"{path} is not a readable Parquet file ({exc}); {redo}") from None


def read_json(path: Path, label: str, redo: str):
    """The parsed JSON of `path`; a missing file or bad JSON raises `UserError` naming it and `redo`."""
    import json  # noqa: PLC0415

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: {label} not found; {redo}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{path}: not a valid JSON file ({exc}); {redo}") from None
