"""LinearProbe: a scikit-learn estimator with the optimum of LogisticRegression."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from bertology.analyses.probes import LinearProbe


@parametrize_with_checks([LinearProbe()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_linear_probe_matches_sklearn_logistic_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8)) * [1, 2, 3, 4, 5, 6, 7, 8] + 3
    y = (X @ rng.normal(size=8) + rng.normal(size=300) > 3).astype(int)
    ours, theirs = LinearProbe().fit(X, y), LogisticRegression(max_iter=1000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-3)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-2)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-3)


def test_linear_probe_multiclass_matches_sklearn_logistic_regression():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 400)
    X = rng.normal(size=(400, 6)) * [1, 2, 3, 4, 5, 6] + 2 + np.eye(4, 6)[y] * 3
    ours, theirs = LinearProbe().fit(X, y), LogisticRegression(max_iter=1000, tol=1e-8).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-3)
    np.testing.assert_allclose(ours.coef_ - ours.coef_.mean(0), theirs.coef_ - theirs.coef_.mean(0), atol=1e-3)


def test_linear_probe_multiclass_shapes_and_accuracy():
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0], [4, 0], [0, 4]])
    y = rng.integers(0, 3, 300)
    X = centres[y] + rng.normal(size=(300, 2))
    probe = LinearProbe().fit(X, np.array(["a", "b", "c"])[y])
    assert probe.coef_.shape == (3, 2) and probe.intercept_.shape == (3,)
    assert probe.score(X, np.array(["a", "b", "c"])[y]) > 0.9
    assert abs(probe.score(X, np.array(["a", "b", "c"])[y])
               - LogisticRegression().fit(X, y).score(X, y)) <= 0.01
