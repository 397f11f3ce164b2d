"""geometry_task: a word's projection, similarity and Ethayarajh's measures saved into a directory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bertology as bt
from bertology.analyses.geometry import (
    EthayarajhResult,
    ProjectionResult,
    SimilarityResult,
    context_similarity,
    ethayarajh_measures,
    geometry_task,
    pca_2d,
)
from bertology.core.data.loaders import load_dataset
from bertology.core.errors import InputError


def test_geometry_task_saves_each_result(tiny_model, tmp_path):
    model = tiny_model("bert")
    results = geometry_task(model, tmp_path, word="bat", layers="0,2", n_pairs=300, seed=4, batch_size=8,
                            progress=False)
    assert sorted(results) == ["ethayarajh", "projection", "similarity"]
    data = load_dataset("coarsewsd20", word="bat")
    projection = ProjectionResult.load(tmp_path / "projection")
    vectors = bt.extract(model, data.texts, layers="0,2", pool="word_mean", words=data.words, batch_size=8,
                         progress=False)
    np.testing.assert_allclose(projection.coords[2], pca_2d(np.asarray(vectors[2], dtype=np.float64)), atol=1e-8)
    assert projection.label_names == list(data.label_names) and projection.labels.tolist() == data.labels.tolist()
    pd.testing.assert_frame_equal(projection.to_frame(), results["projection"].to_frame())
    similarity = SimilarityResult.load(tmp_path / "similarity")
    expected = context_similarity(model, data, layers="0,2", progress=False).to_frame()
    pd.testing.assert_frame_equal(similarity.to_frame(), expected, check_exact=False, rtol=1e-6)
    assert similarity.meta == {"dataset": data.name, "n_items": len(data)}
    measures = EthayarajhResult.load(tmp_path / "ethayarajh")
    expected = ethayarajh_measures(model, data.texts, "0,2", n_pairs=300, seed=4, progress=False).to_frame()
    pd.testing.assert_frame_equal(measures.to_frame(), expected)
    assert measures.meta["n_pairs"] == 300 and measures.meta["seed"] == 4
    figures = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert figures == [f"{name}.{ext}" for name in ("ethayarajh", "projection", "similarity_by_layer")
                       for ext in ("pdf", "png")]


def test_geometry_task_without_ethayarajh_or_figures(tiny_model, tmp_path):
    results = geometry_task(tiny_model("bert"), tmp_path, word="bank", layers=1, ethayarajh=False, figures=False,
                            progress=False)
    assert sorted(results) == ["projection", "similarity"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["projection", "similarity"]
    assert sorted(ProjectionResult.load(tmp_path / "projection").coords) == [1]
    assert results["similarity"].meta["dataset"] == load_dataset("coarsewsd20", word="bank").name


def test_geometry_task_checks_the_output_before_the_model_loads(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the output was checked")

    monkeypatch.setattr("bertology.analyses.geometry.task.load_model", refuse)
    blocker = tmp_path / "a_file"
    blocker.write_text("keep")
    with pytest.raises(InputError, match="is a file, not a directory"):
        geometry_task("some-model", blocker, word="bat")
    with pytest.raises(InputError, match="output directory is empty"):
        geometry_task("some-model", "", word="bat")
    assert blocker.read_text() == "keep"
