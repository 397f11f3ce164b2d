"""ClozeResult: the one result type of cloze suites and benchmarks, with bootstrap summaries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bertology.core.io import write_json_atomic
from bertology.core.results import Result
from bertology.core.stats import bootstrap_ci

SUMMARY_COLUMNS = ["group", "metric", "value", "ci_low", "ci_high", "n"]
ITEMS_FILE = "items.csv"
SUMMARY_FILE = "summary.csv"
META_FILE = "meta.json"


def summarise(items: pd.DataFrame, metrics: Sequence[str], group: str = "condition", n_boot: int = 1000,
              seed: int = 0, scale: float = 1.0) -> pd.DataFrame:
    """Mean and bootstrap CI of per-item metric columns, overall (``"all"``) and per group.

    Parameters
    ----------
    items
        One row per item.
    metrics
        Columns to summarise.
    group
        Column whose values define the groups.
    n_boot, seed
        Bootstrap resamples and seed.
    scale
        Factor applied to means and CIs (100 for percentages).

    Returns
    -------
    pandas.DataFrame
        Columns ``group, metric, value, ci_low, ci_high, n``.

    Examples
    --------
    >>> frame = pd.DataFrame({"condition": ["a", "a", "b"], "accuracy": [1.0, 0.0, 1.0]})
    >>> summarise(frame, ["accuracy"])["value"].tolist()
    [0.6666666666666666, 0.5, 1.0]
    """
    rows = []
    groups = [("all", items)] + [(str(name), part) for name, part in items.groupby(group, sort=True)]
    for name, part in groups:
        for metric in metrics:
            values = part[metric].dropna().to_numpy(dtype=np.float64)
            low, high = bootstrap_ci(values, n_boot=n_boot, seed=seed)
            mean = float(values.mean()) if values.size else float("nan")
            rows.append((name, metric, mean * scale, low * scale, high * scale, int(values.size)))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


@dataclass
class ClozeResult(Result):
    """The outcome of a cloze suite or benchmark.

    ``save(out)`` writes ``items.csv``, ``summary.csv`` and ``meta.json`` (the name and
    ``meta``) into ``out``.

    Attributes
    ----------
    name
        Suite or benchmark name.
    items
        One row per item (scores, prediction, condition...).
    summary
        ``group, metric, value, ci_low, ci_high, n`` rows (overall group ``"all"``).
    meta
        ``primary_metric``, ``plot`` (``"bars"`` or ``"distribution"``), ``chance``,
        the model's identity and counts of skipped items.

    Examples
    --------
    >>> import tempfile
    >>> r = ClozeResult("x", pd.DataFrame({"a": [1]}), pd.DataFrame(columns=SUMMARY_COLUMNS), {"primary_metric": "a"})
    >>> loaded = ClozeResult.load(r.save(tempfile.mkdtemp()))
    >>> loaded.name, loaded.meta
    ('x', {'primary_metric': 'a'})
    """

    name: str
    items: pd.DataFrame
    summary: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The per-group summary table (a copy).

        Examples
        --------
        >>> r = ClozeResult("x", pd.DataFrame(), pd.DataFrame([("all", "accuracy", 1.0, 1.0, 1.0, 3)],
        ...                 columns=SUMMARY_COLUMNS))
        >>> r.to_frame().value.tolist()
        [1.0]
        """
        return self.summary.copy()

    def metric(self, name: str | None = None, group: str = "all") -> float:
        """One summary value: ``name`` (default the primary metric) for ``group``.

        Examples
        --------
        >>> r = ClozeResult("x", pd.DataFrame(), pd.DataFrame([("all", "accuracy", 0.5, 0.4, 0.6, 3)],
        ...                 columns=SUMMARY_COLUMNS), {"primary_metric": "accuracy"})
        >>> r.metric()
        0.5
        """
        metric = name or self.meta["primary_metric"]
        rows = self.summary[(self.summary.metric == metric) & (self.summary.group == group)]
        if rows.empty:
            raise KeyError(f"No metric {metric!r} for group {group!r} in {self.name}.")
        return float(rows.value.iloc[0])

    def _write(self, directory: Path) -> None:
        self.items.to_csv(directory / ITEMS_FILE, index=False)
        self.summary.to_csv(directory / SUMMARY_FILE, index=False)
        write_json_atomic(directory / META_FILE, {"name": self.name, **self.meta})

    @classmethod
    def _read(cls, directory: Path) -> ClozeResult:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        return cls(meta.pop("name"), pd.read_csv(directory / ITEMS_FILE, keep_default_na=False, na_values=[""]),
                   pd.read_csv(directory / SUMMARY_FILE, keep_default_na=False, na_values=[""]), meta)

    def plot(self) -> Figure:
        """Per-group bars with CIs of the primary metric, or the per-item score distribution for bias suites.

        Examples
        --------
        >>> import bertology as bt
        >>> mlm = bt.load_model("bert-base-uncased", head="mlm")  # doctest: +SKIP
        >>> bt.run_suite(mlm, "agreement").plot()  # doctest: +SKIP
        """
        from bertology.analyses.cloze.plots import plot_bias_distribution, plot_condition_bars

        if self.meta.get("plot") == "distribution":
            return plot_bias_distribution(self.items, self.meta["primary_metric"], group="condition", title=self.name)
        return plot_condition_bars(self.summary, self.meta["primary_metric"], chance=self.meta.get("chance"),
                                   title=self.name)
