"""LEACE against the paper's guarantees and the authors' ``concept-erasure`` package."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bertology.analyses.erasure.erasure import probe_accuracy
from bertology.analyses.erasure.leace import leace_fit, one_hot


def _data(n: int = 600, d: int = 12, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    mixing = rng.normal(size=(d, d))
    x = rng.normal(size=(n, d)) @ mixing + 1.5 * rng.normal(size=(k, d))[labels] + 3.0
    return x, labels


def _erase(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    left, right, mean = leace_fit(x, labels)
    return x - (x - mean) @ right.T @ left.T


@pytest.mark.parametrize("k", [2, 3, 5])
def test_cross_covariance_with_the_labels_is_zero(k):
    x, labels = _data(k=k)
    erased = _erase(x, labels)
    z = one_hot(labels)
    cross = (erased - erased.mean(0)).T @ (z - z.mean(0)) / (len(x) - 1)
    before = (x - x.mean(0)).T @ (z - z.mean(0)) / (len(x) - 1)
    assert np.abs(before).max() > 0.5
    assert np.abs(cross).max() < 1e-10


def test_rank_is_classes_minus_one_and_the_mean_is_kept():
    x, labels = _data(k=4)
    left, right, mean = leace_fit(x, labels)
    assert left.shape == (12, 3) and right.shape == (3, 12)
    assert np.allclose(_erase(x, labels).mean(0), x.mean(0))


def test_equals_the_concept_erasure_package():
    concept_erasure = pytest.importorskip("concept_erasure")
    x, labels = _data(n=500, d=10, k=3, seed=1)
    fitter = concept_erasure.LeaceFitter(10, 3, dtype=torch.float64, shrinkage=False, constrain_cov_trace=False)
    fitter.update(torch.from_numpy(x), torch.from_numpy(one_hot(labels)))
    theirs = fitter.eraser(torch.from_numpy(x)).numpy()
    assert np.allclose(_erase(x, labels), theirs, atol=1e-8)
    left, right, _ = leace_fit(x, labels)
    assert np.allclose(np.eye(10) - left @ right, fitter.eraser.P.numpy(), atol=1e-8)


def test_least_squares_change_among_erasers():
    """LEACE changes x least (Σ-weighted): the orthogonal projection onto the cross-covariance's span moves it more."""
    x, labels = _data(k=2)
    erased = _erase(x, labels)
    z = one_hot(labels)
    direction = (x - x.mean(0)).T @ (z - z.mean(0))[:, :1]
    direction /= np.linalg.norm(direction)
    orthogonal = x - ((x - x.mean(0)) @ direction) @ direction.T
    assert np.mean(np.sum((erased - x) ** 2, 1)) < np.mean(np.sum((orthogonal - x) ** 2, 1))


def test_a_fresh_probe_scores_at_majority():
    x, labels = _data(n=2000, k=2, seed=3)
    train, test = np.arange(1500), np.arange(1500, 2000)
    left, right, mean = leace_fit(x[train], labels[train])
    erased = x - (x - mean) @ right.T @ left.T
    majority = np.bincount(labels[test]).max() / len(test)
    assert probe_accuracy(x[train], labels[train], x[test], labels[test]) > 0.95
    assert probe_accuracy(erased[train], labels[train], erased[test], labels[test]) <= majority + 0.05
