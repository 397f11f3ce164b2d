"""INLP as in Ravfogel et al.'s released ``get_debiasing_projection`` (autoregressive, Ben-Israel's formula)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from sklearn.linear_model import LogisticRegression

from bertology.analyses.erasure.erasure import probe_accuracy
from bertology.analyses.erasure.inlp import inlp_fit, nullspace_intersection_basis, rowspace_projection
from bertology.core.errors import InputError


def _data(n: int = 1200, d: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    x = rng.normal(size=(n, d))
    x[:, :3] += np.outer(2 * labels - 1, [1.5, 1.0, 0.7])
    return x, labels


def _reference(x_train, y_train, x_dev, y_dev, n_iterations, tolerance):
    """The released procedure written out: product-free projection from the summed row-space projections."""
    dim = x_train.shape[1]
    majority = np.bincount(y_dev).max() / len(y_dev)
    projections, train, dev = [], x_train, x_dev
    p = np.eye(dim)
    for _ in range(n_iterations):
        clf = LogisticRegression(max_iter=2000, random_state=0).fit(train, y_train)
        if clf.score(dev, y_dev) <= majority + tolerance:
            break
        w = clf.coef_
        basis = scipy.linalg.orth(w.T)
        projections.append(basis @ basis.T)
        q = np.sum(projections, axis=0)
        qb = scipy.linalg.orth(q)
        p = np.eye(dim) - qb @ qb.T
        train, dev = x_train @ p, x_dev @ p
    return p


def test_matches_the_released_procedure():
    x, y = _data()
    basis, accuracies = inlp_fit(x[:900], y[:900], x[900:], y[900:], n_iterations=20)
    reference = _reference(x[:900], y[:900], x[900:], y[900:], 20, 0.01)
    assert np.allclose(np.eye(10) - basis @ basis.T, reference, atol=1e-8)
    assert accuracies[0] > 0.9 and len(accuracies) == basis.shape[1] + 1


def test_projection_is_onto_the_intersection_of_nullspaces():
    rng = np.random.default_rng(0)
    ws = [rng.normal(size=(1, 6)) for _ in range(3)]
    basis = nullspace_intersection_basis([rowspace_projection(w) for w in ws], 6)
    p = np.eye(6) - basis @ basis.T
    assert np.allclose(p @ p, p)
    for w in ws:
        assert np.allclose(w @ p, 0)
    assert basis.shape == (6, 3)


def test_non_orthogonal_directions_differ_from_the_product_of_projections():
    w1, w2 = np.array([[1.0, 0.0, 0.0]]), np.array([[1.0, 1.0, 0.0]])
    basis = nullspace_intersection_basis([rowspace_projection(w1), rowspace_projection(w2)], 3)
    product = (np.eye(3) - rowspace_projection(w2)) @ (np.eye(3) - rowspace_projection(w1))
    assert np.allclose(np.eye(3) - basis @ basis.T, np.diag([0.0, 0.0, 1.0]))
    assert not np.allclose(product, np.diag([0.0, 0.0, 1.0]))


def test_a_fresh_probe_scores_at_majority():
    x, y = _data(n=2000, seed=2)
    train, test = np.arange(1500), np.arange(1500, 2000)
    basis, _ = inlp_fit(x[train], y[train], x[test], y[test])
    erased = x - (x @ basis) @ basis.T
    majority = np.bincount(y[test]).max() / len(test)
    assert probe_accuracy(x[train], y[train], x[test], y[test]) > 0.9
    assert probe_accuracy(erased[train], y[train], erased[test], y[test]) <= majority + 0.05


def test_bad_input():
    x, y = _data(n=50)
    with pytest.raises(InputError, match="single class"):
        inlp_fit(x, np.zeros(50, int), x, y)
    with pytest.raises(InputError, match="n_iterations"):
        inlp_fit(x, y, x, y, n_iterations=0)
