"""``ProbeResult``: the tidy outcome of a layer-wise probing run."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from bertology.core.results import TableResult

COLUMNS = ["encoder", "layer", "metric", "mean", "ci_low", "ci_high", "n", "baseline", "control", "selectivity"]


class ProbeResult(TableResult):
    """Scores of linear probes per layer, with baselines, controls and MDL.

    Saved with ``save(out)`` as ``table.csv`` and ``meta.json`` in directory ``out``.

    Parameters
    ----------
    frame
        One row per (encoder, layer, metric): ``encoder`` is ``"trained"`` or ``"random"``;
        ``metric`` is ``accuracy``, ``macro_f1``, ``mdl_codelength`` (bits) or
        ``mdl_compression``; ``mean`` with its ``ci_low``/``ci_high`` over ``n`` folds × seeds
        (bootstrap over test items for a single split); ``baseline`` the majority-class
        score; ``control`` the control-task score; ``selectivity = mean − control``.
        Missing columns are filled with NaN.
    meta
        Settings of the run (dataset, model, pooling, cv, seed, level...).

    Examples
    --------
    >>> r = ProbeResult(pd.DataFrame([{"encoder": "trained", "layer": 1, "metric": "accuracy", "mean": 0.9}]))
    >>> r.to_frame()[["layer", "mean"]].values.tolist()
    [[1.0, 0.9]]
    """

    def __init__(self, frame: pd.DataFrame, meta: dict[str, Any] | None = None) -> None:
        super().__init__(frame.reindex(columns=COLUMNS), meta)

    def to_frame(self, encoder: str | None = None) -> pd.DataFrame:
        """The tidy table (columns ``encoder, layer, metric, mean, ci_low, ci_high, n, baseline, control,
        selectivity``), optionally only one encoder's rows.

        Examples
        --------
        >>> t = pd.DataFrame({"encoder": ["trained", "random"], "layer": [0, 0], "metric": "accuracy"})
        >>> ProbeResult(t).to_frame("random")["encoder"].tolist()
        ['random']
        """
        frame = self.frame if encoder is None else self.frame[self.frame["encoder"] == encoder]
        return frame.reset_index(drop=True)

    def best_layer(self, metric: str = "accuracy") -> int:
        """The trained encoder's layer with the highest mean ``metric``.

        Examples
        --------
        >>> t = pd.DataFrame({"encoder": "trained", "layer": [0, 1], "metric": "accuracy", "mean": [.5, .8]})
        >>> ProbeResult(t).best_layer()
        1
        """
        rows = self.to_frame("trained")
        rows = rows[rows["metric"] == metric]
        return int(rows.loc[rows["mean"].idxmax(), "layer"])

    def plot(self, metric: str = "accuracy") -> Figure:
        """Score by layer with CI band, majority baseline, control task and random encoder.

        Examples
        --------
        >>> t = pd.DataFrame({"encoder": "trained", "layer": [0, 1], "metric": "accuracy", "mean": [.5, .8]})
        >>> ProbeResult(t).plot().axes[0].get_ylabel()
        'accuracy'
        """
        from bertology.analyses.probes.plots import plot_layer_curve

        return plot_layer_curve(self, metric)

    def plot_selectivity(self) -> Figure:
        """Selectivity (task − control accuracy) by layer.

        Examples
        --------
        >>> t = pd.DataFrame({"encoder": "trained", "layer": [0, 1], "metric": "accuracy", "selectivity": [.1, .2]})
        >>> ProbeResult(t).plot_selectivity().axes[0].get_xlabel()
        'layer (0 = embeddings)'
        """
        from bertology.analyses.probes.plots import plot_selectivity

        return plot_selectivity(self)
