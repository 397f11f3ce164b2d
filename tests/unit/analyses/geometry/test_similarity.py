"""Similarity of one word across contexts, and its result type."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from bertology.analyses.geometry import SimilarityResult, context_similarity, pair_similarities
from bertology.core.data import ProbeDataset
from bertology.core.errors import InputError, StoreError

BANK = ProbeDataset(["the bank is open", "the river bank", "my bank account", "a muddy bank"],
                    np.array([0, 1, 0, 1]), ["money", "river"], words=[1, 2, 1, 2], name="bank")


def test_pair_similarities_split_same_and_different_labels():
    vectors = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    pairs = pair_similarities(vectors, np.array([0, 0, 1]))
    assert pairs["same sense"].tolist() == [1.0] and pairs["different sense"].tolist() == [0.0, 0.0]


def test_context_similarity_on_a_tiny_model(tiny_model, tmp_path):
    model = tiny_model("bert")
    result = context_similarity(model, BANK, layers="0,2", progress=False)
    frame = result.to_frame()
    assert set(frame["comparison"]) == {"same sense", "different sense"} and set(frame["layer"]) == {0, 2}
    assert (frame["n"] == [2, 4, 2, 4]).all()
    assert frame["static"].to_numpy() == pytest.approx(1.0)  # one word form: identical static vectors
    assert result.meta == {"dataset": "bank", "n_items": 4}
    assert isinstance(result.plot(), Figure)
    loaded = SimilarityResult.load(result.save(tmp_path))
    pd.testing.assert_frame_equal(loaded.to_frame(), frame)
    assert loaded.meta == result.meta and loaded.plot().axes[0].get_title() == "'bank' across contexts"
    with pytest.raises(InputError, match="no target words"):
        context_similarity(model, ProbeDataset(["a"], np.array([0]), ["x"]))


def test_similarity_result_refuses_another_kind(tmp_path):
    from bertology.analyses.geometry import EthayarajhResult

    EthayarajhResult(pd.DataFrame({"layer": [0]})).save(tmp_path)
    with pytest.raises(StoreError, match="holds a EthayarajhResult"):
        SimilarityResult.load(tmp_path)
