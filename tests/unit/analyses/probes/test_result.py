"""ProbeResult: the table, save/load and its figures."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from bertology.analyses.probes import ProbeResult, probe_layers
from bertology.core.data import ProbeDataset
from bertology.core.errors import InputError, StoreError


def _result():
    rng = np.random.default_rng(0)
    features = {layer: rng.normal(size=(60, 4)) for layer in range(3)}
    labels = (features[2][:, 0] > 0).astype(int)
    data = ProbeDataset([f"w{i % 7}" for i in range(60)], labels, ["a", "b"])
    return probe_layers(features, data, cv=3, mdl=True, progress=False)


def test_result_table_save_load_and_plots(tmp_path):
    result = _result()
    frame = result.to_frame()
    assert frame.columns.tolist() == ["encoder", "layer", "metric", "mean", "ci_low", "ci_high", "n", "baseline",
                                      "control", "selectivity"]
    assert set(frame["metric"]) == {"accuracy", "macro_f1", "mdl_codelength", "mdl_compression"}
    acc = frame.query("metric == 'accuracy'")
    assert np.allclose(acc["baseline"], 0.5, atol=0.1) and (acc["n"] == 3).all()
    saved = result.save(tmp_path / "r")
    assert sorted(p.name for p in saved.iterdir()) == ["meta.json", "result.json", "table.csv"]
    assert json.loads((saved / "result.json").read_text())["kind"] == "ProbeResult"
    loaded = ProbeResult.load(saved)
    pd.testing.assert_frame_equal(loaded.to_frame(), frame, check_dtype=False)
    assert loaded.meta == result.meta and loaded.meta["seed"] == [0] and loaded.best_layer() == result.best_layer()
    assert isinstance(loaded.plot(), Figure) and isinstance(loaded.plot_selectivity(), Figure)
    assert loaded.plot("mdl_compression").axes[0].get_ylabel() == "MDL compression"
    with pytest.raises(StoreError):
        ProbeResult.load(tmp_path / "missing")


def test_missing_columns_are_nan_and_encoder_rows_filter():
    table = pd.DataFrame({"encoder": ["trained", "random"], "layer": [2, 2], "metric": "accuracy",
                          "mean": [0.9, 0.6]})
    result = ProbeResult(table, {"dataset": "toy"})
    assert result.to_frame().columns[-1] == "selectivity" and result.to_frame()["control"].isna().all()
    assert result.to_frame("random")["mean"].tolist() == [0.6] and result.best_layer() == 2
    with pytest.raises(InputError, match="no control task"):
        result.plot_selectivity()
    with pytest.raises(InputError, match="no 'macro_f1' rows"):
        result.plot("macro_f1")


def test_load_rejects_another_result_kind(tmp_path):
    from bertology.core.results import TableResult

    TableResult(pd.DataFrame({"a": [1]})).save(tmp_path)
    with pytest.raises(StoreError, match="holds a TableResult"):
        ProbeResult.load(tmp_path)
