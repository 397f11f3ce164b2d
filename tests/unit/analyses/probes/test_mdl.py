"""MDL online codelength (Voita & Titov 2020)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier

from bertology.analyses.probes import block_ends, online_codelength


def test_mdl_codelength_matches_hand_computation():
    labels = np.array([0, 0, 1, 0, 1, 1, 0, 0])
    score = online_codelength(np.zeros((8, 1)), labels, 2, portions=(25, 50, 100), estimator=DummyClassifier(),
                              shuffle=False)[0]
    first = 2 * math.log2(2)                                  # uniform code for items 0-1
    second = -math.log2(1 / 4) - math.log2(3 / 4)             # Laplace prior from [0, 0]: p0 = 3/4
    third = 2 * -math.log2(1 / 4) + 2 * -math.log2(3 / 4)     # prior of [0, 0, 1, 0]: p0 = 3/4
    assert score.codelength == pytest.approx(first + second + third)
    assert score.compression == pytest.approx(8 / (first + second + third))


def test_mdl_block_ends_follow_voita_titov_portions():
    assert block_ends(10000) == [10, 20, 40, 80, 160, 320, 625, 1250, 2500, 5000, 10000]
    assert block_ends(5, (50, 100)) == [2, 5]


def test_mdl_favours_the_informative_layer():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(2, 400, 5))
    labels = (features[1, :, 0] > 0).astype(int)
    scores = online_codelength(features, labels)
    assert scores[1].codelength < scores[0].codelength
    assert scores[1].compression > 2 > scores[0].compression * 1.5
