"""ClozeResult: bootstrap summaries, metric lookup, the saved directory, figure kinds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from bertology.analyses.cloze import ClozeResult, summarise
from bertology.analyses.cloze.result import SUMMARY_COLUMNS
from bertology.core.errors import StoreError
from bertology.core.stats import bootstrap_ci


def test_bootstrap_and_summarise():
    assert bootstrap_ci([1.0, 1.0]) == (1.0, 1.0)
    low, high = bootstrap_ci(np.r_[np.zeros(50), np.ones(50)], n_boot=2000, seed=1)
    assert 0.38 < low < 0.5 < high < 0.62
    assert all(np.isnan(bootstrap_ci([])))
    frame = pd.DataFrame({"condition": ["a", "a", "b", "b"], "accuracy": [1.0, 0.0, 1.0, 1.0]})
    summary = summarise(frame, ["accuracy"], scale=100)
    assert summary.group.tolist() == ["all", "a", "b"]
    assert summary.value.tolist() == [75.0, 50.0, 100.0] and summary.n.tolist() == [4, 2, 2]
    assert summary.columns.tolist() == SUMMARY_COLUMNS


def test_metric_and_round_trip(tmp_path):
    items = pd.DataFrame({"id": ["1", "2", "3"], "condition": ["a", "b", "b"], "accuracy": [1.0, 0.0, 1.0],
                          "note": ["", "NA", "x"]})
    result = ClozeResult("suite", items, summarise(items, ["accuracy"], n_boot=20), {"primary_metric": "accuracy"})
    assert result.metric() == pytest.approx(2 / 3) and result.metric(group="b") == 0.5
    with pytest.raises(KeyError, match="No metric 'ss'"):
        result.metric("ss")
    out = result.save(tmp_path / "suite")
    assert sorted(p.name for p in out.iterdir()) == ["items.csv", "meta.json", "result.json", "summary.csv"]
    loaded = ClozeResult.load(out)
    assert loaded.name == "suite" and loaded.meta == result.meta
    pd.testing.assert_frame_equal(loaded.to_frame(), result.to_frame())
    assert loaded.items.note.tolist()[1:] == ["NA", "x"] and np.isnan(loaded.items.note.iloc[0])


def test_result_load_missing(tmp_path):
    with pytest.raises(StoreError, match="no saved result"):
        ClozeResult.load(tmp_path)


@pytest.mark.parametrize("plot_kind, xlabel", [("bars", "accuracy (bars: 95% bootstrap CI)"),
                                               ("distribution", "kurita_bias")])
def test_result_plot_kinds(plot_kind, xlabel):
    items = pd.DataFrame({"condition": ["a", "b"], "kurita_bias": [0.1, -0.1], "accuracy": [1.0, 0.0]})
    summary = pd.DataFrame({"group": ["all"], "metric": ["accuracy"], "value": [0.5], "ci_low": [0.0],
                            "ci_high": [1.0], "n": [2]})
    meta = {"primary_metric": "kurita_bias" if plot_kind == "distribution" else "accuracy", "plot": plot_kind}
    figure = ClozeResult("x", items, summary, meta).plot()
    assert isinstance(figure, Figure)
    assert figure.axes[0].get_xlabel() == xlabel
