"""Report figures: loss per epoch, and a PCA map of the alias-group words.

Matplotlib is used through its object API (`Figure` + Agg canvas): no pyplot, no global state.
Chinese labels need a CJK font; when none is configured or installed, points are labelled by
number and the report lists the numbers' words (`FigureLabels.by_number`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from w2v.errors import UserError
from w2v.io import atomic_path
from w2v.vectors import KeyedVectors

logger = logging.getLogger(__name__)

# Family names of common fonts with Chinese glyphs (Debian, macOS, Windows, Noto/Source Han).
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Serif CJK SC", "Noto Sans SC", "Noto Sans CJK JP", "Source Han Sans SC",
    "Source Han Sans CN", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Droid Sans Fallback",
    "AR PL UMing CN", "AR PL UKai CN", "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC",
    "STHeiti", "Songti SC", "SimSun",
)
# Parts of the file names of the same fonts.
CJK_FILE_PARTS = (
    "notosanscjk", "notoserifcjk", "notosanssc", "sourcehansans", "wqy-microhei", "wqy-zenhei",
    "droidsansfallback", "uming", "ukai", "simhei", "simsun", "msyh", "pingfang",
)
DISPLAY = {"cbow": "CBOW", "skipgram": "skip-gram"}


def display_name(model: str) -> str:
    """How a model is named in the report (CBOW, skip-gram)."""
    return DISPLAY.get(model, model)


def find_cjk_font(font_file: str = ""):
    """FontProperties for Chinese labels: `font_file` if given, else an installed CJK font, else None."""
    from matplotlib import font_manager

    if font_file:
        path = Path(font_file)
        if not path.is_file():
            raise UserError(f"config key eval.font: font file {path} not found; give a .ttf/.otf/.ttc file or \"\"")
        return font_manager.FontProperties(fname=str(path))
    installed = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            logger.debug("figure labels use the CJK font %s", family)
            return font_manager.FontProperties(fname=installed[family])
    # matplotlib's font list is cached: a font installed after the cache was built shows up only here.
    for path in sorted(font_manager.findSystemFonts()):
        if any(part in Path(path).name.lower() for part in CJK_FILE_PARTS):
            logger.debug("figure labels use the CJK font file %s", path)
            return font_manager.FontProperties(fname=path)
    logger.info("no CJK font found: figure points are labelled by number (set eval.font to a font file)")
    return None


def _save(fig, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, metadata={"Software": None})


def plot_loss(histories: list[dict], path: str | os.PathLike) -> None:
    """One line per model: mean training loss per example against epoch."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = fig.add_subplot()
    for history in histories:
        epochs = [e["epoch"] for e in history["epochs"]]
        losses = [e["loss"] for e in history["epochs"]]
        ax.plot(epochs, losses, marker="o", markersize=3, label=display_name(history["model"]))
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss per training example")
    ax.set_title("Training loss")
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, Path(path))


@dataclass
class FigureLabels:
    """How the PCA figure names its points: words (CJK font) or numbers listed in the report."""

    by_number: bool
    numbers: dict[str, int] = field(default_factory=dict)  # word -> number shown


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """Project rows on their first two principal components (signs fixed, so runs agree)."""
    centred = vectors - vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    axes = vt[:2]
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    coords = centred @ (axes * signs[:, None]).T
    if coords.shape[1] < 2:
        coords = np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
    return coords


def plot_alias_pca(
    models: list[tuple[str, KeyedVectors]], groups: list[list[str]], path: str | os.PathLike, font=None
) -> FigureLabels:
    """One panel per model: the alias-group words in the model's vocabulary, PCA of unit vectors."""
    from matplotlib.figure import Figure

    labels = FigureLabels(by_number=font is None)
    if labels.by_number:
        for group in groups:
            for word in group:
                labels.numbers.setdefault(word, len(labels.numbers) + 1)
    fig = Figure(figsize=(6.0 * len(models), 5.2), layout="constrained")
    colours = [f"C{i % 10}" for i in range(len(groups))]
    for panel, (model, kv) in enumerate(models, start=1):
        ax = fig.add_subplot(1, len(models), panel)
        words = [(g, w) for g, group in enumerate(groups) for w in group if w in kv]
        ax.set_title(display_name(model))
        ax.set_xticks([])
        ax.set_yticks([])
        if len(words) < 2:
            note = "no alias groups configured" if not groups else "fewer than two alias words in the vocabulary"
            ax.text(0.5, 0.5, note, ha="center", transform=ax.transAxes)
            continue
        coords = pca_2d(kv.unit_vectors[[kv.key_to_index[w] for _, w in words]])
        for g in sorted({g for g, _ in words}):
            idx = [i for i, (gg, _) in enumerate(words) if gg == g]
            name = f"group {g + 1}" if labels.by_number else groups[g][0]
            ax.scatter(coords[idx, 0], coords[idx, 1], color=colours[g], s=22, label=name)
        for (g, word), (x, y) in zip(words, coords):
            text = str(labels.numbers[word]) if labels.by_number else word
            ax.annotate(text, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=8,
                        color=colours[g], fontproperties=font)
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
        legend_font = None
        if font is not None:
            legend_font = font.copy()
            legend_font.set_size(7)
        ax.legend(fontsize=7, loc="best", prop=legend_font)
    _save(fig, Path(path))
    return labels
