"""Paper figures of attention: one map with token labels, the layer × head grid, statistic heatmaps."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bertology.analyses.attention.sentence import SentenceAttention, Text, sentence_attention
from bertology.core.errors import InputError
from bertology.core.models import LoadedModel
from bertology.core.viz import new_figure, paper_style
from bertology.core.viz.style import figure_width

if TYPE_CHECKING:
    from bertology.analyses.attention.stats import AttentionStats

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


def _hide_frame(ax: Axes) -> None:
    """Hide the four spines around ``ax``."""
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
    _hide_frame(ax)
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


def plot_attention_grid(attention: SentenceAttention, layers: Sequence[int] | None = None,
                        heads: Sequence[int] | None = None, width: str | float = "page") -> Figure:
    """Layer × head grid of the attention maps of one input (rows: layers, columns: heads).

    Cells carry no token labels (see :func:`plot_attention_map` for one labelled head);
    rows are labelled ``L0…``, columns ``H0…``, with one shared colour scale.

    Parameters
    ----------
    attention
        From :func:`~bertology.analyses.attention.sentence_attention`.
    layers, heads
        Subsets to draw; default all.
    width
        ``"page"`` (default), ``"column"`` or inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> a = SentenceAttention(["a", "b"], np.full((2, 3, 2, 2), 0.5, np.float32), np.zeros(2, int))
    >>> len(plot_attention_grid(a).axes)  # 2 x 3 maps and the colour bar
    7
    """
    n_layers, n_heads = attention.patterns.shape[:2]
    layers = list(range(n_layers)) if layers is None else [range(n_layers)[i] for i in layers]
    heads = list(range(n_heads)) if heads is None else [range(n_heads)[i] for i in heads]
    inches = figure_width(width)
    cell = (inches - 0.85) / (len(heads) + 0.06 * (len(heads) - 1))
    height = cell * (len(layers) + 0.06 * (len(layers) - 1)) + 0.22
    spacing = dict(left=0.3 / inches, right=1 - 0.55 / inches, bottom=0.02 / height, top=1 - 0.2 / height,
                   wspace=0.06, hspace=0.06)
    figure, axes = new_figure(inches, height=height, nrows=len(layers), ncols=len(heads), squeeze=False,
                              gridspec_kw=spacing)
    figure.set_layout_engine("none")
    image = None
    with paper_style():
        for row, layer in enumerate(layers):
            for col, head in enumerate(heads):
                ax = axes[row, col]
                image = ax.imshow(attention.patterns[layer, head], cmap="viridis", vmin=0.0, vmax=1.0,
                                  interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                _hide_frame(ax)
                if row == 0:
                    ax.set_title(f"H{head}", fontsize=7, pad=2)
                if col == 0:
                    ax.set_ylabel(f"L{layer}", fontsize=7, rotation=0, ha="right", va="center", labelpad=2)
        colorbar_axes = figure.add_axes((1 - 0.45 / inches, 0.25, 0.08 / inches, 0.5))
        figure.colorbar(image, cax=colorbar_axes, label="attention")
    return figure


def plot_stat_heatmaps(stats: AttentionStats, statistics: Sequence[str] | None = None,
                       width: str | float = "page") -> Figure:
    """One heatmap per head statistic, layers (rows) × heads (columns), each with its colour bar.

    Parameters
    ----------
    stats
        From :func:`bertology.attention_stats`.
    statistics
        Which statistics to draw; default all (see :data:`~bertology.analyses.attention.STATISTICS`).
    width
        ``"page"`` (default, four panels a row), ``"column"`` (two a row) or inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from bertology.analyses.attention.stats import AttentionStats, STATISTICS
    >>> s = AttentionStats({k: np.random.rand(6, 12) for k in STATISTICS}, n_sentences=1, n_tokens=9)
    >>> [ax.get_title() for ax in plot_stat_heatmaps(s, ["to_cls"]).axes[:1]]
    ['to [CLS]']
    """
    from bertology.analyses.attention.stats import STATISTIC_LABELS, STATISTICS

    names = list(STATISTICS if statistics is None else statistics)
    unknown = [name for name in names if name not in STATISTICS]
    if unknown or not names:
        raise InputError(f"Unknown statistics {unknown}: choose from {', '.join(STATISTICS)}.")
    inches = figure_width(width)
    ncols = min(len(names), 4 if inches >= 5 else 2)
    nrows = math.ceil(len(names) / ncols)
    n_layers, n_heads = stats.shape
    panel = inches / ncols
    cell = panel * 0.7 / n_heads
    figure, axes = new_figure(inches, height=nrows * (cell * max(n_layers, 4) + 0.5), nrows=nrows, ncols=ncols,
                              squeeze=False)
    with paper_style():
        for index, ax in enumerate(axes.ravel()):
            if index >= len(names):
                ax.set_visible(False)
                continue
            name = names[index]
            values = stats.values[name]
            bounded = name.startswith("to_")
            image = ax.imshow(values, cmap="viridis", vmin=0.0, vmax=1.0 if bounded else None, aspect="auto",
                              interpolation="nearest")
            ax.set_title(STATISTIC_LABELS[name])
            head_ticks = np.arange(0, n_heads, max(1, math.ceil(n_heads / 6)))
            ax.set_xticks(head_ticks)
            ax.set_yticks(np.arange(0, n_layers, max(1, math.ceil(n_layers / 6))))
            ax.tick_params(length=2, pad=1)
            if index % ncols == 0:
                ax.set_ylabel("layer")
            if index // ncols == nrows - 1 or index + ncols >= len(names):
                ax.set_xlabel("head")
            _hide_frame(ax)
            colorbar = figure.colorbar(image, ax=ax, aspect=12, pad=0.02)
            colorbar.ax.tick_params(labelsize=6, length=2)
    return figure


def attention_grid(model: LoadedModel, sentence: Text, layers: Sequence[int] | None = None,
                   heads: Sequence[int] | None = None, width: str | float = "page") -> Figure:
    """Layer × head grid of attention maps for one sentence or pair (paper figure).

    Parameters
    ----------
    model
        From :func:`bertology.load_model`.
    sentence
        A sentence or a ``(text_a, text_b)`` pair.
    layers, heads
        Subsets to draw; default all.
    width
        ``"page"`` (default), ``"column"`` or inches.

    Returns
    -------
    matplotlib.figure.Figure
        Save it with :func:`bertology.core.viz.save_figure` (vector PDF + PNG).

    Examples
    --------
    >>> import bertology as bt
    >>> fig = bt.attention_grid(bt.load_model("minilm"), "The bank in the city is closed")
    >>> len(fig.axes)  # 6 layers x 12 heads and the colour bar
    73
    """
    return plot_attention_grid(sentence_attention(model, sentence), layers=layers, heads=heads, width=width)


def attention_head_map(model: LoadedModel, sentence: Text, layer: int, head: int,
                       width: str | float = "column") -> Figure:
    """One head's attention map for one sentence or pair, with token labels.

    Parameters
    ----------
    model
        From :func:`bertology.load_model`.
    sentence
        A sentence or a ``(text_a, text_b)`` pair.
    layer, head
        Which head (negative indices count from the end).
    width
        ``"column"`` (default), ``"page"`` or inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        If the layer or head does not exist.

    Examples
    --------
    >>> import bertology as bt
    >>> fig = attention_head_map(bt.load_model("minilm"), "The bank is closed.", layer=2, head=5)
    >>> fig.axes[0].get_title()
    'layer 2, head 5'
    """
    if not (-model.num_layers <= layer < model.num_layers and -model.num_heads <= head < model.num_heads):
        raise InputError(f"No head ({layer}, {head}): this model has layers 0..{model.num_layers - 1} "
                         f"and heads 0..{model.num_heads - 1}.")
    attention = sentence_attention(model, sentence)
    layer, head = layer % model.num_layers, head % model.num_heads
    return plot_attention_map(attention.patterns[layer, head], attention.tokens,
                              title=f"layer {layer}, head {head}", width=width)
