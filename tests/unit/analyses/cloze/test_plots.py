"""Cloze figures: condition bars with CIs, bias distributions, the top-k fill table."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bertology.analyses.cloze.plots import plot_bias_distribution, plot_condition_bars, plot_fill_table


def test_condition_bars():
    summary = pd.DataFrame({"group": ["all", "a", "b"], "metric": "accuracy", "value": [0.6, 0.5, 0.7],
                            "ci_low": [0.5, 0.3, 0.6], "ci_high": [0.7, 0.6, 0.8], "n": [20, 10, 10]})
    bars = plot_condition_bars(summary, "accuracy", chance=0.5, title="agreement")
    assert isinstance(bars, Figure) and len(bars.axes[0].patches) == 3
    widths = sorted(patch.get_width() for patch in bars.axes[0].patches)
    np.testing.assert_allclose(widths, [0.5, 0.6, 0.7])
    ticks = dict(zip(bars.axes[0].get_yticks(), (t.get_text() for t in bars.axes[0].get_yticklabels())))
    assert [ticks[y] for y in sorted(ticks)] == ["b (n=10)", "a (n=10)", "all (n=20)"]


def test_bias_distribution_and_fill_table():
    items = pd.DataFrame({"condition": ["a"] * 5 + ["b"] * 5, "kurita_bias": [0.1, -0.2, 0.3, 0.0, 0.5] * 2})
    assert plot_bias_distribution(items, "kurita_bias").axes[0].get_xlabel() == "kurita_bias"
    fills = {"t [MASK].": pd.DataFrame({"token": ["x", "y"], "probability": [0.5, 0.2]})}
    table = plot_fill_table(fills, top_k=2)
    assert table.axes[0].tables[0].get_celld()[(1, 1)].get_text().get_text() == "x (0.50)"
