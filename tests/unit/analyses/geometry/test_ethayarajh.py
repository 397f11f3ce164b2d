"""Ethayarajh's (2019) measures against hand computations, and their result type."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from bertology.analyses.geometry import (
    EthayarajhResult,
    anisotropy_baseline,
    ethayarajh_measures,
    intra_sentence_similarity,
    self_similarity,
    word_vectors,
)
from bertology.core.errors import InputError

BANK_TEXTS = ["the bank is open", "the river bank", "my bank account", "a muddy bank"]


def cos(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_self_similarity_matches_hand_computation():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(6, 4))
    types = ["bank", "bat", "bank", "bank", "bat", "once"]
    bank = [0, 2, 3]
    expected_bank = np.mean([cos(vectors[i], vectors[j]) for i, j in itertools.permutations(bank, 2)])
    expected = np.mean([expected_bank, cos(vectors[1], vectors[4])])
    assert self_similarity(vectors, types) == pytest.approx(expected)
    assert self_similarity(vectors, types, min_count=3) == pytest.approx(expected_bank)
    with pytest.raises(InputError, match="at least 4 times"):
        self_similarity(vectors, types, min_count=4)


def test_intra_sentence_similarity_matches_hand_computation():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(5, 3))
    sentence = np.array([0, 0, 0, 1, 1])
    expected = np.mean([np.mean([cos(vectors[i], vectors[rows].mean(0)) for i in rows])
                        for rows in ([0, 1, 2], [3, 4])])
    assert intra_sentence_similarity(vectors, sentence) == pytest.approx(expected)


def test_anisotropy_baseline_is_mean_cosine_of_random_distinct_pairs():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    pairs = np.mean([cos(vectors[i], vectors[j]) for i, j in itertools.permutations(range(3), 2)])
    assert anisotropy_baseline(vectors, n_pairs=20000) == pytest.approx(pairs, abs=0.01)
    assert anisotropy_baseline(np.ones((4, 3))) == pytest.approx(1.0)


def test_ethayarajh_measures_on_a_tiny_model(tiny_model, tmp_path):
    result = ethayarajh_measures(tiny_model("bert"), BANK_TEXTS, layers="0,2", progress=False)
    frame = result.to_frame()
    assert set(frame["measure"]) == {"self_similarity", "intra_sentence", "anisotropy"}
    np.testing.assert_allclose(frame["adjusted"], frame["raw"] - frame["baseline"])
    occurrences = word_vectors(tiny_model("bert"), BANK_TEXTS, layers=2, progress=False)
    at_2 = frame[frame["layer"] == 2].set_index("measure")["raw"]
    assert at_2["self_similarity"] == pytest.approx(self_similarity(occurrences.vectors[2], occurrences.types))
    assert at_2["intra_sentence"] == pytest.approx(intra_sentence_similarity(occurrences.vectors[2],
                                                                             occurrences.sentence))
    assert at_2["anisotropy"] == pytest.approx(anisotropy_baseline(occurrences.vectors[2]))
    assert result.meta == {"n_sentences": 4, "n_words": 13, "min_count": 2, "n_pairs": 1000, "seed": 0}
    assert isinstance(EthayarajhResult(frame).plot(), Figure)
    loaded = EthayarajhResult.load(result.save(tmp_path))
    pd.testing.assert_frame_equal(loaded.to_frame(), frame)
    assert loaded.meta == result.meta and isinstance(loaded.plot(), Figure)
