"""INLP: iterative nullspace projection (Ravfogel et al. 2020)."""

from __future__ import annotations

import numpy as np
import scipy.linalg
from sklearn.base import ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression

from bertology.analyses.erasure.leace import check_concept_data
from bertology.core.errors import InputError


def rowspace_projection(weights: np.ndarray) -> np.ndarray:
    """Orthogonal projection onto the row space of ``weights`` (``(k, d)`` -> ``(d, d)``).

    Examples
    --------
    >>> rowspace_projection(np.array([[2.0, 0.0]])).tolist()
    [[1.0, 0.0], [0.0, 0.0]]
    """
    weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    if np.allclose(weights, 0):
        return np.zeros((weights.shape[1], weights.shape[1]))
    basis = scipy.linalg.orth(weights.T)
    return basis @ basis.T


def nullspace_intersection_basis(rowspace_projections: list[np.ndarray], dim: int) -> np.ndarray:
    """Orthonormal basis ``B`` (``(d, r)``) with ``I − B Bᵀ`` the projection onto ⋂ N(w_i).

    Ben-Israel's formula as in Ravfogel et al.'s released code:
    ``N(w_1) ∩ … ∩ N(w_n) = N(P_R(w_1) + … + P_R(w_n))``, so the projection onto the
    intersection is ``I − P_R(Σ_i P_R(w_i))`` (not the product of the nullspace projections).

    Examples
    --------
    >>> b = nullspace_intersection_basis([rowspace_projection([[1.0, 0, 0]]), rowspace_projection([[1.0, 1, 0]])], 3)
    >>> b.shape, np.allclose(b @ b.T, np.diag([1.0, 1, 0]))
    ((3, 2), True)
    """
    if not rowspace_projections:
        return np.zeros((dim, 0))
    total = np.sum(rowspace_projections, axis=0)
    if np.allclose(total, 0):
        return np.zeros((dim, 0))
    return scipy.linalg.orth(total)


def inlp_fit(x_train: np.ndarray, y_train: np.ndarray, x_dev: np.ndarray, y_dev: np.ndarray,
             n_iterations: int = 50, tolerance: float = 0.01, estimator: ClassifierMixin | None = None,
             seed: int = 0) -> tuple[np.ndarray, list[float]]:
    """Iterative nullspace projection: the basis of the removed subspace and the probe accuracy per iteration.

    As in ``get_debiasing_projection`` of Ravfogel et al.'s released code (autoregressive):
    iteration ``i`` trains a linear classifier on the training features projected onto the
    intersection of the nullspaces of the classifiers so far, scores it on the projected
    development features, and adds the projection onto its row space; the projection onto
    the intersection is recomputed from the sum of the row-space projections
    (:func:`nullspace_intersection_basis`). It stops when the development accuracy is
    within ``tolerance`` of the majority class (that classifier is not removed, as the
    features already guard the concept; Elazar et al. 2021 use the same criterion) or after
    ``n_iterations``.

    Parameters
    ----------
    x_train, y_train, x_dev, y_dev
        Features ``(n, d)`` and labels of the training and development items.
    n_iterations
        Most classifiers to train.
    tolerance
        Stop once the development accuracy is at most majority + ``tolerance``.
    estimator
        A scikit-learn linear classifier with ``coef_`` (cloned every iteration); default
        ``LogisticRegression(max_iter=2000)``.
    seed
        ``random_state`` of the classifier where it has one.

    Returns
    -------
    tuple
        ``(basis (d, r) orthonormal, accuracies)``: the erased features are
        ``x − x B Bᵀ``; ``accuracies[i]`` is the development accuracy of classifier ``i``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 400)
    >>> x = rng.normal(size=(400, 6)); x[:, 0] += 3 * y; x[:, 1] += 2 * y
    >>> basis, accuracies = inlp_fit(x[:300], y[:300], x[300:], y[300:])
    >>> accuracies[0] > 0.9, accuracies[-1] < 0.7
    (True, True)
    """
    x_train, y_train = check_concept_data(x_train, y_train)
    x_dev, y_dev = check_concept_data(x_dev, y_dev)
    if x_train.shape[1] != x_dev.shape[1]:
        raise InputError(f"Training and development features differ in width: {x_train.shape[1]} vs {x_dev.shape[1]}.")
    if n_iterations < 1:
        raise InputError(f"n_iterations must be at least 1, got {n_iterations}.")
    dim = x_train.shape[1]
    template = estimator if estimator is not None else LogisticRegression(max_iter=2000)
    if "random_state" in template.get_params():
        template = clone(template).set_params(random_state=seed)
    majority = np.bincount(y_dev).max() / len(y_dev)
    projections: list[np.ndarray] = []
    accuracies: list[float] = []
    basis = np.zeros((dim, 0))
    train, dev = x_train, x_dev
    for _ in range(n_iterations):
        classifier = clone(template).fit(train, y_train)
        accuracy = float(classifier.score(dev, y_dev))
        accuracies.append(accuracy)
        if accuracy <= majority + tolerance:
            break
        projections.append(rowspace_projection(classifier.coef_))
        basis = nullspace_intersection_basis(projections, dim)
        train = x_train - (x_train @ basis) @ basis.T
        dev = x_dev - (x_dev @ basis) @ basis.T
    return basis, accuracies
