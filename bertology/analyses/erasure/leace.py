"""LEACE: least-squares concept erasure in closed form (Belrose et al. 2023)."""

from __future__ import annotations

import numpy as np

from bertology.core.errors import InputError


def one_hot(labels: np.ndarray, n_classes: int | None = None) -> np.ndarray:
    """Labels ``(n,)`` as a one-hot ``(n, K)`` float matrix.

    Examples
    --------
    >>> one_hot(np.array([0, 2, 1])).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    labels = np.asarray(labels, dtype=np.int64)
    k = int(labels.max()) + 1 if n_classes is None else int(n_classes)
    return np.eye(k)[labels]


def check_concept_data(features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``features`` as ``(n, d)`` float64 and ``labels`` as ``(n,)`` ints, with at least two items and classes.

    Raises
    ------
    InputError
        A shape mismatch, non-finite features, fewer than two items or a single class.

    Examples
    --------
    >>> x, y = check_concept_data(np.zeros((3, 2)), [0, 1, 1])
    >>> x.dtype, y.tolist()
    (dtype('float64'), [0, 1, 1])
    """
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels)
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise InputError(f"Concept erasure needs features (n, d) and labels (n,), got {x.shape} and {y.shape}.")
    if not np.isfinite(x).all():
        raise InputError("The features hold NaN or infinite values: check the extraction (dtype, overflow).")
    if len(np.unique(y)) < 2:
        raise InputError("The labels hold a single class: a concept needs at least two classes to be erased.")
    return x, y.astype(np.int64)


def leace_fit(features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit the LEACE eraser ``r(x) = x − W⁺ P W (x − μ)`` (Belrose et al. 2023, Theorem 4.3).

    ``W = (Σ_XX^{1/2})⁺`` is the ZCA whitening matrix of the (Bessel-corrected) feature
    covariance, ``P`` the orthogonal projection onto the column space of ``W Σ_XZ``
    (``Z`` the one-hot labels) and ``μ`` the feature mean. The erased features have zero
    cross-covariance with ``Z`` and, among all such affine maps, change ``x`` least in the
    ``Σ``-weighted least-squares sense. Eigenvalues of ``Σ_XX`` below ``d · eps`` times the
    largest count as zero (``numpy.linalg.pinv``'s tolerance, with the machine epsilon of
    the features' own dtype, as the ``concept-erasure`` package does: float32 features
    carry no information below it, and keeping those directions would make the eraser
    amplify rounding noise); the computation itself runs in float64.

    Parameters
    ----------
    features
        ``(n, d)`` features.
    labels
        ``(n,)`` class indices.

    Returns
    -------
    tuple of numpy.ndarray
        ``(proj_left (d, r), proj_right (r, d), mean (d,))`` with ``r`` the rank of the
        erased subspace (at most ``K − 1``): ``r(x) = x − (x − mean) @ proj_right.T @ proj_left.T``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 200)
    >>> x = rng.normal(size=(200, 5)) + y[:, None]
    >>> left, right, mean = leace_fit(x, y)
    >>> erased = x - (x - mean) @ right.T @ left.T
    >>> left.shape, bool(np.abs((erased - erased.mean(0)).T @ one_hot(y)).max() < 1e-9)
    ((5, 2), True)
    """
    given = np.asarray(features).dtype
    eps = np.finfo(given if np.issubdtype(given, np.floating) else np.float64).eps
    x, y = check_concept_data(features, labels)
    z = one_hot(y)
    n, d = x.shape
    mean = x.mean(axis=0)
    centred = x - mean
    sigma_xx = centred.T @ centred / (n - 1)
    sigma_xz = centred.T @ (z - z.mean(axis=0)) / (n - 1)
    eigenvalues, vectors = np.linalg.eigh((sigma_xx + sigma_xx.T) / 2)
    kept = eigenvalues > eigenvalues[-1] * d * eps
    root = np.sqrt(np.clip(eigenvalues, 0.0, None))
    whiten = (vectors * np.where(kept, 1.0 / np.where(kept, root, 1.0), 0.0)) @ vectors.T
    unwhiten = (vectors * np.where(kept, root, 0.0)) @ vectors.T
    u, s, _ = np.linalg.svd(whiten @ sigma_xz, full_matrices=False)
    u = u[:, s > s.max(initial=0.0) * max(whiten.shape[0], sigma_xz.shape[1]) * np.finfo(np.float64).eps * 1e3]
    return unwhiten @ u, u.T @ whiten, mean
