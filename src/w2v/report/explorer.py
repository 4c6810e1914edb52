"""The vector explorer: one self-contained HTML page to browse the models side by side.

The page (`explorer.html`, with its script `explorer.js` and style `explorer.css` inlined) needs no
network: the data travels inside it as one JSON block. Per model it holds the words (most frequent
first, at most `max_words`), their unit vectors as little-endian float16 in base64 (cosines stay
within about 1e-3 of float32 ones, at a quarter of the text size), and a 2-D PCA map of the
`map_words` most frequent words plus the alias-group words, with the projection itself, so that
the page places a query's neighbours on the map too. With character vectors (`KeyedVectors.chars`),
their rows travel as float16 base64 as well, and the page composes a vector for a word outside
the vocabulary as `KeyedVectors` does: the mean of its characters' rows. Every word reaches the page as JSON
data and is shown through `textContent`, never as markup, so a corpus word like ``<script>`` stays
text; the JSON escapes ``<``, ``>`` and ``&`` so it cannot close its own script element, and a
Content-Security-Policy forbids any network access.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
import re
from importlib import resources

import numpy as np

from w2v.io import atomic_open
from w2v.report.figures import display_name, pca_axes
from w2v.vectors import KeyedVectors

logger = logging.getLogger(__name__)

DATA_FORMAT = "w2v-explorer-1"


def explorer_data(
    models: list[tuple[str, KeyedVectors]],
    counts: dict[str, int],
    groups: list[list[str]],
    corpus: str,
    topn: int = 10,
    max_words: int = 20_000,
    map_words: int = 1_000,
) -> dict:
    """What the page shows, as plain JSON-able data (see the module docstring)."""
    data = {"format": DATA_FORMAT, "corpus": corpus, "topn": topn, "groups": groups, "models": []}
    for name, kv in models:
        n = min(len(kv), max_words)
        words = kv.index_to_key[:n]
        model = {
            "name": name,
            "label": display_name(name),
            "dim": kv.vector_size,
            "total_words": len(kv),
            "words": words,
            "counts": [int(counts.get(w, 0)) for w in words],
            "vectors": _half_base64(kv.unit_vectors[:n]),
            "map": _map(kv, n, groups, map_words),
        }
        if kv.chars is not None:
            # raw, not unit: a composed vector is the plain mean of its characters' rows
            model["chars"] = {"keys": kv.chars.index_to_key, "vectors": _half_base64(kv.chars.vectors)}
        data["models"].append(model)
    return data


def _half_base64(rows: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(rows, dtype="<f2").tobytes()).decode("ascii")


def _map(kv: KeyedVectors, n: int, groups: list[list[str]], map_words: int) -> dict:
    """The map: the `map_words` most frequent words, then the alias-group words among the first `n`.

    ``pca`` (the mean and two axes) lets the page place any other word the same way, as a query's
    neighbours; alias-group names outside the vocabulary with a composed vector are in ``composed``.
    """
    frequent = min(n, map_words)
    on_map = list(range(frequent))
    group_of = [-1] * frequent
    composed: dict[str, int] = {}  # a word of two groups keeps its first
    added: set[int] = set()
    for g, group in enumerate(groups):
        for word in group:
            i = kv.key_to_index.get(word)
            if i is None and kv.is_composed(word):
                composed.setdefault(word, g)
            elif i is not None and i < frequent:
                group_of[i] = g if group_of[i] < 0 else group_of[i]
            elif i is not None and i < n and i not in added:
                added.add(i)
                on_map.append(i)
                group_of.append(g)
    points = kv.unit_vectors[on_map]
    mean, axes = pca_axes(points) if len(on_map) >= 2 else (np.zeros(kv.vector_size), np.zeros((2, kv.vector_size)))
    coords = (points - mean) @ axes.T
    extra = np.array([kv.get_vector(w, norm=True) for w in composed]).reshape(-1, kv.vector_size)
    extra_coords = (extra - mean) @ axes.T
    return {
        "frequent": frequent,  # the first this many points; alias-group words follow
        "index": on_map,
        "group": group_of,
        "x": _rounded(coords[:, 0]),
        "y": _rounded(coords[:, 1]),
        "pca": {"mean": _rounded(mean, 6), "axes": [_rounded(a, 6) for a in axes]},
        "composed": {"words": list(composed), "group": list(composed.values()),
                     "x": _rounded(extra_coords[:, 0]), "y": _rounded(extra_coords[:, 1])},
    }


def _rounded(values: np.ndarray, digits: int = 4) -> list[float]:
    return [round(float(v), digits) for v in values]


def script_json(data: dict) -> str:
    """JSON that is safe inside a <script> element: no '<', '>' or '&' can end it or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_explorer(data: dict) -> str:
    """The whole page: the template with its style, script and data inlined."""
    files = resources.files("w2v.report")
    page = (files / "explorer.html").read_text(encoding="utf-8")
    parts = {
        "/*W2V_STYLE*/": (files / "explorer.css").read_text(encoding="utf-8"),
        "/*W2V_SCRIPT*/": (files / "explorer.js").read_text(encoding="utf-8"),
        "/*W2V_DATA*/": script_json(data),
        "W2V_TITLE": html.escape(f"Word vectors of {data['corpus']}"),
    }
    # One pass over the template, so text already inserted (a word, the script) is never searched.
    return re.sub("|".join(re.escape(m) for m in parts), lambda match: parts[match.group(0)], page)


def write_explorer(path: str | os.PathLike, data: dict) -> None:
    """Write the explorer page atomically."""
    page = render_explorer(data)
    with atomic_open(path, "w") as out:
        out.write(page)
    logger.info("wrote %s (%.1f MB, %s)", path, len(page.encode("utf-8")) / 1e6,
                ", ".join(f"{m['label']}: {len(m['words']):,} words" for m in data["models"]))
