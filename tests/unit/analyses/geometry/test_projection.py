"""2-D projections by layer and their result type."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from bertology.analyses.geometry import ProjectionResult, pca_2d, project_layers
from bertology.core.data import ProbeDataset
from bertology.core.errors import InputError, StoreError


def test_pca_matches_numpy_svd_up_to_sign():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(20, 5)) * [5, 3, 1, 0.5, 0.1]
    coords = pca_2d(vectors)
    centred = vectors - vectors.mean(0)
    _, _, vt = np.linalg.svd(centred)
    reference = centred @ vt[:2].T
    np.testing.assert_allclose(np.abs(coords), np.abs(reference), atol=1e-8)
    assert pca_2d(np.array([[0.0], [1.0]])).shape == (2, 2)


def test_projection_result_round_trip_and_plot(tmp_path):
    result = ProjectionResult({0: np.zeros((3, 2)), 2: np.arange(6.0).reshape(3, 2) / 7}, np.array([0, 1, 0]),
                              ["fruit", "company", "unused"], "umap", {"dataset": "apple", "n_items": 3})
    frame = result.to_frame()
    assert frame.columns.tolist() == ["layer", "item", "x", "y", "label", "sense"] and len(frame) == 6
    again = ProjectionResult.load(result.save(tmp_path))
    np.testing.assert_array_equal(again.coords[2], result.coords[2])
    np.testing.assert_array_equal(again.labels, result.labels)
    assert again.label_names == ["fruit", "company", "unused"] and again.method == "umap"
    assert again.meta == result.meta and isinstance(again.plot(), Figure)
    pd.testing.assert_frame_equal(again.to_frame(), frame)
    (tmp_path / "table.csv").write_text("layer,item\n")
    with pytest.raises(StoreError, match="damaged"):
        ProjectionResult.load(tmp_path)


def test_project_layers_from_features():
    rng = np.random.default_rng(0)
    data = ProbeDataset([f"s{i}" for i in range(10)], np.arange(10) % 2, ["a", "b"])
    features = {0: rng.normal(size=(10, 4)), 3: rng.normal(size=(10, 4))}
    result = project_layers(features, data)
    np.testing.assert_allclose(result.coords[3], pca_2d(features[3]), atol=1e-5)
    assert result.method == "pca" and result.meta == {"dataset": data.name, "n_items": 10}
    with pytest.raises(InputError, match="'pca' or 'umap'"):
        project_layers(features, data, method="tsne")
