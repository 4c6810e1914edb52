"""The field's public test sets: word-pair similarity (Spearman's rho) and analogy files (3CosAdd).

Word-pair files (wordsim353 as gensim ships it, COS960): one pair a line, ``word1 word2 score ...``;
fields are split at tabs when the line has one, else at any whitespace; the score is the third field
and further fields are ignored (COS960 lists each annotator's score after the mean); blank lines and
lines starting with ``#`` are skipped. Scores follow gensim's `evaluate_word_pairs`: a pair is used
when both words are among the first `restrict_vocab` words, the model's score is the cosine of the
two vectors, and rho is Spearman's correlation of model and gold scores over the used pairs.

Analogy files (CA8, Google's questions-words) are read by `w2v.evaluation.load_analogies` and scored
with 3CosAdd top-1 accuracy per section and overall, gensim's `evaluate_word_analogies` semantics.

Vectors with characters (`kv.is_composed` true for some word of the set) answer pairs and questions
with unknown words from characters too; each set is then scored twice, on the vocabulary alone (the
numbers gensim's methods give, also for its FastText) and with composed words.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np
from scipy import stats

from w2v.errors import UserError
from w2v.evaluation import Question, analogy_summary, load_analogies, predict_analogies, read_lines
from w2v.vectors import KeyedVectors

logger = logging.getLogger(__name__)

Pair = tuple[str, str, float]


def load_word_pairs(path: str | os.PathLike) -> list[Pair]:
    """(word1, word2, gold score) for each pair line of `path` (format in the module docstring)."""
    pairs: list[Pair] = []
    for line_no, line in enumerate(read_lines(path, "word pairs"), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        fields = text.split("\t") if "\t" in text else text.split()
        fields = [f.strip() for f in fields]
        if len(fields) < 3 or not fields[0] or not fields[1]:
            raise UserError(f"{path}, line {line_no}: expected 'word1 word2 score', found {len(fields)} field(s); "
                            "separate the fields with a tab or spaces, or start a comment line with #")
        try:
            score = float(fields[2])
        except ValueError:
            score = math.nan
        if not math.isfinite(score):
            raise UserError(f"{path}, line {line_no}: the third field {fields[2]!r} is not a number; "
                            "put the similarity score there, or start a header line with #")
        pairs.append((fields[0], fields[1], score))
    if not pairs:
        raise UserError(f"{path}: no word pairs found; write 'word1 word2 score' lines")
    return pairs


def pair_cosines(kv: KeyedVectors, pairs: list[Pair], restrict_vocab: int = 300_000,
                 compose: bool = False) -> np.ndarray:
    """Cosine of each pair's vectors; NaN where a word has none (outside the first `restrict_vocab`
    words, or, with `compose`, also not composable)."""
    limit = min(int(restrict_vocab), len(kv))
    vectors: dict[str, np.ndarray | None] = {}

    def unit(word: str) -> np.ndarray | None:
        if word not in vectors:
            row = kv.key_to_index.get(word, limit)
            if row < limit:
                vectors[word] = kv.unit_vectors[row]
            elif compose and kv.has_vector(word):
                v = np.asarray(kv.get_vector(word), dtype=np.float32)
                norm = np.linalg.norm(v)
                vectors[word] = v / norm if norm > 0 else v
            else:
                vectors[word] = None
        return vectors[word]

    out = np.full(len(pairs), np.nan)
    used = [(i, unit(a), unit(b)) for i, (a, b, _) in enumerate(pairs)]
    used = [(i, u, v) for i, u, v in used if u is not None and v is not None]
    if used:
        left = np.stack([u for _, u, _ in used])
        right = np.stack([v for _, _, v in used])
        out[[i for i, _, _ in used]] = np.einsum("ij,ij->i", left, right)
    return out


def spearman(gold: np.ndarray, model: np.ndarray) -> float | None:
    """Spearman's rho (ties get average ranks, as scipy and gensim); None when undefined (< 2 pairs, a constant side)."""
    if len(gold) < 2 or np.ptp(gold) == 0 or np.ptp(model) == 0:
        return None
    return float(stats.spearmanr(gold, model).statistic)


def _pair_summary(gold: np.ndarray, cosines: np.ndarray) -> dict:
    used = ~np.isnan(cosines)
    return {"used": int(used.sum()), "coverage": float(used.mean()), "score": spearman(gold[used], cosines[used])}


def word_pair_scores(kv: KeyedVectors, pairs: list[Pair], restrict_vocab: int = 300_000) -> dict:
    """Spearman's rho and coverage of a word-pair set: ``vocab`` (vocabulary only) and ``chars``
    (with composed words; None when the vectors compose none of the set's words)."""
    composed = _composed_words(kv, [w for a, b, _ in pairs for w in (a, b)])
    gold = np.array([s for _, _, s in pairs])
    cosines = pair_cosines(kv, pairs, restrict_vocab, compose=bool(composed))
    in_range = pair_cosines(kv, pairs, restrict_vocab) if composed else cosines
    return {"kind": "word_pairs", "total": len(pairs), "composed_words": composed,
            "vocab": _pair_summary(gold, in_range), "chars": _pair_summary(gold, cosines) if composed else None}


def analogy_set_scores(kv: KeyedVectors, sections: list[tuple[str, list[Question]]],
                       restrict_vocab: int = 300_000) -> dict:
    """3CosAdd accuracy and coverage of an analogy set, overall and per section: ``vocab`` (all four
    words among the first `restrict_vocab`) and ``chars`` (a, b, c also composed; None when the
    vectors compose none of the set's words)."""
    flat = [q for _, questions in sections for q in questions]
    composed = _composed_words(kv, [w for q in flat for w in q])
    answers = predict_analogies(kv, flat, restrict_vocab, compose=bool(composed))
    limit = min(int(restrict_vocab), len(kv))
    in_range = [a if all(kv.key_to_index.get(w, limit) < limit for w in q) else None for q, a in zip(flat, answers)]
    return {"kind": "analogies", "total": len(flat), "composed_words": composed,
            "vocab": _accuracy(sections, in_range), "chars": _accuracy(sections, answers) if composed else None}


def _accuracy(sections: list[tuple[str, list[Question]]], answers: list) -> dict:
    """3CosAdd figures of `answers` (None: not covered), overall and per section."""
    per_section, start = [], 0
    for name, questions in sections:
        s = analogy_summary(name, questions, answers[start : start + len(questions)])
        per_section.append({"section": name, "questions": s["questions"], "used": s["answered"],
                            "coverage": s["coverage"], "score": s["accuracy_add"]})
        start += len(questions)
    flat = [q for _, questions in sections for q in questions]
    total = analogy_summary("total", flat, answers)
    return {"used": total["answered"], "coverage": total["coverage"], "score": total["accuracy_add"],
            "sections": per_section}


def _composed_words(kv: KeyedVectors, words: list[str]) -> int:
    """How many distinct words of a set the vectors compose from characters."""
    return sum(1 for w in dict.fromkeys(words) if kv.is_composed(w))


class TestSets:
    """The loaded test sets of one run: analogy files and word-pair files, each named by its file stem."""

    __test__ = False  # not a pytest class, whatever its name

    def __init__(self, analogy_sets: list[str | os.PathLike] = (), word_pairs: list[str | os.PathLike] = ()) -> None:
        self.analogies = [(str(p), load_analogies(p)) for p in analogy_sets]
        self.pairs = [(str(p), load_word_pairs(p)) for p in word_pairs]

    def __bool__(self) -> bool:
        return bool(self.analogies or self.pairs)

    def scores(self, kv: KeyedVectors, restrict_vocab: int = 300_000) -> list[dict]:
        """One entry per set (analogy sets first, in the given order), with its ``name`` and ``path``."""
        out = []
        for path, sections in self.analogies:
            out.append({"name": Path(path).stem, "path": path, **analogy_set_scores(kv, sections, restrict_vocab)})
        for path, pairs in self.pairs:
            out.append({"name": Path(path).stem, "path": path, **word_pair_scores(kv, pairs, restrict_vocab)})
        for entry in out:
            logger.info("%s: %s %s on %d of %d", entry["name"], "accuracy" if entry["kind"] == "analogies"
                        else "rho", entry["vocab"]["score"], entry["vocab"]["used"], entry["total"])
        return out
