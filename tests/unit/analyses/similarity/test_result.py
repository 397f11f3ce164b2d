"""SimilarityMatrix: tidy table, matrix, diagonal, heatmap and diagonal figure."""

from __future__ import annotations

import numpy as np
import pytest

from bertology.analyses.similarity import SimilarityMatrix


def _example(metric="linear_cka"):
    values = np.arange(12, dtype=float).reshape(3, 4) / 12
    return SimilarityMatrix.from_values(values, [0, 3, 6], [0, 2, 3, 6], metric,
                                        {"model_a": "minilm", "model_b": "tuned", "within": False})


def test_table_matrix_and_diagonal_round_trip(tmp_path):
    result = _example()
    frame = result.to_frame()
    assert frame.columns.tolist() == ["layer_a", "layer_b", "value", "metric"] and len(frame) == 12
    assert frame.loc[(frame.layer_a == 3) & (frame.layer_b == 2), "value"].item() == pytest.approx(5 / 12)
    loaded = SimilarityMatrix.load(result.save(tmp_path))
    np.testing.assert_array_equal(loaded.values, result.values)
    assert loaded.layers_a == [0, 3, 6] and loaded.layers_b == [0, 2, 3, 6] and loaded.metric == "linear_cka"
    assert result.diagonal().to_dict("list") == {"layer": [0, 3, 6], "value": [0.0, 6 / 12, 11 / 12],
                                                 "metric": ["linear_cka"] * 3}


@pytest.mark.parametrize("metric", ["linear_cka", "procrustes"])
def test_figures_label_the_models_and_the_measure(metric):
    result = _example(metric)
    heatmap = result.plot()
    axes = heatmap.axes[0]
    assert axes.get_xlabel() == "layer (tuned)" and axes.get_ylabel() == "layer (minilm)"
    assert [t.get_text() for t in axes.get_xticklabels()] == ["0", "2", "3", "6"]
    assert heatmap.axes[1].get_ylabel() == ("Procrustes distance" if metric == "procrustes" else "linear CKA")
    assert len(axes.texts) == 12
    diagonal = result.plot_diagonal().axes[0]
    assert diagonal.get_lines()[0].get_xdata().tolist() == [0, 3, 6]
    assert diagonal.get_legend().get_texts()[0].get_text() == "minilm vs tuned"


def test_large_matrices_are_not_annotated():
    result = SimilarityMatrix.from_values(np.eye(13), range(13), range(13), "svcca")
    assert len(result.plot().axes[0].texts) == 0
