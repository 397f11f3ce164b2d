"""Accuracy and macro-F1 of stacked predictions, and their intervals."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from bertology.analyses.probes.metrics import accuracy, macro_f1
from bertology.core.stats import bootstrap_ci, mean_ci


def test_metrics_match_sklearn_and_intervals():
    rng = np.random.default_rng(0)
    truth, pred = rng.integers(0, 3, 50), rng.integers(0, 3, 50)
    assert macro_f1(truth, pred, 3) == pytest.approx(f1_score(truth, pred, average="macro"))
    mean, low, high = mean_ci(np.array([0.8, 0.9, 1.0]))
    assert (mean, round(low, 3), round(high, 3)) == (pytest.approx(0.9), 0.652, 1.148)
    low, high = bootstrap_ci((truth, pred), statistic=accuracy)
    assert low < (truth == pred).mean() < high
    rows = np.random.default_rng(0).integers(0, 50, size=(1000, 50))
    by_hand = np.quantile((truth[rows] == pred[rows]).mean(axis=1), [0.025, 0.975])
    assert (low, high) == pytest.approx(tuple(by_hand))
    assert bootstrap_ci((truth == pred).astype(float)) == (low, high)


def test_metrics_work_on_stacks_of_predictions():
    rng = np.random.default_rng(1)
    truth, preds = rng.integers(0, 3, 40), rng.integers(0, 3, (4, 40))
    np.testing.assert_allclose(accuracy(truth, preds), [(truth == p).mean() for p in preds])
    np.testing.assert_allclose(macro_f1(truth, preds, 3), [f1_score(truth, p, average="macro") for p in preds])
