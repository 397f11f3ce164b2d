"""One paper style for every bertology figure: colour-blind-safe palette, column-width sizes.

Figures are sized in inches for a two-column paper (column 3.35 in, page 7.0 in) and use
fonts that stay readable at that size; the palette is Okabe & Ito's (2008).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import matplotlib as mpl
from matplotlib.figure import Figure

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
"""Okabe–Ito colours: blue, orange, green, vermillion, purple, sky blue, yellow, black."""

SEQUENTIAL_CMAP = "viridis"
DIVERGING_CMAP = "RdBu_r"
WIDTHS = {"column": 3.35, "page": 7.0}

RC_PARAMS = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "axes.grid": False,
    "lines.linewidth": 1.4,
    "lines.markersize": 3.5,
    "figure.dpi": 150,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "image.cmap": SEQUENTIAL_CMAP,
}


def figure_width(width: Literal["column", "page"] | float) -> float:
    """A figure width in inches: ``"column"`` (3.35), ``"page"`` (7.0) or a number of inches.

    Parameters
    ----------
    width
        A name in :data:`WIDTHS` or a width in inches.

    Returns
    -------
    float

    Examples
    --------
    >>> figure_width("page"), figure_width(4)
    (7.0, 4.0)
    """
    return WIDTHS[width] if isinstance(width, str) else float(width)


@contextmanager
def paper_style() -> Iterator[None]:
    """Context in which matplotlib uses the bertology paper style.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> with paper_style():
    ...     plt.rcParams["font.size"]
    8.0
    """
    with mpl.rc_context(RC_PARAMS):
        yield


def new_figure(width: Literal["column", "page"] | float = "column", height: float | None = None,
               nrows: int = 1, ncols: int = 1, **subplot_kw: object) -> tuple[Figure, object]:
    """A figure in the paper style, ``width`` a column, a page, or inches.

    Parameters
    ----------
    width
        ``"column"`` (3.35 in), ``"page"`` (7.0 in) or a width in inches.
    height
        Height in inches; default 0.75 × width for a single panel.
    nrows, ncols, subplot_kw
        Passed to :meth:`matplotlib.figure.Figure.subplots`.

    Returns
    -------
    tuple
        ``(Figure, axes)``.

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> float(round(fig.get_figwidth(), 2))
    3.35
    """
    inches = figure_width(width)
    with paper_style():
        figure = Figure(figsize=(inches, height if height is not None else 0.75 * inches), layout="constrained")
        axes = figure.subplots(nrows, ncols, **subplot_kw)
    return figure, axes


def save_figure(figure: Figure, path: str | Path, formats: tuple[str, ...] = ("pdf", "png")) -> list[Path]:
    """Save a figure as vector PDF and PNG next to each other.

    Parameters
    ----------
    figure
        The matplotlib figure.
    path
        Target path; its suffix is replaced by each format's.
    formats
        File formats to write.

    Returns
    -------
    list of pathlib.Path
        The written files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> fig, ax = new_figure(); _ = ax.plot([0, 1])
    >>> [p.suffix for p in save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "line")]
    ['.pdf', '.png']
    """
    stem = Path(path).with_suffix("")
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    with paper_style():
        for fmt in formats:
            target = stem.with_suffix(f".{fmt}")
            figure.savefig(target, format=fmt)
            written.append(target)
    return written
