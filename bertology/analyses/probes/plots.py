"""Figures of probing results: layer curves with baselines and selectivity."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from bertology.core.errors import InputError
from bertology.core.viz import PALETTE, new_figure
from bertology.core.viz.style import paper_style

LABELS = {"accuracy": "accuracy", "macro_f1": "macro-F1", "mdl_codelength": "online codelength (bits)",
          "mdl_compression": "MDL compression"}


def plot_layer_curve(result, metric: str = "accuracy") -> Figure:
    """Probe score by layer: CI band, majority baseline, control task, random encoder.

    Parameters
    ----------
    result
        A :class:`~bertology.analyses.probes.result.ProbeResult`.
    metric
        ``accuracy``, ``macro_f1``, ``mdl_codelength`` or ``mdl_compression``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from bertology.analyses.probes.result import ProbeResult
    >>> t = pd.DataFrame({"encoder": "trained", "layer": [0, 1], "metric": "accuracy", "mean": [.6, .8],
    ...                   "ci_low": [.5, .7], "ci_high": [.7, .9], "baseline": .5, "control": [.55, .6]})
    >>> plot_layer_curve(ProbeResult(t)).axes[0].get_ylabel()
    'accuracy'
    """
    with paper_style():
        frame = result.to_frame()
        frame = frame[frame["metric"] == metric]
        if frame.empty:
            available = sorted(set(result.to_frame()["metric"]))
            raise InputError(f"The result has no {metric!r} rows: plot one of {available}.")
        figure, axes = new_figure(height=2.9)
        trained = frame[frame["encoder"] == "trained"].sort_values("layer")
        layers = trained["layer"].to_numpy()
        axes.plot(layers, trained["mean"], marker="o", color=PALETTE[0], label="probe", zorder=3)
        if trained["ci_low"].notna().any():
            axes.fill_between(layers, trained["ci_low"], trained["ci_high"], color=PALETTE[0], alpha=0.2, linewidth=0)
        if trained["control"].notna().any():
            axes.plot(layers, trained["control"], marker="s", linestyle="--", color=PALETTE[1], label="control task")
        random_rows = frame[frame["encoder"] == "random"].sort_values("layer")
        if not random_rows.empty:
            axes.plot(random_rows["layer"], random_rows["mean"], marker="^", linestyle=":", color=PALETTE[2],
                      label="random encoder")
        if trained["baseline"].notna().any():
            axes.axhline(float(trained["baseline"].mean()), color="0.4", linestyle="-.", linewidth=1,
                         label="majority class")
        axes.set_xticks(layers)
        axes.set_xlabel("layer (0 = embeddings)")
        axes.set_ylabel(LABELS.get(metric, metric))
        if metric in {"accuracy", "macro_f1"}:
            low = np.nanmin(frame[["mean", "ci_low", "baseline", "control"]].to_numpy(dtype=float))
            axes.set_ylim(max(0.0, low - 0.05), 1.02)
        figure.legend(loc="outside lower center", ncols=2)
        title = result.meta.get("dataset")
        if title:
            axes.set_title(f"{title} ({result.meta.get('pool', '')})")
        return figure


def plot_selectivity(result) -> Figure:
    """Selectivity (probe accuracy − control-task accuracy; Hewitt & Liang 2019) by layer.

    Examples
    --------
    >>> import pandas as pd
    >>> from bertology.analyses.probes.result import ProbeResult
    >>> t = pd.DataFrame({"encoder": "trained", "layer": [0, 1], "metric": "accuracy", "selectivity": [.1, .2]})
    >>> plot_selectivity(ProbeResult(t)).axes[0].get_ylabel()
    'selectivity (task − control)'
    """
    with paper_style():
        frame = result.to_frame("trained")
        frame = frame[(frame["metric"] == "accuracy")].sort_values("layer")
        if frame["selectivity"].isna().all():
            raise InputError("The result has no control task: run probe_layers(..., controls=True) to get selectivity.")
        figure, axes = new_figure()
        axes.bar(frame["layer"], frame["selectivity"], color=PALETTE[0], width=0.7)
        axes.axhline(0, color="0.3", linewidth=0.8)
        axes.set_xticks(frame["layer"])
        axes.set_xlabel("layer (0 = embeddings)")
        axes.set_ylabel("selectivity (task − control)")
        return figure
