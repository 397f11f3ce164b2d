"""Cloze figures: per-group bars with CIs, bias-score distributions, top-k fill tables."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bertology.core.viz import PALETTE, new_figure


def plot_condition_bars(summary: pd.DataFrame, metric: str, chance: float | None = None,
                        title: str = "") -> Figure:
    """Horizontal bars of ``metric`` per group with bootstrap CIs (overall group ``"all"`` on top).

    Parameters
    ----------
    summary
        A :meth:`ClozeResult.to_frame` table.
    metric
        Which metric to draw.
    chance
        Draw a dashed reference line here (chance accuracy, 50 % for pair benchmarks).
    title
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> frame = pd.DataFrame({"group": ["all", "a"], "metric": "accuracy", "value": [0.7, 0.6],
    ...                       "ci_low": [0.6, 0.5], "ci_high": [0.8, 0.7], "n": [10, 5]})
    >>> plot_condition_bars(frame, "accuracy").axes[0].get_xlabel()
    'accuracy (bars: 95% bootstrap CI)'
    """
    rows = summary[summary.metric == metric].reset_index(drop=True)
    height = max(1.4, 0.3 + 0.2 * len(rows))
    figure, ax = new_figure("column", height)
    positions = np.arange(len(rows))[::-1]
    colours = [PALETTE[7] if group == "all" else PALETTE[0] for group in rows.group]
    has_ci = bool(rows[["ci_low", "ci_high"]].notna().all(axis=None))
    errors = np.vstack([np.clip(rows.value - rows.ci_low, 0, None), np.clip(rows.ci_high - rows.value, 0, None)])
    ax.barh(positions, rows.value, color=colours, height=0.7, xerr=errors if has_ci else None,
            error_kw={"elinewidth": 0.8, "capsize": 1.5})
    ax.set_yticks(positions, [f"{g} (n={n})" for g, n in zip(rows.group, rows.n)])
    label = metric + (" (bars: 95% bootstrap CI)" if has_ci else "")
    if chance is not None:
        ax.axvline(chance, color=PALETTE[3], linestyle="--", linewidth=0.8)
        label += "; dashed: chance"
    ax.set_xlabel(label)
    if title:
        ax.set_title(title)
    return figure


def plot_bias_distribution(items: pd.DataFrame, score: str, group: str = "condition", title: str = "") -> Figure:
    """Per-item bias scores per group: box plot with the items as jittered points.

    Parameters
    ----------
    items
        One row per item with columns ``score`` and ``group``.
    score
        Column with the bias score (e.g. ``kurita_bias``; 0 = no preference).
    group
        Column defining the groups.
    title
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> frame = pd.DataFrame({"condition": ["a", "a", "b"], "kurita_bias": [0.5, -0.2, 1.0]})
    >>> plot_bias_distribution(frame, "kurita_bias").axes[0].get_xlabel()
    'kurita_bias'
    """
    names = sorted(items[group].astype(str).unique())
    figure, ax = new_figure("column", max(1.4, 0.35 + 0.3 * len(names)))
    data = [items.loc[items[group].astype(str) == name, score].dropna().to_numpy() for name in names]
    rng = np.random.default_rng(0)
    for index, values in enumerate(data):
        ax.scatter(values, index + rng.uniform(-0.15, 0.15, values.size), s=4, alpha=0.5,
                   color=PALETTE[index % 6], linewidths=0)
    ax.boxplot(data, positions=np.arange(len(names)), orientation="horizontal", widths=0.5, showfliers=False,
               medianprops={"color": PALETTE[7]})
    ax.axvline(0.0, color=PALETTE[7], linewidth=0.6, linestyle=":")
    ax.set_yticks(np.arange(len(names)), names)
    ax.set_xlabel(score)
    if title:
        ax.set_title(title)
    return figure


def plot_fill_table(fills: Mapping[str, pd.DataFrame], top_k: int = 5) -> Figure:
    """A table of the top-k fills (token and probability) of several templates.

    Parameters
    ----------
    fills
        ``{template: MaskedLMScorer.fill(template) frame}``.
    top_k
        Rows shown per template.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> frame = pd.DataFrame({"token": ["nurse", "doctor"], "probability": [0.3, 0.2]})
    >>> len(plot_fill_table({"The woman works as a [MASK].": frame}, top_k=2).axes)
    1
    """
    templates = list(fills)
    figure, ax = new_figure("page", 0.22 * (len(templates) + 1) + 0.1)
    ax.axis("off")
    header = ["template"] + [f"#{rank}" for rank in range(1, top_k + 1)]
    cells = []
    for template in templates:
        frame = fills[template].head(top_k)
        row = [f"{token} ({prob:.2f})" for token, prob in zip(frame.token, frame.probability)]
        cells.append([template] + row + [""] * (top_k - len(row)))
    table = ax.table(cellText=cells, colLabels=header, loc="center", cellLoc="left", colLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(6.5)
    table.auto_set_column_width(list(range(len(header))))
    for (row, _), cell in table.get_celld().items():
        cell.set_linewidth(0.3)
        if row == 0:
            cell.set_text_props(weight="bold")
    return figure
