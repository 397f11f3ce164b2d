"""``ProbeResult``: the tidy outcome of a layer-wise probing run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from bertology.core.errors import StoreError

COLUMNS = ["encoder", "layer", "metric", "mean", "ci_low", "ci_high", "n", "baseline", "control", "selectivity"]
TABLE = "probe_results.csv"
META = "probe_meta.json"


@dataclass
class ProbeResult:
    """Scores of linear probes per layer, with baselines, controls and MDL.

    Attributes
    ----------
    table
        One row per (encoder, layer, metric): ``encoder`` is ``"trained"`` or ``"random"``;
        ``metric`` is ``accuracy``, ``macro_f1``, ``mdl_codelength`` (bits) or
        ``mdl_compression``; ``mean`` with its ``ci_low``/``ci_high`` over ``n`` folds × seeds
        (bootstrap over test items for a single split); ``baseline`` the majority-class
        score; ``control`` the control-task score; ``selectivity = mean − control``.
    meta
        Settings of the run (dataset, model, pooling, cv, seeds, level...).

    Examples
    --------
    >>> r = ProbeResult(pd.DataFrame([{"encoder": "trained", "layer": 1, "metric": "accuracy", "mean": 0.9}]), {})
    >>> r.to_frame()[["layer", "mean"]].values.tolist()
    [[1.0, 0.9]]
    """

    table: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def to_frame(self, encoder: str | None = None) -> pd.DataFrame:
        """The tidy table (columns ``encoder, layer, metric, mean, ci_low, ci_high, n, baseline, control,
        selectivity``), optionally only one encoder's rows."""
        frame = self.table.reindex(columns=COLUMNS)
        if encoder is not None:
            frame = frame[frame["encoder"] == encoder]
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

    def save(self, directory: str | Path) -> Path:
        """Write ``probe_results.csv`` and ``probe_meta.json`` into ``directory``; returns it."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.to_frame().to_csv(directory / TABLE, index=False)
        (directory / META).write_text(json.dumps(self.meta, indent=2, default=str))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> ProbeResult:
        """Read a result written by :meth:`save`.

        Raises
        ------
        StoreError
            If the directory holds no probe result.
        """
        directory = Path(directory)
        if not (directory / TABLE).is_file():
            raise StoreError(f"{directory} holds no {TABLE}: point at a directory written by ProbeResult.save "
                             "or `bertology probe --out`.")
        meta = json.loads((directory / META).read_text()) if (directory / META).is_file() else {}
        return cls(pd.read_csv(directory / TABLE), meta)

    def plot(self, metric: str = "accuracy") -> Figure:
        """Score by layer with CI band, majority baseline, control task and random encoder."""
        from bertology.analyses.probes.plots import plot_layer_curve

        return plot_layer_curve(self, metric)

    def plot_selectivity(self) -> Figure:
        """Selectivity (task − control accuracy) by layer."""
        from bertology.analyses.probes.plots import plot_selectivity

        return plot_selectivity(self)
