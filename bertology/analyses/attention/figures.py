"""Drawing shared by the attention figures: token labels thinned to fit, one labelled attention map."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bertology.core.errors import InputError
from bertology.core.viz import new_figure, paper_style
from bertology.core.viz.style import figure_width

LABEL_HEIGHT_IN = 0.11
"""Space one tick label of the paper font needs; labels closer than this are thinned."""


def thinned_labels(tokens: Sequence[str], span_in: float) -> tuple[np.ndarray, list[str]]:
    """Tick positions and labels for ``tokens`` along an axis ``span_in`` inches long.

    Every ``k``-th token is kept, with ``k`` the smallest step at which labels do not
    overlap at the paper font size; the last token is always labelled.

    Examples
    --------
    >>> thinned_labels([str(i) for i in range(100)], 2.0)[0][:3].tolist()
    [0, 6, 12]
    """
    capacity = max(2, int(span_in / LABEL_HEIGHT_IN))
    step = max(1, math.ceil(len(tokens) / capacity))
    positions = np.arange(0, len(tokens), step)
    if positions[-1] != len(tokens) - 1 and len(tokens) - 1 - positions[-1] >= step / 2:
        positions = np.append(positions, len(tokens) - 1)
    return positions, [tokens[i] for i in positions]


def hide_frame(ax: Axes) -> None:
    """Hide the four spines around ``ax``.

    Examples
    --------
    >>> _, ax = new_figure()
    >>> hide_frame(ax); any(spine.get_visible() for spine in ax.spines.values())
    False
    """
    for spine in ax.spines.values():
        spine.set_visible(False)


def _draw_map(ax: Axes, matrix: np.ndarray, tokens: Sequence[str], span_in: float) -> object:
    image = ax.imshow(matrix, cmap="viridis", vmin=0.0, vmax=max(float(matrix.max()), 1e-9), aspect="equal",
                      interpolation="nearest")
    positions, labels = thinned_labels(list(tokens), span_in)
    ax.set_xticks(positions, labels, rotation=90)
    ax.set_yticks(positions, labels)
    ax.tick_params(length=0, pad=1.5)
    ax.set_xlabel("key")
    ax.set_ylabel("query")
    hide_frame(ax)
    return image


def plot_attention_map(matrix: np.ndarray, tokens: Sequence[str], title: str | None = None,
                       width: str | float = "column") -> Figure:
    """One attention map (query rows, key columns) with token labels, thinned when long.

    Parameters
    ----------
    matrix
        ``(query, key)`` weights.
    tokens
        One label per position.
    title
        Axes title.
    width
        ``"column"``, ``"page"`` or inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_attention_map(np.eye(3), ["[CLS]", "hi", "[SEP]"], title="toy")
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['[CLS]', 'hi', '[SEP]']
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape != (len(tokens), len(tokens)):
        raise InputError(f"matrix must be (n, n) with n = {len(tokens)} tokens, got shape {matrix.shape}.")
    inches = figure_width(width)
    figure, ax = new_figure(inches, height=inches * 0.95)
    with paper_style():
        image = _draw_map(ax, matrix, tokens, span_in=inches * 0.75)
        if title:
            ax.set_title(title)
        figure.colorbar(image, ax=ax, shrink=0.7, label="attention")
    return figure
