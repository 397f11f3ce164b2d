"""Head importance, leave-one-out ablation and pruning-curve results with their figures."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bertology.core.errors import InputError
from bertology.core.results import TableResult
from bertology.core.viz.style import figure_width, new_figure, paper_style


def _grid(frame: pd.DataFrame, column: str) -> np.ndarray:
    layers, heads = int(frame["layer"].max()) + 1, int(frame["head"].max()) + 1
    grid = np.full((layers, heads), np.nan)
    grid[frame["layer"].to_numpy(int), frame["head"].to_numpy(int)] = frame[column].to_numpy(float)
    return grid


def _heatmap(grid: np.ndarray, label: str, title: str, width: str | float, diverging: bool = False) -> Figure:
    layers, heads = grid.shape
    inches = figure_width(width)
    height = min(inches, max(1.4, inches * 0.8 * layers / heads + 0.45))
    figure, ax = new_figure(inches, height=height)
    with paper_style():
        if diverging:
            bound = float(np.nanmax(np.abs(grid))) or 1.0
            image = ax.imshow(grid, cmap="RdBu_r", vmin=-bound, vmax=bound, aspect="auto")
        else:
            image = ax.imshow(grid, aspect="auto")
        ax.set_xlabel("head")
        ax.set_ylabel("layer")
        step = 1 if heads <= 12 else 2
        ax.set_xticks(range(0, heads, step))
        ax.set_yticks(range(layers))
        ax.set_title(title)
        figure.colorbar(image, ax=ax, label=label, fraction=0.05, pad=0.02)
    return figure


class HeadImportance(TableResult):
    """Head importance scores (Michel et al., 2019): one row per (layer, head).

    Columns: ``layer``, ``head``, ``importance`` (normalised as ``meta["normalization"]``
    says) and ``raw`` (``Σ_x |∂L/∂ξ_h|`` over examples, or tokens, divided by the number of
    real tokens, before any normalisation).

    Examples
    --------
    >>> frame = pd.DataFrame({"layer": [0, 0, 1, 1], "head": [0, 1, 0, 1], "importance": [.6, .8, 1., 0.],
    ...                       "raw": [3., 4., 2., 0.]})
    >>> HeadImportance(frame, {"loss": "mlm"}).matrix().shape
    (2, 2)
    """

    def matrix(self, column: str = "importance") -> np.ndarray:
        """The scores as a ``(layers, heads)`` array."""
        return _grid(self.frame, column)

    def order(self) -> list[tuple[int, int]]:
        """``(layer, head)`` pairs from least to most important (ties keep layer-major order).

        Examples
        --------
        >>> f = pd.DataFrame({"layer": [0, 0], "head": [0, 1], "importance": [.9, .1], "raw": [.9, .1]})
        >>> HeadImportance(f).order()
        [(0, 1), (0, 0)]
        """
        rows = self.frame.sort_values(["importance", "layer", "head"], kind="stable")
        return list(zip(rows["layer"].astype(int).tolist(), rows["head"].astype(int).tolist()))

    def plot(self, width: str | float = "column") -> Figure:
        """Layer × head heatmap of the importance scores.

        Examples
        --------
        >>> f = pd.DataFrame({"layer": [0, 0], "head": [0, 1], "importance": [.9, .1], "raw": [.9, .1]})
        >>> HeadImportance(f, {"loss": "classifier"}).plot().axes[0].get_xlabel()
        'head'
        """
        loss = self.meta.get("loss", "loss")
        return _heatmap(self.matrix(), "importance", f"Head importance ({loss} loss)", width)


class HeadAblation(TableResult):
    """Leave-one-out head ablation (Michel et al., 2019, Table 1 style): one row per (layer, head).

    Columns: ``layer``, ``head``, ``score`` (the metric with only that head masked) and
    ``delta`` (``score`` minus the unablated score in ``meta["baseline"]``).

    Examples
    --------
    >>> f = pd.DataFrame({"layer": [0, 0], "head": [0, 1], "score": [.8, .9], "delta": [-.1, 0.]})
    >>> HeadAblation(f, {"metric": "accuracy", "baseline": .9}).matrix().tolist()
    [[-0.1, 0.0]]
    """

    def matrix(self, column: str = "delta") -> np.ndarray:
        """The scores as a ``(layers, heads)`` array."""
        return _grid(self.frame, column)

    def plot(self, width: str | float = "column") -> Figure:
        """Layer × head heatmap of the metric change when each head alone is masked.

        Examples
        --------
        >>> f = pd.DataFrame({"layer": [0, 0], "head": [0, 1], "score": [.8, .9], "delta": [-.1, 0.]})
        >>> HeadAblation(f, {"metric": "accuracy", "baseline": .9}).plot().axes[0].get_title()
        'Masking one head (accuracy 0.900 unmasked)'
        """
        metric = self.meta.get("metric", "score")
        title = f"Masking one head ({metric} {self.meta.get('baseline', float('nan')):.3f} unmasked)"
        return _heatmap(self.matrix(), f"Δ {metric}", title, width, diverging=True)


class PruningCurve(TableResult):
    """The task metric as heads are masked in importance order and in random orders.

    Columns: ``order`` (``"importance"`` or ``"random"``), ``repeat`` (0 for the importance
    order, the random order's index otherwise), ``n_pruned``, ``fraction`` (of all heads)
    and ``score``.

    Examples
    --------
    >>> f = pd.DataFrame({"order": ["importance"] * 2 + ["random"] * 4, "repeat": [0, 0, 0, 0, 1, 1],
    ...                   "n_pruned": [0, 2] * 3, "fraction": [0., 1.] * 3, "score": [.9, .5, .9, .4, .9, .6]})
    >>> PruningCurve(f, {"metric": "accuracy"}).random_band()["sd"].round(3).tolist()
    [0.0, 0.141]
    """

    def random_band(self) -> pd.DataFrame:
        """Mean and standard deviation (ddof 1) of the random orders at each step."""
        random = self.frame[self.frame["order"] == "random"]
        grouped = random.groupby(["n_pruned", "fraction"])["score"]
        band = grouped.agg(["mean", "std", "count"]).reset_index().rename(columns={"std": "sd"})
        band["sd"] = band["sd"].fillna(0.0)
        return band

    def plot(self, width: str | float = "column") -> Figure:
        """Metric against the share of heads masked: importance order, random mean ± sd band.

        Examples
        --------
        >>> f = pd.DataFrame({"order": ["importance"] * 2 + ["random"] * 2, "repeat": [0, 0, 0, 0],
        ...                   "n_pruned": [0, 2] * 2, "fraction": [0., 1.] * 2, "score": [.9, .5, .9, .4]})
        >>> PruningCurve(f, {"metric": "accuracy"}).plot().axes[0].get_ylabel()
        'accuracy'
        """
        figure, ax = new_figure(width)
        with paper_style():
            band = self.random_band()
            if len(band):
                runs = int(band["count"].max())
                x = 100 * band["fraction"]
                ax.fill_between(x, band["mean"] - band["sd"], band["mean"] + band["sd"], color="0.8",
                                label=f"random order ± sd ({runs} runs)")
                ax.plot(x, band["mean"], color="0.45", lw=1, ls="--")
            ranked = self.frame[self.frame["order"] == "importance"].sort_values("n_pruned")
            if len(ranked):
                ax.plot(100 * ranked["fraction"], ranked["score"], marker="o", ms=3, lw=1.2, color="C0",
                        label="least important first")
            ax.set_xlabel("heads masked (%)")
            ax.set_ylabel(self.meta.get("metric", "score"))
            ax.set_xlim(0, 100)
            ax.legend(loc="best", frameon=False)
        return figure


def importance_frame(raw: np.ndarray, normalized: np.ndarray) -> pd.DataFrame:
    """The tidy table of ``(layers, heads)`` raw and normalised importance arrays.

    Examples
    --------
    >>> importance_frame(np.ones((1, 2)), np.ones((1, 2)))["head"].tolist()
    [0, 1]
    """
    layers, heads = raw.shape
    layer, head = np.divmod(np.arange(layers * heads), heads)
    return pd.DataFrame({"layer": layer, "head": head, "importance": normalized.ravel(), "raw": raw.ravel()})


def check_order(order: Any, num_layers: int, num_heads: int) -> list[tuple[int, int]]:
    """A pruning order (least important first) from a :class:`HeadImportance`, an array or pairs.

    Parameters
    ----------
    order
        A :class:`HeadImportance` of this model, a ``(layers, heads)`` array of scores
        (lowest pruned first), or a list of every ``(layer, head)`` pair.
    num_layers, num_heads
        The model's shape.

    Returns
    -------
    list of tuple
        Every ``(layer, head)`` once, in pruning order.

    Raises
    ------
    InputError
        For a shape that does not fit the model or pairs that are not a permutation of all heads.

    Examples
    --------
    >>> check_order(np.array([[0.5, 0.1]]), 1, 2)
    [(0, 1), (0, 0)]
    """
    if isinstance(order, HeadImportance):
        pairs = order.order()
    elif isinstance(order, np.ndarray) and order.ndim == 2:
        if order.shape != (num_layers, num_heads):
            raise InputError(f"The importance array has shape {order.shape} but the model has {num_layers} layers "
                             f"of {num_heads} heads.")
        flat = np.argsort(order.ravel(), kind="stable")
        pairs = [(int(i // num_heads), int(i % num_heads)) for i in flat]
    else:
        pairs = [tuple(int(v) for v in pair) for pair in order]
    if sorted(pairs) != [(layer, head) for layer in range(num_layers) for head in range(num_heads)]:
        raise InputError(f"The pruning order must list each of the {num_layers * num_heads} (layer, head) pairs "
                         "of this model once: pass its HeadImportance, a (layers, heads) array, or all pairs.")
    return pairs
