"""Word vectors keyed by token: load and save the word2vec format, query neighbours.

`KeyedVectors` is a small, gensim-shaped vectors object. It reads word2vec text and binary files
written by gensim or by the original C tool, and writes files both of them read:

* text: a header line ``count dim``, then ``token v1 ... vdim`` a line (values separated by one
  space; trailing spaces, as the C tool writes them, are accepted on read);
* binary: the same header line, then for each word ``token`` + one space + ``dim`` little-endian
  float32 values + ``\\n`` (the C tool's layout; gensim reads it, and writes it without the newline,
  which is accepted on read too).

Similarities are cosines, computed from unit-length copies of the vectors made once on first use.
"""

from __future__ import annotations

import difflib
import logging
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from w2v.errors import UserError
from w2v.io import atomic_open

logger = logging.getLogger(__name__)

WordOrWords = str | Sequence[str] | None


class KeyedVectors:
    """Vectors (float32, one row per key) with the lookups and cosine queries users expect."""

    def __init__(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        if hasattr(vectors, "get") and not isinstance(vectors, np.ndarray):
            vectors = vectors.get()  # a CuPy array: queries run on the CPU copy
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(keys):
            raise ValueError(
                f"need one vector row per key: {len(keys)} keys, vectors of shape {vectors.shape}"
            )
        self.index_to_key: list[str] = list(keys)
        self.key_to_index: dict[str, int] = {}
        for i, key in enumerate(self.index_to_key):
            if key in self.key_to_index:
                raise ValueError(f"duplicate key {key!r} at rows {self.key_to_index[key]} and {i}")
            self.key_to_index[key] = i
        self.vectors: np.ndarray = vectors
        self._unit: np.ndarray | None = None

    # ----------------------------------------------------------------- container protocol
    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key: object) -> bool:
        return key in self.key_to_index

    def __getitem__(self, key: str) -> np.ndarray:
        return self.vectors[self.get_index(key)]

    @property
    def vector_size(self) -> int:
        """Dimension of the vectors."""
        return int(self.vectors.shape[1])

    def get_index(self, key: str) -> int:
        """Row of `key`; KeyError (naming the key) when it is not in the vocabulary."""
        try:
            return self.key_to_index[key]
        except KeyError:
            raise KeyError(f"word {key!r} is not in the vocabulary") from None

    # ----------------------------------------------------------------- cosine queries
    @property
    def unit_vectors(self) -> np.ndarray:
        """Rows scaled to unit length (zero rows stay zero); cached, so do not edit `vectors` in place."""
        if self._unit is None or self._unit.shape != self.vectors.shape:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            self._unit = (self.vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)
        return self._unit

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words."""
        unit = self.unit_vectors
        return float(unit[self.get_index(w1)] @ unit[self.get_index(w2)])

    def most_similar(
        self,
        positive: WordOrWords = None,
        negative: WordOrWords = None,
        topn: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """The `topn` words nearest to the mean of the unit vectors of `positive` minus `negative`.

        As in gensim: a single string counts as one positive word, the query words themselves are
        left out of the answer, and `restrict_vocab` limits the search to the first N rows (the most
        frequent words in a count-sorted file). Scores are cosines with the normalised mean.
        """
        positive = _as_list(positive)
        negative = _as_list(negative)
        if not positive and not negative:
            raise ValueError("most_similar needs at least one positive or negative word")
        if topn < 1:
            raise ValueError(f"topn must be at least 1, got {topn}")
        unit = self.unit_vectors
        ids = [self.get_index(w) for w in positive] + [self.get_index(w) for w in negative]
        weights = np.array([1.0] * len(positive) + [-1.0] * len(negative), dtype=np.float32)
        mean = (weights[:, None] * unit[ids]).mean(axis=0)
        norm = np.linalg.norm(mean)
        if norm > 0:
            mean /= norm
        limit = len(self) if restrict_vocab is None else min(int(restrict_vocab), len(self))
        scores = unit[:limit] @ mean
        exclude = [i for i in ids if i < limit]
        scores[exclude] = -np.inf
        return self._top(scores, topn)

    def similar_by_vector(self, vector: np.ndarray, topn: int = 10) -> list[tuple[str, float]]:
        """The `topn` words whose vectors have the highest cosine with `vector`."""
        vector = np.asarray(vector, dtype=np.float32)
        norm = np.linalg.norm(vector)
        scores = self.unit_vectors @ (vector / norm if norm > 0 else vector)
        return self._top(scores, topn)

    def doesnt_match(self, words: Iterable[str]) -> str:
        """The word farthest from the mean of the others' unit vectors (gensim's rule).

        Words not in the vocabulary are ignored with a warning; at least one must be known.
        """
        words = list(words)
        known = [w for w in words if w in self]
        if len(known) != len(words):
            logger.warning("doesnt_match: ignoring unknown words %s", [w for w in words if w not in self])
        if not known:
            raise ValueError("doesnt_match: none of the words is in the vocabulary")
        unit = self.unit_vectors[[self.key_to_index[w] for w in known]]
        mean = unit.mean(axis=0)
        norm = np.linalg.norm(mean)
        scores = unit @ (mean / norm if norm > 0 else mean)
        return known[int(np.argmin(scores))]

    def closest_keys(self, word: str, n: int = 5) -> list[str]:
        """Known spellings close to `word`, to suggest when it is unknown.

        difflib's close matches first; then, for short Chinese words where difflib finds little,
        the most frequent (earliest) keys sharing the most characters with `word`.
        """
        found = difflib.get_close_matches(word, self.index_to_key, n=n, cutoff=0.5)
        if len(found) < n:
            chars = set(word)
            scored = []
            for i, key in enumerate(self.index_to_key):
                shared = len(chars & set(key))
                if shared and key not in found:
                    scored.append((-shared, i, key))
            scored.sort()
            found += [key for _, _, key in scored[: n - len(found)]]
        return found

    def _top(self, scores: np.ndarray, topn: int) -> list[tuple[str, float]]:
        valid = int(np.isfinite(scores).sum())
        k = min(topn, valid)
        if k <= 0:
            return []
        part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        order = part[np.lexsort((part, -scores[part]))][:k]
        return [(self.index_to_key[i], float(scores[i])) for i in order]

    # ----------------------------------------------------------------- word2vec format
    @classmethod
    def load_word2vec_format(cls, path: str | os.PathLike, binary: bool = False) -> "KeyedVectors":
        """Read a word2vec text (or binary) file; a malformed file raises UserError naming it and the line."""
        path = Path(path)
        try:
            with open(path, "rb") as handle:
                header = handle.readline()
                count, dim = _parse_header(header, path)
                if binary:
                    keys, vectors = _read_binary(handle, path, count, dim)
                else:
                    keys, vectors = _read_text(handle, path, count, dim)
        except FileNotFoundError:
            raise UserError(f"{path}: vector file not found; train the model first (w2v train)") from None
        except IsADirectoryError:
            raise UserError(f"{path}: is a folder, expected a word2vec vector file") from None
        try:
            kv = cls(keys, vectors)
        except ValueError as exc:
            raise UserError(f"{path}: {exc}; the file is corrupt, rerun the stage that wrote it") from None
        logger.debug("loaded %d vectors of dimension %d from %s", count, dim, path)
        return kv

    def save_word2vec_format(self, path: str | os.PathLike, binary: bool = False) -> None:
        """Write the vectors in word2vec text (or binary) format, atomically."""
        for key in self.index_to_key:
            if not key or any(c.isspace() for c in key):
                raise ValueError(f"key {key!r} is empty or holds whitespace; word2vec files cannot store it")
        count, dim = self.vectors.shape
        if binary:
            with atomic_open(path, "wb") as out:
                out.write(f"{count} {dim}\n".encode("utf-8"))
                data = np.ascontiguousarray(self.vectors, dtype="<f4")
                for key, row in zip(self.index_to_key, data):
                    out.write(key.encode("utf-8") + b" " + row.tobytes() + b"\n")
        else:
            # %.9g keeps every bit of a float32, so a text round trip is exact.
            row_format = " ".join(["%.9g"] * dim)
            with atomic_open(path, "w") as out:
                out.write(f"{count} {dim}\n")
                for key, row in zip(self.index_to_key, self.vectors.astype(np.float64)):
                    out.write(f"{key} {row_format % tuple(row)}\n")


def _as_list(words: WordOrWords) -> list[str]:
    if words is None:
        return []
    if isinstance(words, str):
        return [words]
    return list(words)


def _parse_header(header: bytes, path: Path) -> tuple[int, int]:
    parts = header.split()
    try:
        count, dim = int(parts[0]), int(parts[1])
        if len(parts) != 2 or count < 0 or dim < 1:
            raise ValueError
    except (ValueError, IndexError):
        raise UserError(
            f"{path}, line 1: expected a word2vec header 'count dim', got {header[:60]!r}; "
            "is this a word2vec file (binary files need binary=True / --binary)?"
        ) from None
    return count, dim


def _decode(raw: bytes, path: Path, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}, {where}: not valid UTF-8; is this a binary file (use --binary)?") from None


def _read_text(handle, path: Path, count: int, dim: int) -> tuple[list[str], np.ndarray]:
    keys: list[str] = []
    vectors = np.empty((count, dim), dtype=np.float32)
    for line_no, raw in enumerate(handle, start=2):
        if len(keys) == count:
            if raw.strip():
                raise UserError(f"{path}, line {line_no}: more rows than the {count} the header announces")
            continue
        parts = _decode(raw, path, f"line {line_no}").rstrip("\r\n").rstrip(" ").split(" ")
        if len(parts) != dim + 1:
            raise UserError(
                f"{path}, line {line_no}: expected a word and {dim} numbers, found {len(parts) - 1} "
                "values (a word containing a space, or a truncated file?)"
            )
        try:
            vectors[len(keys)] = np.array(parts[1:], dtype=np.float32)
        except ValueError:
            raise UserError(f"{path}, line {line_no}: a vector value is not a number") from None
        keys.append(parts[0])
    if len(keys) != count:
        raise UserError(f"{path}: the header announces {count} rows but the file holds {len(keys)} (truncated?)")
    return keys, vectors


def _read_binary(handle, path: Path, count: int, dim: int) -> tuple[list[str], np.ndarray]:
    keys: list[str] = []
    vectors = np.empty((count, dim), dtype=np.float32)
    nbytes = 4 * dim
    for row in range(count):
        word = bytearray()
        while True:
            ch = handle.read(1)
            if not ch:
                raise UserError(f"{path}: file ends inside row {row + 1} of {count} (truncated?)")
            if ch == b" ":
                break
            if ch != b"\n" or word:  # a newline before a word ends the previous row (C tool layout)
                word += ch
        data = handle.read(nbytes)
        if len(data) != nbytes:
            raise UserError(f"{path}: file ends inside the vector of row {row + 1} of {count} (truncated?)")
        keys.append(_decode(bytes(word), path, f"row {row + 1}"))
        vectors[row] = np.frombuffer(data, dtype="<f4")
    return keys, vectors


def is_binary_word2vec(path: str | os.PathLike) -> bool:
    """Whether a word2vec file is binary: its first row is not a text row (a word and `dim` numbers)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            count, dim = _parse_header(handle.readline(), path)
            first = handle.readline(2 ** 20)
    except FileNotFoundError:
        raise UserError(f"{path}: vector file not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, expected a word2vec vector file") from None
    if count == 0:
        return False
    try:
        parts = first.decode("utf-8").rstrip("\r\n").rstrip(" ").split(" ")
        np.array(parts[1:], dtype=np.float32)
    except (UnicodeDecodeError, ValueError):
        return True
    return len(parts) != dim + 1
