"""SimilarityMatrix: one measure for every pair of a layer of one model and a layer of another (or the same)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bertology.analyses.similarity.names import DISTANCES
from bertology.core.results import TableResult
from bertology.core.viz import PALETTE, new_figure
from bertology.core.viz.style import SEQUENTIAL_CMAP, paper_style

LABELS = {"linear_cka": "linear CKA", "rbf_cka": "RBF CKA", "minibatch_cka": "minibatch CKA", "svcca": "SVCCA",
          "pwcca": "PWCCA", "procrustes": "Procrustes distance"}
ANNOTATE_UP_TO = 8


class SimilarityMatrix(TableResult):
    """A layer × layer similarity matrix (Kornblith et al. 2019's figures; Merchant et al. 2020's diagonal).

    Parameters
    ----------
    frame
        Tidy table, one row per layer pair: ``layer_a, layer_b, value, metric``.
    meta
        ``metric``, ``model_a``/``model_b`` (short labels), ``within`` (one model against
        itself), ``n_rows``, ``pool`` and the settings.

    Examples
    --------
    >>> m = SimilarityMatrix.from_values(np.array([[1.0, 0.5], [0.5, 1.0]]), [0, 1], [0, 1], "linear_cka",
    ...                                  {"model_a": "minilm", "model_b": "minilm", "within": True})
    >>> m.to_frame().columns.tolist(), float(m.values[0, 1])
    (['layer_a', 'layer_b', 'value', 'metric'], 0.5)
    """

    @classmethod
    def from_values(cls, values: np.ndarray, layers_a: Sequence[int], layers_b: Sequence[int], metric: str,
                    meta: dict[str, Any] | None = None) -> SimilarityMatrix:
        """Build the result from a ``(len(layers_a), len(layers_b))`` matrix.

        Examples
        --------
        >>> SimilarityMatrix.from_values(np.ones((1, 2)), [3], [0, 1], "svcca").to_frame()["layer_b"].tolist()
        [0, 1]
        """
        values = np.asarray(values, dtype=float)
        grid_a, grid_b = np.meshgrid(list(layers_a), list(layers_b), indexing="ij")
        frame = pd.DataFrame({"layer_a": grid_a.ravel().astype(int), "layer_b": grid_b.ravel().astype(int),
                              "value": values.ravel(), "metric": metric})
        return cls(frame, {"metric": metric, **(meta or {})})

    @property
    def metric(self) -> str:
        """The measure's name (``linear_cka``, ``svcca``...)."""
        return str(self.meta.get("metric", self.frame["metric"].iloc[0]))

    @property
    def layers_a(self) -> list[int]:
        """Layers of model a, in order."""
        return sorted(int(k) for k in self.frame["layer_a"].unique())

    @property
    def layers_b(self) -> list[int]:
        """Layers of model b, in order."""
        return sorted(int(k) for k in self.frame["layer_b"].unique())

    @property
    def values(self) -> np.ndarray:
        """``(len(layers_a), len(layers_b))`` matrix of the measure."""
        table = self.frame.pivot(index="layer_a", columns="layer_b", values="value")
        return table.loc[self.layers_a, self.layers_b].to_numpy()

    def _label(self, side: str) -> str:
        return str(self.meta.get(f"model_{side}", side))

    def diagonal(self) -> pd.DataFrame:
        """The measure between the same layer of the two models: ``layer, value, metric``.

        Merchant et al. (2020) plot it to show which layers fine-tuning changes.

        Examples
        --------
        >>> m = SimilarityMatrix.from_values(np.array([[0.9, 0.2], [0.3, 0.6]]), [0, 1], [0, 1], "linear_cka")
        >>> m.diagonal()["value"].tolist()
        [0.9, 0.6]
        """
        same = self.frame[self.frame["layer_a"] == self.frame["layer_b"]]
        return (same.rename(columns={"layer_a": "layer"})[["layer", "value", "metric"]]
                .sort_values("layer").reset_index(drop=True))

    def plot(self) -> Figure:
        """Heatmap of the measure, a layer of model a per row, a layer of model b per column (layer 0 at the bottom).

        Examples
        --------
        >>> m = SimilarityMatrix.from_values(np.eye(3), [0, 1, 2], [0, 1, 2], "linear_cka", {"model_a": "minilm"})
        >>> m.plot().axes[0].get_ylabel()
        'layer (minilm)'
        """
        values = self.values
        distance = self.metric in DISTANCES
        with paper_style():
            figure, axes = new_figure(height=2.75)
            image = axes.imshow(values, origin="lower", cmap=SEQUENTIAL_CMAP + ("_r" if distance else ""),
                                vmin=0.0, vmax=2.0 if distance else 1.0, aspect="auto")
            colorbar = figure.colorbar(image, ax=axes, fraction=0.06, pad=0.03)
            colorbar.set_label(LABELS.get(self.metric, self.metric))
            colorbar.outline.set_visible(False)
            axes.set_xticks(range(len(self.layers_b)), self.layers_b)
            axes.set_yticks(range(len(self.layers_a)), self.layers_a)
            axes.set_xlabel(f"layer ({self._label('b')})")
            axes.set_ylabel(f"layer ({self._label('a')})")
            for spine in axes.spines.values():
                spine.set_visible(False)
            if max(values.shape) <= ANNOTATE_UP_TO:
                middle = 1.0 if distance else 0.5
                for (i, j), value in np.ndenumerate(values):
                    dark = (value > middle) if distance else (value < middle)
                    axes.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=5.5,
                              color="white" if dark else "black")
        return figure

    def plot_diagonal(self) -> Figure:
        """The measure between the same layer of both models, by layer (Merchant et al. 2020, Fig. 2).

        Examples
        --------
        >>> m = SimilarityMatrix.from_values(np.eye(2), [0, 1], [0, 1], "linear_cka", {"model_b": "tuned"})
        >>> m.plot_diagonal().axes[0].get_xlabel()
        'layer'
        """
        rows = self.diagonal()
        distance = self.metric in DISTANCES
        with paper_style():
            figure, axes = new_figure(height=2.2)
            axes.plot(rows["layer"], rows["value"], marker="o", color=PALETTE[0],
                      label=f"{self._label('a')} vs {self._label('b')}")
            axes.set_xlabel("layer")
            axes.set_ylabel(LABELS.get(self.metric, self.metric))
            axes.set_ylim(0.0, 2.05 if distance else 1.02)
            if len(rows):
                axes.set_xticks(rows["layer"].tolist())
            axes.grid(axis="y", linewidth=0.4, alpha=0.5)
            axes.legend(loc="lower left" if not distance else "upper left")
        return figure
