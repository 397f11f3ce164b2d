"""The batched logistic-regression solver against scikit-learn."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from bertology.analyses.probes.solver import fit_predict_proba


def test_batched_probes_each_reach_their_own_sklearn_optimum():
    rng = np.random.default_rng(3)
    n, d = 400, 10
    features = rng.normal(size=(3, n, d)) * np.arange(1, d + 1)
    features[2] *= 0.01  # a badly scaled problem beside well-scaled ones
    labels = np.stack([(x @ rng.normal(size=d) + rng.normal(size=n) * s > 0).astype(int)
                       for x, s in zip(features, (0.1, 5.0, 0.001))])  # nearly separable, noisy, separable
    batched = fit_predict_proba(features, labels, features, 2, dtype=torch.float64)
    for x, y, proba in zip(features, labels, batched):
        expected = LogisticRegression(max_iter=10_000, tol=1e-10).fit(x, y).predict_proba(x)
        np.testing.assert_allclose(proba, expected, atol=1e-3)
