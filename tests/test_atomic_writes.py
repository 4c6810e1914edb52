"""Every writer is atomic: a write that fails part-way leaves its target as it was (absent, or with
its old content) and no temporary file beside it.

The failure is real, not mocked: RLIMIT_FSIZE makes any write past the limit fail with EFBIG, as a
full disk fails with ENOSPC, whatever way the writer opens its file. The limit is half the size of
the output the writer makes without one, so each writer has written bytes when it fails.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from w2v.cli import main
from w2v.errors import UserError
from w2v.training.train import write_vectors
from helpers import train_files as train
from w2v.vectors import KeyedVectors

resource = pytest.importorskip("resource")
signal = pytest.importorskip("signal")

SETTINGS = {"vector_size": 8, "epochs": 2, "batch_size": 64, "sample": 1e-2, "workers": 1, "seed": 2}


@contextlib.contextmanager
def disk_full_after(nbytes: int) -> Iterator[None]:
    """Within the block, a write that would make any file longer than `nbytes` fails (EFBIG)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error from write(), not a killed process
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (temporary ones included) with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def check_atomic(tmp_path: Path, write: Callable[[Path], list[Path]], sizes: dict[str, int], old: bool) -> None:
    """`write(folder)` writes outputs named as the keys of `sizes` into `folder`, with those sizes
    when the disk is not full. With the disk full after half the smallest, it must fail and leave
    the folder as it was: the targets absent or (`old`) holding their old content, no temporary file."""
    limit = min(sizes.values()) // 2
    assert limit > 0
    folder = tmp_path / "full"
    folder.mkdir()
    if old:
        for name in sizes:
            (folder / name).write_bytes(b"old content\n")
    before = snapshot(folder)
    with disk_full_after(limit), pytest.raises((OSError, UserError)):
        write(folder)
    assert snapshot(folder) == before


@pytest.fixture(scope="module")
def inputs(zipf_pairs, test_data, tmp_path_factory) -> dict[str, Path]:
    """Inputs of each stage, outside the folders the writers write to (and a jieba cache)."""
    root = tmp_path_factory.mktemp("writer_inputs")
    cache = root / "jieba.cache"
    assert main(["segment", "--build-cache", "--jieba-cache", str(cache)]) == 0
    counts, part = root / "counts.parquet", root / "part-0.parquet"
    assert main(["clean", str(zipf_pairs / "tokens.txt"), "-o", str(root / "tokens.txt"), "--counts", str(counts)]) == 0
    assert main(["count-merge", str(counts), "--partition", "0", "--partitions", "1", "-o", str(part)]) == 0
    return {"corpus": test_data / "tiny_corpus.txt", "cache": cache, "tokens": zipf_pairs / "tokens.txt",
            "vocab": zipf_pairs / "vocab.tsv", "cbow": zipf_pairs / "cbow.parquet", "counts": counts, "part": part}


def _vectors() -> KeyedVectors:
    vectors = np.random.default_rng(0).normal(size=(60, 10)).astype(np.float32)
    return KeyedVectors([f"词{i}" for i in range(60)], vectors)


def _stage(argv: Callable[[Path], list[str]], outputs: list[str]) -> Callable[[Path], list[Path]]:
    """A writer that runs the `w2v` command `argv(folder)` and returns `outputs` in the folder."""

    def write(folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        main(argv(folder))
        return [folder / name for name in outputs]

    return write


def _writers(inputs: dict[str, Path]) -> dict[str, Callable[[Path], list[Path]]]:
    def save_vec(binary: bool) -> Callable[[Path], list[Path]]:
        def write(folder: Path) -> list[Path]:
            folder.mkdir(parents=True, exist_ok=True)
            _vectors().save_word2vec_format(folder / "v.vec", binary=binary)
            return [folder / "v.vec"]

        return write

    def train_vectors(folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        kv = _vectors()
        write_vectors(folder / "v.vec", ["<pad>", *kv.index_to_key], np.vstack([np.zeros((1, 10)), kv.vectors]))
        return [folder / "v.vec"]

    def train_outputs(folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        train("cbow", inputs["cbow"], inputs["vocab"], SETTINGS, folder / "v.vec", folder / "h.json", device="cpu")
        return [folder / "v.vec"]  # written first: the history follows only when the vectors are on disk

    i = {k: str(v) for k, v in inputs.items()}
    return {
        "vec-text": save_vec(False),
        "vec-binary": save_vec(True),
        "train.write_vectors": train_vectors,
        "train-outputs": train_outputs,
        "w2v-segment": _stage(lambda f: ["segment", "--corpus", i["corpus"], "--jieba-cache", i["cache"],
                                         "-o", str(f / "shard.txt")], ["shard.txt"]),
        "w2v-clean": _stage(lambda f: ["clean", i["tokens"], "-o", str(f / "tokens.txt")], ["tokens.txt"]),
        "w2v-vocab": _stage(lambda f: ["vocab", i["tokens"], "-o", str(f / "vocab.tsv")], ["vocab.tsv"]),
        "w2v-count-merge": _stage(lambda f: ["count-merge", i["counts"], "--partition", "0", "--partitions", "1",
                                             "-o", str(f / "part.parquet")], ["part.parquet"]),
        "w2v-vocab-merged": _stage(lambda f: ["vocab", i["counts"], "--merged", i["part"], "-o", str(f / "vocab.tsv"),
                                              "--stats", str(f / "corpus.json"), "--chars", str(f / "chars.tsv")],
                                   ["vocab.tsv", "corpus.json", "chars.tsv"]),
        "w2v-pairs": _stage(lambda f: ["pairs", i["tokens"], "--vocab", i["vocab"], "--window", "2",
                                       "--cbow", str(f / "cbow.parquet"), "--skipgram", str(f / "sg.parquet")],
                            ["cbow.parquet", "sg.parquet"]),
    }


WRITERS = ["vec-text", "vec-binary", "train.write_vectors", "train-outputs", "w2v-segment", "w2v-clean",
           "w2v-vocab", "w2v-count-merge", "w2v-vocab-merged", "w2v-pairs"]


@pytest.fixture(scope="module")
def output_sizes(inputs, tmp_path_factory) -> Callable[[str], dict[str, int]]:
    """The sizes of a writer's outputs when the disk is not full, by output name (one run per writer)."""
    seen: dict[str, dict[str, int]] = {}

    def sizes(writer: str) -> dict[str, int]:
        if writer == "w2v-segment":
            # Loading jieba is slow: a shard is at least the size of its lines less their
            # whitespace (segmenting adds spaces), so the corpus size stands in for a free run. An
            # estimate too large would make the write succeed and the test fail, never pass wrongly.
            return {"shard.txt": inputs["corpus"].stat().st_size}
        if writer not in seen:
            paths = _writers(inputs)[writer](tmp_path_factory.mktemp("free"))
            seen[writer] = {p.name: p.stat().st_size for p in paths}
        return seen[writer]

    return sizes


@pytest.mark.parametrize(
    "writer, old",
    # Old content catches every non-atomic writer (opening the target truncates it); segmenting is
    # slow to start, so it runs that case only.
    [(w, old) for w in WRITERS for old in (False, True) if old or w != "w2v-segment"],
    ids=lambda v: ("old-content" if v else "absent") if isinstance(v, bool) else v,
)
def test_a_write_that_fails_part_way_leaves_the_target_as_it_was(inputs, output_sizes, tmp_path, writer, old):
    check_atomic(tmp_path, _writers(inputs)[writer], output_sizes(writer), old)


def test_a_checkpoint_write_that_fails_keeps_the_previous_checkpoint(inputs, tmp_path):
    """Killed mid-checkpoint (here: the disk fills up), a run resumes from the previous epoch's
    checkpoint and ends with the vectors of an uninterrupted run."""
    out = tmp_path / "run"
    out.mkdir()
    ckpt = out / "ckpt.npz"
    args = ("skipgram", inputs["cbow"].with_name("skipgram.parquet"), inputs["vocab"], {**SETTINGS, "epochs": 3},
            out / "v.vec", out / "h.json")
    train(*args, checkpoint_path=ckpt, device="cpu", stop_after=1)
    before = snapshot(out)
    assert list(before) == ["ckpt.npz"]
    with disk_full_after(ckpt.stat().st_size // 2), pytest.raises(OSError):
        train(*args, checkpoint_path=ckpt, device="cpu", stop_after=1)  # epoch 2's checkpoint fails
    assert snapshot(out) == before
    history = train(*args, checkpoint_path=ckpt, device="cpu")
    assert [e["epoch"] for e in history["epochs"]] == [1, 2, 3]
    ref = tmp_path / "ref"
    ref.mkdir()
    train(*args[:4], ref / "v.vec", ref / "h.json", device="cpu")
    assert (out / "v.vec").read_bytes() == (ref / "v.vec").read_bytes()


def test_a_history_write_that_fails_leaves_no_partial_history(inputs, tmp_path):
    """Vectors of one dimension are shorter than the history, so the disk fills up in the history."""
    settings = {**SETTINGS, "vector_size": 1}
    args = ("cbow", inputs["cbow"], inputs["vocab"], settings)
    free = tmp_path / "free"
    train(*args, free / "v.vec", free / "h.json", device="cpu")
    vec, history = (free / "v.vec").stat().st_size, (free / "h.json").stat().st_size
    assert vec < history
    out = tmp_path / "full"
    out.mkdir()
    (out / "h.json").write_text("old content\n", encoding="utf-8")
    with disk_full_after(max(vec, history // 2)), pytest.raises(OSError):
        train(*args, out / "v.vec", out / "h.json", device="cpu")
    assert (out / "h.json").read_text(encoding="utf-8") == "old content\n"
    assert sorted(p.name for p in out.iterdir()) == ["h.json", "v.chars.vec", "v.vec"]  # no temporary file left


def test_the_limit_makes_writes_fail_part_way(tmp_path):
    """The harness itself: a plain (non-atomic) write under the limit fails after writing bytes."""
    target = tmp_path / "plain.txt"
    with disk_full_after(1000), pytest.raises(OSError):
        with open(target, "w", encoding="utf-8") as out:
            out.write("x" * 5000)
    assert target.stat().st_size == 1000
    shutil.copy(target, tmp_path / "copy.txt")  # and writing works again after the block
    assert (tmp_path / "copy.txt").stat().st_size == 1000
