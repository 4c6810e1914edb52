"""Word vectors keyed by token: load and save the word2vec format, query neighbours.

`KeyedVectors` is a small, gensim-shaped vectors object. It reads word2vec text and binary files
written by gensim or by the original C tool, and writes files both of them read (the layouts are
described in `w2v.vectors.word2vec_format`).

Similarities are cosines, computed from unit-length copies of the vectors made once on first use.

Character vectors (docs/contracts.md, character-aware models): beside ``results/{model}.vec`` a
model may have ``results/{model}.chars.vec`` (`chars_path`), one row per character. A word outside
the vocabulary then still has a vector, the mean of its characters' vectors, as gensim's
FastTextKeyedVectors compose one from n-grams. `word in kv` stays vocabulary membership;
`has_vector` says whether a word has a row or can be composed. Answers of the cosine queries are
always vocabulary words.
"""

from __future__ import annotations

import difflib
import logging
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from w2v.vectors import word2vec_format as w2v_format
from w2v.errors import UserError

logger = logging.getLogger(__name__)

WordOrWords = str | Sequence[str] | None


class KeyedVectors:
    """Vectors (float32, one row per key) with the lookups and cosine queries users expect."""

    def __init__(self, keys: Sequence[str], vectors: np.ndarray, chars: "KeyedVectors | None" = None) -> None:
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
        self._key_codes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._chars: KeyedVectors | None = None
        self._char_lookup: tuple[np.ndarray, np.ndarray] | None = None
        self.chars = chars

    # ----------------------------------------------------------------- container protocol
    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key: object) -> bool:
        return key in self.key_to_index

    def __getitem__(self, key: str) -> np.ndarray:
        return self.get_vector(key)

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

    # ----------------------------------------------------------------- character vectors
    @property
    def chars(self) -> "KeyedVectors | None":
        """The character vectors (a KeyedVectors keyed by single characters), or None."""
        return self._chars

    @chars.setter
    def chars(self, chars: "KeyedVectors | None") -> None:
        if chars is not None:
            if chars.vector_size != self.vector_size:
                raise ValueError(
                    f"character vectors have dimension {chars.vector_size} but the word vectors {self.vector_size}"
                )
            codes, _, lengths = _char_codes(chars.index_to_key)
            bad = np.nonzero(lengths != 1)[0]
            if bad.size:
                raise ValueError(f"character vector keys are single characters; row {bad[0] + 1} "
                                 f"holds {chars.index_to_key[bad[0]]!r}")
            order = np.argsort(codes, kind="stable")
            self._char_lookup = (codes[order], order)
        else:
            self._char_lookup = None
        self._chars = chars

    def has_vector(self, word: str) -> bool:
        """Whether `word` has a vector: a vocabulary row, or at least one character with a vector."""
        return word in self.key_to_index or self._char_rows(word).size > 0

    def is_composed(self, word: str) -> bool:
        """Whether `word` is outside the vocabulary but its vector can be composed from characters."""
        return word not in self.key_to_index and self._char_rows(word).size > 0

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        """The vocabulary row of `word`, or for a word outside it the mean of its characters' vectors.

        With `norm`, scaled to unit length (as gensim's ``get_vector(key, norm=True)``).
        """
        i = self.key_to_index.get(word)
        if i is not None:
            return self.unit_vectors[i] if norm else self.vectors[i]
        vector = self.compose(word)
        length = np.linalg.norm(vector) if norm else 0.0
        return vector / length if length > 0 else vector

    def compose(self, word: str) -> np.ndarray:
        """Mean of the character vectors over `word`'s character occurrences that have one (float32).

        Each occurrence counts (天天 -> the mean of c_天 and c_天) and characters without a vector are
        skipped; for a vocabulary word this is the character mean the model combined with its own
        vector. KeyError naming the word when none of its characters has a vector.
        """
        rows = self._char_rows(word)
        if rows.size == 0:
            raise KeyError(self._unknown(word))
        # Accumulated in float64 and rounded once, so the result does not depend on the order.
        return self._chars.vectors[rows].mean(axis=0, dtype=np.float64).astype(np.float32)

    def _char_rows(self, word: str) -> np.ndarray:
        """Rows of the character table for each character occurrence of `word` that has one."""
        if self._char_lookup is None or not word or not len(self._char_lookup[0]):
            return np.zeros(0, dtype=np.int64)
        sorted_codes, order = self._char_lookup
        codes = np.frombuffer(word.encode("utf-32-le"), dtype="<u4")
        at = np.minimum(np.searchsorted(sorted_codes, codes), len(sorted_codes) - 1)
        return order[at[sorted_codes[at] == codes]]

    def _unknown(self, word: str) -> str:
        if self._chars is None:
            return f"word {word!r} is not in the vocabulary"
        return f"word {word!r} is not in the vocabulary and none of its characters has a vector"

    # ----------------------------------------------------------------- cosine queries
    @property
    def unit_vectors(self) -> np.ndarray:
        """Rows scaled to unit length (zero rows stay zero); cached, so do not edit `vectors` in place."""
        if self._unit is None or self._unit.shape != self.vectors.shape:
            # einsum sums the squares row by row, without a squared copy of the whole table.
            norms = np.sqrt(np.einsum("ij,ij->i", self.vectors, self.vectors))[:, None]
            self._unit = (self.vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32, copy=False)
        return self._unit

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words."""
        return float(self.get_vector(w1, norm=True) @ self.get_vector(w2, norm=True))

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
        frequent words in a count-sorted file). Scores are cosines with the normalised mean. A word
        outside the vocabulary counts with its composed vector (see `compose`).
        """
        positive = _as_list(positive)
        negative = _as_list(negative)
        if not positive and not negative:
            raise ValueError("most_similar needs at least one positive or negative word")
        if topn < 1:
            raise ValueError(f"topn must be at least 1, got {topn}")
        words = positive + negative
        queries = np.stack([self.get_vector(w, norm=True) for w in words])
        weights = np.array([1.0] * len(positive) + [-1.0] * len(negative), dtype=np.float32)
        mean = (weights[:, None] * queries).mean(axis=0)
        norm = np.linalg.norm(mean)
        if norm > 0:
            mean /= norm
        limit = len(self) if restrict_vocab is None else min(int(restrict_vocab), len(self))
        scores = self.unit_vectors[:limit] @ mean
        ids = [self.key_to_index[w] for w in words if w in self.key_to_index]
        exclude = [i for i in ids if i < limit]
        scores[exclude] = -np.inf
        return self._top(scores, topn)

    def similar_by_vector(self, vector: np.ndarray | str, topn: int = 10) -> list[tuple[str, float]]:
        """The `topn` words whose vectors have the highest cosine with `vector` (a word: its vector).

        Nothing is left out: a vocabulary word given here is its own nearest word.
        """
        if isinstance(vector, str):
            vector = self.get_vector(vector)
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
        the most frequent (earliest) keys sharing the most characters with `word`. Character counts
        per key come from NumPy over all keys' characters at once, and difflib only sees the keys
        whose character overlap can reach its cutoff, so a query costs milliseconds at a million keys.
        """
        cutoff = 0.5
        if self._key_codes is None:
            self._key_codes = _char_codes(self.index_to_key)
        codes, owner, lengths = self._key_codes
        matched = np.zeros(len(self), dtype=np.int64)  # difflib's quick_ratio matches (multiset overlap)
        shared = np.zeros(len(self), dtype=np.int64)  # distinct characters in common
        for char in set(word):
            per_key = np.bincount(owner[codes == ord(char)], minlength=len(self))
            matched += np.minimum(per_key, word.count(char))
            shared += per_key > 0
        # quick_ratio bounds difflib's ratio from above, so the keys below the cutoff cannot match.
        bound = 2.0 * matched / np.maximum(len(word) + lengths, 1)
        candidates = [self.index_to_key[i] for i in np.nonzero(bound >= cutoff)[0]]
        found = difflib.get_close_matches(word, candidates, n=n, cutoff=cutoff)
        if len(found) < n:
            rows = np.nonzero(shared)[0]
            rows = rows[np.lexsort((rows, -shared[rows]))]
            taken = set(found)
            for i in rows[:n]:
                if len(found) == n:
                    break
                if self.index_to_key[i] not in taken:
                    found.append(self.index_to_key[i])
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
    def load_word2vec_format(
        cls, path: str | os.PathLike, binary: bool | None = None, chars: str | os.PathLike | None = "auto"
    ) -> "KeyedVectors":
        """Read a word2vec text or binary file; a malformed file raises UserError naming it and the line.

        `binary` None (the default) detects the format from the first row, so no reader needs a flag.
        `chars`: "auto" also loads the character vectors at `chars_path(path)` when that file exists,
        None never loads any, a path loads that file (see `load_chars`).
        """
        path = Path(path)
        if binary is None:
            binary = path.is_file() and is_binary_word2vec(path)  # a missing path fails below, with its hint
        try:
            with open(path, "rb") as handle:
                count, dim = w2v_format.parse_header(handle.readline(), path)
                read = w2v_format.read_binary if binary else w2v_format.read_text
                keys, vectors = read(handle, path, count, dim)
        except FileNotFoundError:
            raise UserError(f"{path}: vector file not found; train the model first (w2v train)") from None
        except IsADirectoryError:
            raise UserError(f"{path}: is a folder, expected a word2vec vector file") from None
        try:
            kv = cls(keys, vectors)
        except ValueError as exc:
            raise UserError(f"{path}: {exc}; the file is corrupt, rerun the stage that wrote it") from None
        logger.debug("loaded %d vectors of dimension %d from %s", count, dim, path)
        attach_chars(kv, path, chars)
        return kv

    def save_word2vec_format(self, path: str | os.PathLike, binary: bool = False) -> None:
        """Write the vectors in word2vec text (or binary) format, atomically (layouts in w2v.vectors.word2vec_format)."""
        write = w2v_format.write_binary if binary else w2v_format.write_text
        write(path, self.index_to_key, self.vectors)


def chars_path(vec_path: str | os.PathLike) -> Path:
    """Where a model's character vectors sit: beside its vectors, the last suffix made ``.chars.vec``.

    results/cbow.vec -> results/cbow.chars.vec; x.bin -> x.chars.vec.
    """
    return Path(vec_path).with_suffix(".chars.vec")


def attach_chars(kv: KeyedVectors, vec_path: str | os.PathLike, chars: str | os.PathLike | None) -> None:
    """Give `kv` (read from `vec_path`) its character vectors: `chars` as in `load_word2vec_format`.

    The character file is word2vec text, one single character a row, of the word vectors'
    dimension; a file breaking that raises UserError naming it.
    """
    if chars is None:
        return
    if isinstance(chars, str) and chars == "auto":
        chars = chars_path(vec_path)
        if not chars.is_file():
            return
    chars = Path(chars)
    if not chars.is_file():
        raise UserError(f"{chars}: character vector file not found; check the path, or train with "
                        "train.chars set to write one")
    table = KeyedVectors.load_word2vec_format(chars, binary=False, chars=None)
    try:
        kv.chars = table
    except ValueError as exc:
        raise UserError(f"{chars}: {exc}; use the character file that the same training run wrote "
                        f"beside {vec_path}") from None
    logger.info("loaded %d character vectors from %s", len(table), chars)


def _char_codes(keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(code points of all keys end to end, owning row of each, characters per key)."""
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    codes = np.frombuffer("".join(keys).encode("utf-32-le"), dtype="<u4")
    owner = np.repeat(np.arange(len(keys), dtype=np.int32), lengths)
    return codes, owner, lengths


def _as_list(words: WordOrWords) -> list[str]:
    if words is None:
        return []
    if isinstance(words, str):
        return [words]
    return list(words)


def is_binary_word2vec(path: str | os.PathLike) -> bool:
    """Whether a word2vec file is binary: its first row is not a line of text (UTF-8, no control
    characters) with values after the word.

    A malformed text row still counts as text, so that reading it names the line and the fault.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            count, dim = w2v_format.parse_header(handle.readline(), path)
            first = handle.readline(2 ** 20)
    except FileNotFoundError:
        raise UserError(f"{path}: vector file not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, expected a word2vec vector file") from None
    if count == 0:
        return False
    try:
        row = first.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        return True
    # float32 bytes hold NULs and other control characters; a newline byte among them ends the "line" early
    if any(ord(c) < 32 and c not in "\t\r" for c in row):
        return True
    return len(row.split()) < 2
