"""Measures of vector quality: alias retrieval and word analogies.

Alias retrieval (file format: one group a line, words separated by whitespace, ``#`` starts a
comment). For every group word ``w`` in the vocabulary that has at least one other member in the
vocabulary, all vocabulary words except ``w`` are ranked by cosine similarity to ``w``; the rank
of the best-ranked other member is ``w``'s rank (1 = the nearest word). Ties count in the query's
favour: the rank is 1 + the number of non-members strictly more similar than that member.
hit@k is the fraction of evaluated words with rank <= k, MRR the mean of 1 / rank, coverage the
fraction of the group words found in the vocabulary. With character vectors, a group word outside
the vocabulary whose vector can be composed from its characters is ranked the same way (against
the vocabulary words) and reported apart, as composed.

Analogies (3CosAdd, 3CosMul) are scored by `analogy_scores` below.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from w2v.errors import UserError
from w2v.vectors import KeyedVectors

logger = logging.getLogger(__name__)

# Queries scored per matrix product: at most CHUNK, and at most BLOCK_ELEMENTS / vocabulary so that
# a (queries x vocabulary) score matrix stays within 64 MB however large the vocabulary. Smaller
# blocks reread the whole vector table for a few queries each and run slower.
CHUNK = 512
BLOCK_ELEMENTS = 1 << 24


def rows_per_block(width: int) -> int:
    """Queries per block when each query scores `width` words."""
    return max(1, min(CHUNK, BLOCK_ELEMENTS // max(width, 1)))


def read_lines(path: str | os.PathLike, what: str) -> list[str]:
    """The lines of a UTF-8 text file, with a UserError naming the file when it cannot be read."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise UserError(f"{path}: {what} file not found; check the path in config eval section") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, expected a {what} file") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not valid UTF-8 (byte {exc.start}); save the {what} file as UTF-8") from None


def load_alias_groups(path: str | os.PathLike) -> list[list[str]]:
    """Alias groups from `path`: one group a line, duplicates within a group dropped.

    Blank lines and text after ``#`` are ignored. A line with a single word is an error (a group
    needs two names to test anything), as is a file with no group at all.
    """
    groups: list[list[str]] = []
    for line_no, line in enumerate(read_lines(path, "alias groups"), start=1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        group = list(dict.fromkeys(words))
        if len(group) < 2:
            raise UserError(
                f"{path}, line {line_no}: a group needs at least two different words, found {group}; "
                "add the other names of this character or remove the line"
            )
        groups.append(group)
    if not groups:
        raise UserError(f"{path}: no alias groups found; write one group of names a line")
    return groups


def alias_ranks(kv: KeyedVectors, groups: list[list[str]]) -> list[dict[str, int | None]]:
    """For each group, each word's rank (None when it has no vector or no partner in the vocabulary).

    A word outside the vocabulary whose vector is composed from its characters (`kv.is_composed`)
    is ranked too, against the vocabulary words; it is never a partner, since answers are
    vocabulary words.
    """
    queries: list[tuple[int, str, list[int]]] = []  # (group index, query word, partner rows)
    result: list[dict[str, int | None]] = []
    for g, group in enumerate(groups):
        rows = {w: kv.key_to_index[w] for w in group if w in kv}
        result.append({w: None for w in group})
        for w in group:
            partners = [r for other, r in rows.items() if other != w]
            if partners and (w in rows or kv.is_composed(w)):
                queries.append((g, w, partners))
    unit = kv.unit_vectors
    step = rows_per_block(len(kv))
    for start in range(0, len(queries), step):
        chunk = queries[start : start + step]
        sims = np.stack([kv.get_vector(w, norm=True) for _, w, _ in chunk]) @ unit.T
        own = [(i, kv.key_to_index[w]) for i, (_, w, _) in enumerate(chunk) if w in kv]
        if own:  # the query word itself is not ranked
            sims[tuple(np.array(own).T)] = -np.inf
        best = np.array([sims[i, partners].max() for i, (_, _, partners) in enumerate(chunk)])
        ranks = 1 + (sims > best[:, None]).sum(axis=1)
        for (g, w, _), rank in zip(chunk, ranks):
            result[g][w] = int(rank)
    return result


def _summary(ranks: list[int | None], n_words: int, n_known: int, topn: int) -> dict:
    got = np.array([r for r in ranks if r is not None], dtype=np.float64)
    return {
        f"hit_at_{topn}": float((got <= topn).mean()) if got.size else None,
        "mrr": float((1.0 / got).mean()) if got.size else None,
        "coverage": n_known / n_words if n_words else 0.0,
        "evaluated": int(got.size),
    }


def alias_metrics(kv: KeyedVectors, groups: list[list[str]], topn: int = 10) -> dict:
    """hit@topn, MRR, coverage and evaluated count, overall and per group (see the module docstring).

    The hit key is named after `topn` (``hit_at_10`` by default). Metrics of a group (or of the whole
    set) with no evaluated word are None. Each `per_group` entry also holds ``words``, ``ranks``
    (word -> rank or None) and ``composed`` (its names outside the vocabulary with a composed vector).
    These metrics count vocabulary names only, so models with and without character vectors compare;
    ``composed`` holds the same metrics for the composed names (coverage: their share of all names,
    ``words``: the names), ``no_vector`` the names with no vector at all.
    """
    if topn < 1:
        raise ValueError(f"topn must be at least 1, got {topn}")
    all_ranks = alias_ranks(kv, groups)
    per_group = []
    for group, ranks in zip(groups, all_ranks):
        known = [w for w in group if w in kv]
        entry = _summary([ranks[w] for w in known], len(group), len(known), topn)
        entry.update(words=list(group), ranks=ranks, composed=[w for w in group if kv.is_composed(w)])
        per_group.append(entry)
    names = [w for g in groups for w in g]
    known = [ranks[w] for ranks, g in zip(all_ranks, groups) for w in g if w in kv]
    composed = [(w, ranks[w]) for ranks, g in zip(all_ranks, groups) for w in g if kv.is_composed(w)]
    total = _summary(known, len(names), len(known), topn)
    total["topn"] = topn
    total["composed"] = _summary([r for _, r in composed], len(names), len(composed), topn)
    total["composed"]["words"] = list(dict.fromkeys(w for w, _ in composed))
    total["no_vector"] = list(dict.fromkeys(w for w in names if not kv.has_vector(w)))
    total["per_group"] = per_group
    return total


# ---------------------------------------------------------------------------- analogies
# Analogy files follow gensim's and CA8's format: ``: section`` header lines, then questions of four
# words ``a b c d`` meaning "a is to b as c is to d". The answer is searched among the first
# `restrict_vocab` words (gensim's default 300,000), leaving out a, b and c; a question with any word
# outside those is not answered and only lowers coverage. Accuracy = correct / answered, as gensim.
# Differences from gensim's `evaluate_word_analogies`: words are matched exactly (gensim upper-cases
# both sides by default, which changes nothing for Chinese), and a malformed line is an error naming
# the line instead of being skipped. With character vectors (`compose`), a question whose a, b or c is
# outside the vocabulary is answered from the word's composed vector; one whose d is outside stays
# uncovered, since answers are vocabulary words only.

# Levy & Goldberg's epsilon for 3CosMul (keeps the division finite).
COSMUL_EPS = 1e-3

Question = tuple[str, str, str, str]


def load_analogies(path: str | os.PathLike) -> list[tuple[str, list[Question]]]:
    """Sections of analogy questions, in file order: [(section name, [(a, b, c, d), ...]), ...]."""
    sections: list[tuple[str, list[Question]]] = []
    for line_no, line in enumerate(read_lines(path, "analogy"), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith(":"):
            name = text[1:].strip()
            if not name:
                raise UserError(f"{path}, line {line_no}: a section header needs a name, as ': capital-common'")
            sections.append((name, []))
            continue
        words = text.split()
        if len(words) != 4:
            raise UserError(
                f"{path}, line {line_no}: expected four words 'a b c d' (a is to b as c is to d), "
                f"found {len(words)}"
            )
        if not sections:
            raise UserError(f"{path}, line {line_no}: question before any ': section' header; add one above it")
        sections[-1][1].append(tuple(words))  # type: ignore[arg-type]
    if not any(questions for _, questions in sections):
        raise UserError(f"{path}: no analogy questions found; write ': section' then 'a b c d' lines")
    return sections


def predict_analogies(
    kv: KeyedVectors, questions: list[Question], restrict_vocab: int = 300_000, compose: bool = False
) -> list[tuple[str, str] | None]:
    """(3CosAdd answer, 3CosMul answer) for each question, or None when it is not covered.

    A question is covered when its four words are among the first `restrict_vocab` words. With
    `compose`, a, b and c may also be any other word `kv.has_vector` answers (composed from characters,
    or a vocabulary word past the range); d must still be among the candidate answers.
    """
    limit = min(int(restrict_vocab), len(kv))
    unit = kv.unit_vectors[:limit]
    answers: list[tuple[str, str] | None] = [None] * len(questions)
    extra: dict[str, np.ndarray | None] = {}  # unit vectors of question words outside the range
    todo = []
    for n, q in enumerate(questions):
        rows = [kv.key_to_index.get(w, limit) for w in q]
        if rows[3] >= limit or (max(rows) >= limit and not compose):
            continue
        if all(row < limit or _unit_vector(kv, w, extra) is not None for w, row in zip(q[:3], rows)):
            todo.append((n, rows))
    step = max(1, rows_per_block(limit) // 3)  # one product scores a, b and c of `step` questions
    for start in range(0, len(todo), step):
        chunk = todo[start : start + step]
        ids = np.array([rows for _, rows in chunk])  # (n, 4)
        sims = _question_vectors(unit, ids[:, :3], [questions[n][:3] for n, _ in chunk], extra) @ unit.T
        sa, sb, sc = np.split(sims, 3)
        add = sb - sa + sc  # = cos(x, b - a + c) up to a positive factor per question
        sims += 1  # in place from here on: the cosines become (cos + 1) / 2 for 3CosMul
        sims /= 2
        sa += COSMUL_EPS
        mul = sb * sc
        mul /= sa
        known, col = np.nonzero(ids[:, :3] < limit)  # question words among the candidates are no answer
        add[known, ids[known, col]] = -np.inf
        mul[known, ids[known, col]] = -np.inf
        for (n, _), i_add, i_mul in zip(chunk, add.argmax(axis=1), mul.argmax(axis=1)):
            answers[n] = (kv.index_to_key[i_add], kv.index_to_key[i_mul])
    return answers


def _unit_vector(kv: KeyedVectors, word: str, cache: dict[str, np.ndarray | None]) -> np.ndarray | None:
    """`word`'s vector scaled to unit length (None when it has none), remembered in `cache`."""
    if word not in cache:
        vector = np.asarray(kv.get_vector(word), dtype=np.float32) if kv.has_vector(word) else None
        if vector is not None:
            norm = np.linalg.norm(vector)
            vector = vector / norm if norm > 0 else vector
        cache[word] = vector
    return cache[word]


def _question_vectors(unit: np.ndarray, ids: np.ndarray, words: list[Question], extra: dict) -> np.ndarray:
    """Unit vectors of a (n, 3) block of question words, a's then b's then c's; rows past `unit` from `extra`."""
    limit = len(unit)
    order = ids.T.ravel()
    vectors = unit[np.minimum(order, limit - 1)]
    for i in np.flatnonzero(order >= limit):
        column, row = divmod(int(i), len(ids))
        vectors[i] = extra[words[row][column]]
    return vectors


def analogy_summary(name: str, questions: list[Question], answers: list[tuple[str, str] | None]) -> dict:
    """Counts and accuracies of one section's `answers` (None: not covered), as `analogy_scores` reports them."""
    answered = [(q, a) for q, a in zip(questions, answers) if a is not None]
    add = sum(a[0] == q[3] for q, a in answered)
    mul = sum(a[1] == q[3] for q, a in answered)
    n = len(answered)
    return {
        "section": name,
        "questions": len(questions),
        "answered": n,
        "coverage": n / len(questions) if questions else 0.0,
        "correct_add": int(add),
        "correct_mul": int(mul),
        "accuracy_add": add / n if n else None,
        "accuracy_mul": mul / n if n else None,
    }


def analogy_scores(
    kv: KeyedVectors, sections: list[tuple[str, list[Question]]], restrict_vocab: int = 300_000,
    compose: bool = False,
) -> dict:
    """3CosAdd and 3CosMul accuracy and coverage, overall and per section (`compose`: as `predict_analogies`).

    Returns the overall summary (keys questions, answered, coverage, correct_add, correct_mul,
    accuracy_add, accuracy_mul; accuracies None when nothing was answered) plus ``sections`` (one
    such dict per section, with its name) and ``details`` (per question: a, b, c, expected,
    section, add, mul answers or None).
    """
    flat = [(name, q) for name, questions in sections for q in questions]
    answers = predict_analogies(kv, [q for _, q in flat], restrict_vocab, compose)
    per_section, start = [], 0
    for name, questions in sections:
        per_section.append(analogy_summary(name, questions, answers[start : start + len(questions)]))
        start += len(questions)
    total = analogy_summary("total", [q for _, q in flat], answers)
    total["sections"] = per_section
    total["details"] = [
        {"section": name, "a": q[0], "b": q[1], "c": q[2], "expected": q[3],
         "add": a[0] if a else None, "mul": a[1] if a else None}
        for (name, q), a in zip(flat, answers)
    ]
    return total
