"""Representation similarity measures: CKA (linear, RBF, minibatch), SVCCA, PWCCA and orthogonal Procrustes.

Rows are examples (tokens or sentences) and columns are features (neurons), the
convention of Kornblith et al.'s released notebook; google/svcca's code takes the
transpose. Every measure but the RBF and minibatch CKA is a function of the centred
covariances ``Σxx, Σyy, Σxy`` alone, so the ``*_from_covariance`` functions serve both
the in-memory measures here and the streamed layer × layer matrices of
:mod:`bertology.analyses.similarity.streaming`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bertology.core.errors import InputError

PINV_RCOND = 1e-15
"""Relative cut-off below which an eigenvalue counts as zero (NumPy's ``pinv`` default, used by google/svcca)."""


def _features(x: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(x, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < 2 or array.shape[1] < 1:
        raise InputError(f"{name} has shape {array.shape}: give an (examples, features) matrix with at least 2 rows.")
    if not np.isfinite(array).all():
        raise InputError(f"{name} holds NaN or infinite values: every feature must be a finite number.")
    return array


def _pair(x: np.ndarray, y: np.ndarray, minimum_rows: int = 2) -> tuple[np.ndarray, np.ndarray]:
    x, y = _features(x, "x"), _features(y, "y")
    if len(x) != len(y):
        raise InputError(f"x has {len(x)} rows but y has {len(y)}: both must hold the same examples, one row each.")
    if len(x) < minimum_rows:
        raise InputError(f"This measure needs at least {minimum_rows} examples, got {len(x)}: give more rows.")
    return x, y


def covariance(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centred covariances ``(Σxx, Σyy, Σxy)`` of two feature matrices (divided by ``n - 1``, as ``np.cov``).

    Examples
    --------
    >>> sxx, syy, sxy = covariance(np.array([[0.0], [2.0]]), np.array([[1.0], [3.0]]))
    >>> sxx.tolist(), sxy.tolist()
    ([[2.0]], [[2.0]])
    """
    x, y = _pair(x, y)
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    scale = 1.0 / (len(x) - 1)
    return x.T @ x * scale, y.T @ y * scale, x.T @ y * scale


def gram_linear(x: np.ndarray) -> np.ndarray:
    """The linear kernel's Gram matrix ``X Xᵀ`` (Kornblith et al. 2019).

    Examples
    --------
    >>> gram_linear(np.array([[1.0, 0.0], [1.0, 1.0]])).tolist()
    [[1.0, 1.0], [1.0, 2.0]]
    """
    x = _features(x, "x")
    return x @ x.T


def gram_rbf(x: np.ndarray, threshold: float = 1.0) -> np.ndarray:
    """The RBF kernel's Gram matrix with the bandwidth of Kornblith et al. (2019).

    ``k(xᵢ, xⱼ) = exp(-‖xᵢ - xⱼ‖² / (2 σ²))`` with ``σ = threshold × median distance``:
    the median is taken over the squared distances of all ordered pairs, diagonal
    included, as in the authors' released notebook (``gram_rbf``).

    Parameters
    ----------
    x
        ``(examples, features)``.
    threshold
        Bandwidth as a fraction of the median distance (the paper reports 0.2, 0.4, 0.8;
        the notebook's default is 1).

    Examples
    --------
    >>> float(gram_rbf(np.array([[0.0], [1.0], [3.0]]))[0, 1].round(4))
    0.6065
    """
    x = _features(x, "x")
    if threshold <= 0:
        raise InputError(f"threshold = {threshold!r}: the RBF bandwidth must be a positive fraction of the median "
                         "distance, e.g. 1.0 or 0.5.")
    dots = x @ x.T
    squared_norms = np.diag(dots)
    squared_distances = squared_norms[:, None] + squared_norms[None, :] - 2 * dots
    median = np.median(squared_distances)
    if median <= 0:
        raise InputError("Most rows of x are identical (the median distance is 0), so the RBF bandwidth is 0: "
                         "give distinct examples or use the linear kernel.")
    return np.exp(-squared_distances / (2 * threshold ** 2 * median))


def center_gram(gram: np.ndarray, unbiased: bool = False) -> np.ndarray:
    """Centre a symmetric Gram matrix, i.e. centre the features the kernel induces (Kornblith et al. 2019).

    With ``unbiased`` the matrix is adjusted so that ``<center(K), center(L)>`` is
    ``n(n - 3)`` times the unbiased HSIC estimator (the U-statistic form of Székely &
    Rizzo 2014, as in the authors' notebook); its diagonal is zero.

    Examples
    --------
    >>> center_gram(np.array([[2.0, 0.0], [0.0, 0.0]])).tolist()
    [[0.5, -0.5], [-0.5, 0.5]]
    """
    gram = np.array(gram, dtype=np.float64)
    if gram.ndim != 2 or gram.shape[0] != gram.shape[1] or not np.allclose(gram, gram.T):
        raise InputError(f"The Gram matrix of shape {gram.shape} is not square and symmetric: give K = X Xᵀ or "
                         "another kernel matrix.")
    n = len(gram)
    if unbiased:
        if n < 4:
            raise InputError(f"The unbiased estimator needs at least 4 examples, got {n}.")
        np.fill_diagonal(gram, 0)
        means = gram.sum(axis=0) / (n - 2)
        means -= means.sum() / (2 * (n - 1))
        gram -= means[:, None]
        gram -= means[None, :]
        np.fill_diagonal(gram, 0)
    else:
        means = gram.mean(axis=0)
        means -= means.mean() / 2
        gram -= means[:, None]
        gram -= means[None, :]
    return gram


def cka(gram_x: np.ndarray, gram_y: np.ndarray, debiased: bool = False) -> float:
    """Centred kernel alignment of two Gram matrices (Kornblith et al. 2019, Eq. 2).

    ``CKA(K, L) = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))``; with ``debiased`` the HSIC
    estimates are unbiased (CKA itself may still be biased).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(20, 3))
    >>> round(cka(gram_linear(x), gram_linear(2 * x)), 6)
    1.0
    """
    gram_x = center_gram(gram_x, unbiased=debiased)
    gram_y = center_gram(gram_y, unbiased=debiased)
    if gram_x.shape != gram_y.shape:
        raise InputError(f"The Gram matrices have shapes {gram_x.shape} and {gram_y.shape}: both must cover the "
                         "same examples.")
    return float(gram_x.ravel() @ gram_y.ravel() / (np.linalg.norm(gram_x) * np.linalg.norm(gram_y)))


def _debiased_dot(xty: float, rows_x: np.ndarray, rows_y: np.ndarray, n: int) -> float:
    """Unbiased linear HSIC (times ``n(n - 3)``) from ``‖XᵀY‖²`` and the squared row norms (Song et al. 2007)."""
    return xty - n / (n - 2.0) * (rows_x @ rows_y) + rows_x.sum() * rows_y.sum() / ((n - 1) * (n - 2))


def linear_cka(x: np.ndarray, y: np.ndarray, debiased: bool = False) -> float:
    """Linear CKA (Kornblith et al. 2019), computed in feature space.

    ``CKA = ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F)`` on column-centred ``X`` and ``Y``. Invariant to
    orthogonal transforms and isotropic scaling of either side, not to arbitrary
    invertible linear maps. ``debiased`` uses the unbiased HSIC estimator, as
    ``feature_space_linear_cka(..., debiased=True)`` in the authors' notebook.

    Parameters
    ----------
    x, y
        ``(examples, features)`` matrices with the same rows; widths may differ.
    debiased
        Unbiased HSIC estimates (needs at least 4 rows).

    Returns
    -------
    float
        In [0, 1] (the debiased value may fall slightly outside).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(100, 8))
    >>> q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    >>> round(linear_cka(x, 3 * x @ q), 6), round(linear_cka(x, rng.normal(size=(100, 8))), 1)
    (1.0, 0.1)
    """
    x, y = _pair(x, y, minimum_rows=4 if debiased else 2)
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    xty = np.linalg.norm(x.T @ y) ** 2
    xtx = np.linalg.norm(x.T @ x) ** 2
    yty = np.linalg.norm(y.T @ y) ** 2
    if debiased:
        n = len(x)
        rows_x, rows_y = np.einsum("ij,ij->i", x, x), np.einsum("ij,ij->i", y, y)
        xty, xtx, yty = _debiased_dot(xty, rows_x, rows_y, n), _debiased_dot(xtx, rows_x, rows_x, n), \
            _debiased_dot(yty, rows_y, rows_y, n)
    return float(xty / np.sqrt(xtx * yty))


def linear_cka_from_covariance(sxx: np.ndarray, syy: np.ndarray, sxy: np.ndarray) -> float:
    """Linear CKA from the centred covariances: ``‖Σxy‖²_F / (‖Σxx‖_F ‖Σyy‖_F)`` (Kornblith et al. 2019).

    Examples
    --------
    >>> round(linear_cka_from_covariance(*covariance(np.eye(3), 2 * np.eye(3))), 6)
    1.0
    """
    return float(np.linalg.norm(sxy) ** 2 / (np.linalg.norm(sxx) * np.linalg.norm(syy)))


def rbf_cka(x: np.ndarray, y: np.ndarray, threshold: float = 1.0, debiased: bool = False) -> float:
    """CKA with an RBF kernel whose bandwidth is a fraction of the median distance (Kornblith et al. 2019).

    Needs the ``(n, n)`` Gram matrices in memory.

    Parameters
    ----------
    x, y
        ``(examples, features)`` matrices with the same rows.
    threshold
        Bandwidth as a fraction of the median distance (see :func:`gram_rbf`).
    debiased
        Unbiased HSIC estimates.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(50, 4))
    >>> round(rbf_cka(x, 5 * x), 6)
    1.0
    """
    x, y = _pair(x, y, minimum_rows=4 if debiased else 2)
    return cka(gram_rbf(x, threshold), gram_rbf(y, threshold), debiased=debiased)


def hsic_unbiased_matrix(grams_a: np.ndarray, grams_b: np.ndarray) -> np.ndarray:
    """The unbiased HSIC₁ of every pair of Gram matrices of two stacks (Song et al. 2012; Nguyen et al. 2021, Eq. 3).

    ``HSIC₁(K, L) = [tr(K̃L̃) + 1ᵀK̃1 1ᵀL̃1 / ((n-1)(n-2)) - 2/(n-2) 1ᵀK̃L̃1] / (n(n-3))``
    with ``K̃, L̃`` the Gram matrices with zeroed diagonals.

    Parameters
    ----------
    grams_a, grams_b
        ``(La, n, n)`` and ``(Lb, n, n)`` Gram matrices of the same ``n >= 4`` examples.

    Returns
    -------
    numpy.ndarray
        ``(La, Lb)``.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(10, 3))
    >>> k = gram_linear(x)[None]
    >>> bool(np.isclose(hsic_unbiased_matrix(k, k)[0, 0], hsic_unbiased(k[0], k[0])))
    True
    """
    n = grams_a.shape[-1]
    if n < 4:
        raise InputError(f"The unbiased HSIC needs at least 4 examples per minibatch, got {n}.")
    diagonal = np.arange(n)
    grams_a = np.array(grams_a, dtype=np.float64)
    grams_b = np.array(grams_b, dtype=np.float64)
    grams_a[:, diagonal, diagonal] = 0
    grams_b[:, diagonal, diagonal] = 0
    trace = grams_a.reshape(len(grams_a), -1) @ grams_b.reshape(len(grams_b), -1).T
    rows_a, rows_b = grams_a.sum(axis=2), grams_b.sum(axis=2)
    totals = np.outer(rows_a.sum(axis=1), rows_b.sum(axis=1)) / ((n - 1) * (n - 2))
    return (trace + totals - 2.0 / (n - 2) * (rows_a @ rows_b.T)) / (n * (n - 3))


def hsic_unbiased(gram_x: np.ndarray, gram_y: np.ndarray) -> float:
    """The unbiased estimator HSIC₁ of two Gram matrices (Song et al. 2012; Nguyen et al. 2021).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(30, 2))
    >>> round(hsic_unbiased(gram_linear(x), gram_linear(x)) / hsic_unbiased(gram_linear(x), gram_linear(x)), 1)
    1.0
    """
    return float(hsic_unbiased_matrix(np.asarray(gram_x)[None], np.asarray(gram_y)[None])[0, 0])


def minibatches(n: int, batch_size: int, seed: int = 0) -> list[np.ndarray]:
    """Row indices of random minibatches covering ``n`` rows once, as equal in size as possible.

    A seeded permutation of the rows cut into ``ceil(n / batch_size)`` parts; each part's
    indices are sorted (so reading them from a memory-mapped store goes forward).

    Examples
    --------
    >>> [len(batch) for batch in minibatches(10, 4)]
    [4, 3, 3]
    """
    if batch_size < 4:
        raise InputError(f"minibatch = {batch_size!r}: the unbiased HSIC needs at least 4 rows per minibatch.")
    if n < 4:
        raise InputError(f"Minibatch CKA needs at least 4 examples, got {n}: give more texts or rows.")
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(part) for part in np.array_split(order, -(-n // batch_size))]


def minibatch_cka(x: np.ndarray, y: np.ndarray, batch_size: int = 1024, seed: int = 0) -> float:
    """Minibatch linear CKA (Nguyen, Raghu & Kornblith 2021, Eq. 2-3).

    The unbiased HSIC₁ of the linear Gram matrices is averaged over random minibatches,
    then ``CKA = mean HSIC₁(K, L) / sqrt(mean HSIC₁(K, K) · mean HSIC₁(L, L))``. With
    one minibatch holding every row it equals the debiased linear CKA.

    Parameters
    ----------
    x, y
        ``(examples, features)`` matrices with the same rows.
    batch_size
        Rows per minibatch (at least 4).
    seed
        Seed of the random split into minibatches.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(400, 5))
    >>> y = x + 0.5 * rng.normal(size=(400, 5))
    >>> bool(abs(minibatch_cka(x, y, batch_size=400) - linear_cka(x, y, debiased=True)) < 1e-9)
    True
    """
    x, y = _pair(x, y)
    totals = np.zeros(3)
    for rows in minibatches(len(x), batch_size, seed):
        grams = np.stack([gram_linear(x[rows]), gram_linear(y[rows])])
        hsic = hsic_unbiased_matrix(grams, grams)
        totals += hsic[0, 1], hsic[0, 0], hsic[1, 1]
    return float(totals[0] / np.sqrt(totals[1] * totals[2]))


@dataclass
class Whitened:
    """One side of google/svcca's ``cca_core`` (Raghu et al. 2017): its covariance, scaled and cleaned.

    Attributes
    ----------
    keep
        ``(d,)`` bool: features whose scaled variance reaches ``epsilon`` (``remove_small``).
    scale
        Largest absolute entry of the covariance, by which it was divided.
    covariance
        The scaled covariance of the kept features.
    invsqrt
        ``(covariance + epsilon I)^(-1/2)``; eigenvalues below NumPy's ``pinv`` cut-off count as 0.
    """

    keep: np.ndarray
    scale: float
    covariance: np.ndarray
    invsqrt: np.ndarray


def whiten(sxx: np.ndarray, epsilon: float = 1e-10) -> Whitened:
    """Prepare one side of CCA as google/svcca's ``get_cca_similarity`` does (Raghu et al. 2017).

    The covariance is divided by its largest absolute entry, features whose variance
    falls below ``epsilon`` are dropped, ``epsilon`` is added to the diagonal and the
    inverse square root is taken through an eigendecomposition.

    Examples
    --------
    >>> w = whiten(np.diag([4.0, 1.0, 0.0]))
    >>> w.keep.tolist(), np.round(np.diag(w.invsqrt), 3).tolist()
    ([True, True, False], [1.0, 2.0])
    """
    scale = float(np.max(np.abs(sxx))) if sxx.size else 0.0
    if scale == 0:
        return Whitened(np.zeros(len(sxx), dtype=bool), 1.0, np.zeros((0, 0)), np.zeros((0, 0)))
    scaled = sxx / scale
    keep = np.abs(np.diag(scaled)) >= epsilon
    kept = scaled[keep][:, keep]
    values, vectors = np.linalg.eigh(kept + epsilon * np.eye(len(kept)))
    usable = values > PINV_RCOND * np.max(np.abs(values))
    inverse_roots = np.where(usable, 1.0 / np.sqrt(np.where(usable, values, 1.0)), 0.0)
    return Whitened(keep, scale, kept, (vectors * inverse_roots) @ vectors.T)


def canonical_correlations(wx: Whitened, wy: Whitened, sxy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CCA of two whitened sides: ``svd((Σxx + εI)^(-1/2) Σxy (Σyy + εI)^(-1/2))`` (google/svcca ``compute_ccas``).

    Returns
    -------
    tuple
        ``(correlations, u, vh)``: the ``min(kx, ky)`` canonical correlations in decreasing
        order, and the full singular vectors (directions in the whitened spaces); empty
        when one side kept no feature.

    Examples
    --------
    >>> s, _, _ = canonical_correlations(whiten(np.eye(2)), whiten(np.eye(2)), np.diag([1.0, 0.5]))
    >>> np.round(s, 6).tolist()
    [1.0, 0.5]
    """
    if not wx.keep.any() or not wy.keep.any():
        return np.zeros(0), np.zeros((0, 0)), np.zeros((0, 0))
    cross = sxy[wx.keep][:, wy.keep] / np.sqrt(wx.scale * wy.scale)
    u, s, vh = np.linalg.svd(wx.invsqrt @ cross @ wy.invsqrt)
    return np.abs(s), u, vh


@dataclass
class Principal:
    """The leading principal directions of one representation (the SV step of SVCCA).

    Attributes
    ----------
    directions
        ``(d, k)`` orthonormal directions, by decreasing variance.
    variances
        ``(k,)`` their variances.
    """

    directions: np.ndarray
    variances: np.ndarray


def principal_directions(sxx: np.ndarray, variance: float = 0.99) -> Principal:
    """The fewest principal directions that explain ``variance`` of the total variance (Raghu et al. 2017).

    Examples
    --------
    >>> p = principal_directions(np.diag([9.0, 0.9, 0.1]), variance=0.99)
    >>> p.variances.tolist(), p.directions.shape
    ([9.0, 0.9], (3, 2))
    """
    if not 0 < variance <= 1:
        raise InputError(f"variance = {variance!r}: give the fraction of variance SVCCA keeps, in (0, 1], e.g. 0.99.")
    values, vectors = np.linalg.eigh(sxx)
    values, vectors = np.clip(values[::-1], 0, None), vectors[:, ::-1]
    total = values.sum()
    if total <= 0:
        return Principal(vectors[:, :0], values[:0])
    keep = min(int(np.searchsorted(np.cumsum(values) / total, variance)) + 1, len(values))
    return Principal(vectors[:, :keep], values[:keep])


def svcca_from_covariance(px: Principal, py: Principal, sxy: np.ndarray, epsilon: float = 1e-10) -> float:
    """SVCCA from the principal directions of each side and the cross-covariance (Raghu et al. 2017).

    The data projected on the kept directions have covariances ``diag(variances)`` and
    cross-covariance ``Pxᵀ Σxy Py``; their CCA follows google/svcca's ``cca_core``; the
    similarity is the mean canonical correlation (0 when a side has no variance).

    Examples
    --------
    >>> p = principal_directions(np.eye(2))
    >>> round(svcca_from_covariance(p, p, np.eye(2)), 6)
    1.0
    """
    cross = px.directions.T @ sxy @ py.directions
    correlations, _, _ = canonical_correlations(whiten(np.diag(px.variances), epsilon),
                                                whiten(np.diag(py.variances), epsilon), cross)
    return float(correlations.mean()) if correlations.size else 0.0


def pwcca_from_covariance(wx: Whitened, wy: Whitened, sxy: np.ndarray) -> float:
    """Projection-weighted CCA from whitened sides and the cross-covariance (Morcos et al. 2018, Eq. 5).

    The canonical correlations ``ρᵢ`` are weighted by ``α̃ᵢ = Σⱼ |⟨hᵢ, xⱼ⟩|``, the
    summed absolute projection of every neuron ``xⱼ`` on the unit-norm canonical variate
    ``hᵢ``, on the side with fewer kept neurons (as google/svcca's ``pwcca.py``). Here
    ``hᵢ ∝ X (Σxx + εI)^(-1/2) uᵢ``, so ``Xᵀhᵢ`` and ``‖hᵢ‖`` come from ``Σxx`` alone.
    google/svcca's ``compute_pwcca`` forms the directions without the
    ``(Σxx + εI)^(-1/2)`` factor, so they are not the canonical variates the paper
    weights by; this follows the paper.

    Examples
    --------
    >>> w = whiten(np.eye(2))
    >>> round(pwcca_from_covariance(w, w, np.diag([1.0, 0.0])), 6)
    0.5
    """
    correlations, u, vh = canonical_correlations(wx, wy, sxy)
    if not correlations.size:
        return 0.0
    side, directions = (wx, u) if wx.keep.sum() <= wy.keep.sum() else (wy, vh.T)
    coefficients = side.invsqrt @ directions[:, :len(correlations)]
    projections = side.covariance @ coefficients
    norms = np.sqrt(np.clip(np.einsum("ji,ji->i", coefficients, projections), 0, None))
    weights = np.abs(projections).sum(axis=0) / np.where(norms > 0, norms, 1.0)
    return float(weights @ correlations / weights.sum())


def procrustes_from_covariance(sxx: np.ndarray, syy: np.ndarray, sxy: np.ndarray) -> float:
    """Orthogonal Procrustes distance from the centred covariances (Ding et al. 2021).

    ``2 - 2 ‖Σxy‖_* / sqrt(tr Σxx · tr Σyy)``: the formula ``‖X‖²_F + ‖Y‖²_F - 2‖XᵀY‖_*``
    on centred features each scaled to unit Frobenius norm.

    Examples
    --------
    >>> procrustes_from_covariance(np.eye(2), np.eye(2), np.eye(2))
    0.0
    """
    nuclear = np.linalg.svd(sxy, compute_uv=False).sum()
    return float(max(0.0, 2.0 - 2.0 * nuclear / np.sqrt(np.trace(sxx) * np.trace(syy))))


def svcca(x: np.ndarray, y: np.ndarray, variance: float = 0.99, epsilon: float = 1e-10) -> float:
    """SVCCA similarity (Raghu et al. 2017): mean CCA correlation after keeping 99 % of each side's variance.

    Each side is centred and reduced by SVD to the fewest directions that explain
    ``variance`` of its variance; CCA of the reduced data follows google/svcca's
    ``cca_core.get_cca_similarity`` (covariance scaled by its largest entry, features
    under ``epsilon`` dropped, ``epsilon`` added to the diagonal), and the similarity is
    the mean of all canonical correlations, as in the authors' tutorials.

    Parameters
    ----------
    x, y
        ``(examples, features)`` matrices with the same rows.
    variance
        Fraction of variance the SVD step keeps.
    epsilon
        Regulariser of google/svcca (their tutorials use 1e-10).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(500, 6))
    >>> round(svcca(x, x @ rng.normal(size=(6, 6))), 6)
    1.0
    """
    sxx, syy, sxy = covariance(x, y)
    return svcca_from_covariance(principal_directions(sxx, variance), principal_directions(syy, variance), sxy,
                                 epsilon)


def check_cca_rows(n: int, width_x: int, width_y: int) -> None:
    """CCA on raw features needs more examples than features on either side (google/svcca asserts it).

    Examples
    --------
    >>> check_cca_rows(10, 20, 5)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: PWCCA needs more examples than features ...
    """
    if n <= max(width_x, width_y):
        raise InputError(f"PWCCA needs more examples than features: got {n} rows for {max(width_x, width_y)} "
                         "features, where every canonical correlation is trivially 1. Give more texts, or use "
                         "svcca or linear_cka.")


def pwcca(x: np.ndarray, y: np.ndarray, epsilon: float = 1e-10) -> float:
    """Projection-weighted CCA similarity (Morcos, Raghu & Bengio 2018).

    The canonical correlations (CCA as in google/svcca's ``cca_core``) are averaged with
    weights proportional to how much of the representation each canonical variate
    accounts for (see :func:`pwcca_from_covariance`). Not symmetric: the side with fewer
    features gives the weights.

    Parameters
    ----------
    x, y
        ``(examples, features)`` matrices with the same rows, more rows than features.
    epsilon
        Regulariser of google/svcca.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(500, 6))
    >>> round(pwcca(x, x @ rng.normal(size=(6, 6))), 6)
    1.0
    """
    x, y = _pair(x, y)
    check_cca_rows(len(x), x.shape[1], y.shape[1])
    sxx, syy, sxy = covariance(x, y)
    return pwcca_from_covariance(whiten(sxx, epsilon), whiten(syy, epsilon), sxy)


def procrustes(x: np.ndarray, y: np.ndarray) -> float:
    """Orthogonal Procrustes distance (Ding, Denain & Steinhardt 2021; Schönemann 1966).

    ``d(X, Y) = ‖X‖²_F + ‖Y‖²_F - 2‖XᵀY‖_*`` on centred features each scaled to unit
    Frobenius norm: the smallest ``‖X - YQ‖²_F`` over orthogonal ``Q``. 0 for the same
    representation up to rotation and scale, at most 2.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(50, 4))
    >>> q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    >>> round(procrustes(x, 2 * x @ q), 6)
    0.0
    """
    return procrustes_from_covariance(*covariance(x, y))
