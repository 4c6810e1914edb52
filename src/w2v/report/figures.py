"""Report figures: loss per epoch, and a PCA map of the alias-group words.

Each figure is written twice: as SVG with its text kept as text (matplotlib's ``svg.fonttype:
none``), so the reader's browser draws Chinese words with its own fonts and no font is needed where
the figure is made; and as a PNG fallback, drawn with a CJK font when one is configured or installed.
Matplotlib is used through its object API (`Figure` + Agg canvas): no pyplot, no global state.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from w2v.config import model_title
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
def display_name(model: str) -> str:
    """How a model is named in the report (CBOW, skip-gram): its config section's title."""
    return model_title(model)


def find_cjk_font(font_file: str = ""):
    """FontProperties for Chinese in PNG figures: `font_file` if given, else an installed CJK font, else None."""
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
    logger.info("no CJK font found: the PNG fallbacks show boxes for Chinese (the SVG figures do not); "
                "set eval.font to a font file for them")
    return None


def _save(fig, svg_path: Path) -> None:
    """Write `svg_path` (text as text, no date, fixed ids) and the PNG fallback beside it."""
    import warnings

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    with warnings.catch_warnings():
        # Without a CJK font, layout measures Chinese with placeholder glyphs and the PNG shows boxes;
        # the SVG, whose words the reader's browser draws, is the figure to read then.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "w2v"}):
            with atomic_path(svg_path) as tmp:
                fig.savefig(tmp, format="svg", metadata={"Date": None})
        with atomic_path(svg_path.with_suffix(".png")) as tmp:
            fig.savefig(tmp, format="png", dpi=110, metadata={"Software": None})


def plot_loss(histories: list[dict], path: str | os.PathLike) -> None:
    """One line per model: mean training loss per example against epoch (`path`: the SVG)."""
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


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """Project rows on their first two principal components (signs fixed, so runs agree)."""
    mean, axes = pca_axes(vectors)
    return (vectors - mean) @ axes.T


def pca_axes(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean row, first two principal axes as a 2 x dim array, zero rows where there are fewer)."""
    mean = vectors.mean(axis=0, dtype=np.float64)
    _, _, vt = np.linalg.svd(vectors.astype(np.float64) - mean, full_matrices=False)
    axes = vt[:2]
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    axes = axes * signs[:, None]
    if len(axes) < 2:
        axes = np.pad(axes, ((0, 2 - len(axes)), (0, 0)))
    return mean, axes


def plot_alias_pca(
    models: list[tuple[str, KeyedVectors]], groups: list[list[str]], path: str | os.PathLike, font=None
) -> None:
    """One panel per model: the alias-group words in its vocabulary, PCA of unit vectors (`path`: the SVG).

    Points are labelled with their words and the legend names each group by its first name; `font`
    (FontProperties of a CJK font, or None) only matters for the PNG fallback.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0 * len(models), 5.2), layout="constrained")
    colours = [f"C{i % 10}" for i in range(len(groups))]
    small = None
    if font is not None:
        small = font.copy()
        small.set_size(7)
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
            # "$" escaped: matplotlib reads text between two of them as mathtext, and fails on bad TeX
            label = groups[g][0].replace("$", r"\$")
            ax.scatter(coords[idx, 0], coords[idx, 1], color=colours[g], s=22, label=label)
        for (g, word), (x, y) in zip(words, coords):
            ax.annotate(word, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=8,
                        color=colours[g], fontproperties=font, parse_math=False)  # words are text
        ax.margins(0.12)  # room for the labels of the outermost points
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
        ax.legend(fontsize=7, loc="best", prop=small, title="group (first name)", title_fontsize=7)
    _save(fig, Path(path))
