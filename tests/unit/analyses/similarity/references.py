"""The authors' released procedures, re-implemented for the tests (arrays as they take them).

Kornblith et al. (2019), google-research/representation_similarity notebook:
``feature_space_linear_cka``, ``gram_rbf``, ``center_gram``, ``cka`` (examples × features).
google/svcca (Raghu et al. 2017; Morcos et al. 2018): ``cca_core.get_cca_similarity``,
the SVCCA tutorial steps and ``pwcca.compute_pwcca`` (neurons × datapoints).
"""

from __future__ import annotations

import numpy as np


def notebook_feature_space_linear_cka(features_x, features_y, debiased=False):
    features_x = features_x - np.mean(features_x, 0, keepdims=True)
    features_y = features_y - np.mean(features_y, 0, keepdims=True)
    dot_product_similarity = np.linalg.norm(features_x.T.dot(features_y)) ** 2
    normalization_x = np.linalg.norm(features_x.T.dot(features_x))
    normalization_y = np.linalg.norm(features_y.T.dot(features_y))
    if debiased:
        n = features_x.shape[0]
        rows_x = np.einsum("ij,ij->i", features_x, features_x)
        rows_y = np.einsum("ij,ij->i", features_y, features_y)
        norm_x, norm_y = np.sum(rows_x), np.sum(rows_y)

        def helper(xty, sx, sy, nx, ny):
            return xty - n / (n - 2.) * sx.dot(sy) + nx * ny / ((n - 1) * (n - 2))

        dot_product_similarity = helper(dot_product_similarity, rows_x, rows_y, norm_x, norm_y)
        normalization_x = np.sqrt(helper(normalization_x ** 2, rows_x, rows_x, norm_x, norm_x))
        normalization_y = np.sqrt(helper(normalization_y ** 2, rows_y, rows_y, norm_y, norm_y))
    return dot_product_similarity / (normalization_x * normalization_y)


def notebook_gram_rbf(x, threshold=1.0):
    dot_products = x.dot(x.T)
    sq_norms = np.diag(dot_products)
    sq_distances = -2 * dot_products + sq_norms[:, None] + sq_norms[None, :]
    sq_median_distance = np.median(sq_distances)
    return np.exp(-sq_distances / (2 * threshold ** 2 * sq_median_distance))


def notebook_center_gram(gram, unbiased=False):
    gram = gram.copy()
    if unbiased:
        n = gram.shape[0]
        np.fill_diagonal(gram, 0)
        means = np.sum(gram, 0, dtype=np.float64) / (n - 2)
        means -= np.sum(means) / (2 * (n - 1))
        gram -= means[:, None]
        gram -= means[None, :]
        np.fill_diagonal(gram, 0)
    else:
        means = np.mean(gram, 0, dtype=np.float64)
        means -= np.mean(means) / 2
        gram -= means[:, None]
        gram -= means[None, :]
    return gram


def notebook_cka(gram_x, gram_y, debiased=False):
    gram_x = notebook_center_gram(gram_x, unbiased=debiased)
    gram_y = notebook_center_gram(gram_y, unbiased=debiased)
    scaled_hsic = gram_x.ravel().dot(gram_y.ravel())
    return scaled_hsic / (np.linalg.norm(gram_x) * np.linalg.norm(gram_y))


def _positivedef_matrix_sqrt(array):
    w, v = np.linalg.eigh(array)
    return np.dot(v, np.dot(np.diag(np.sqrt(w)), np.conj(v).T))


def svcca_get_cca_similarity(acts1, acts2, epsilon=0.0):
    """``cca_core.get_cca_similarity`` (the parts that give the coefficients and directions)."""
    assert acts1.shape[1] == acts2.shape[1] and acts1.shape[0] < acts1.shape[1]
    numx = acts1.shape[0]
    covariance = np.cov(acts1, acts2)
    sigmaxx, sigmaxy = covariance[:numx, :numx], covariance[:numx, numx:]
    sigmayx, sigmayy = covariance[numx:, :numx], covariance[numx:, numx:]
    xmax, ymax = np.max(np.abs(sigmaxx)), np.max(np.abs(sigmayy))
    sigmaxx /= xmax
    sigmayy /= ymax
    sigmaxy /= np.sqrt(xmax * ymax)
    sigmayx /= np.sqrt(xmax * ymax)
    x_idxs = np.abs(np.diagonal(sigmaxx)) >= epsilon
    y_idxs = np.abs(np.diagonal(sigmayy)) >= epsilon
    sigmaxx, sigmaxy = sigmaxx[x_idxs][:, x_idxs], sigmaxy[x_idxs][:, y_idxs]
    sigmayy = sigmayy[y_idxs][:, y_idxs]
    sigmaxx += epsilon * np.eye(sigmaxx.shape[0])
    sigmayy += epsilon * np.eye(sigmayy.shape[0])
    invsqrt_xx = _positivedef_matrix_sqrt(np.linalg.pinv(sigmaxx))
    invsqrt_yy = _positivedef_matrix_sqrt(np.linalg.pinv(sigmayy))
    u, s, v = np.linalg.svd(np.dot(invsqrt_xx, np.dot(sigmaxy, invsqrt_yy)))
    return {"cca_coef1": np.abs(s), "coef_x": u.T, "coef_y": v, "invsqrt_xx": invsqrt_xx, "invsqrt_yy": invsqrt_yy,
            "x_idxs": x_idxs, "y_idxs": y_idxs, "neuron_means1": np.mean(acts1, axis=1, keepdims=True),
            "neuron_means2": np.mean(acts2, axis=1, keepdims=True)}


def svcca_tutorial(acts1, acts2, variance=0.99, epsilon=1e-10):
    """The SVCCA tutorial: centre, SVD, keep the directions for ``variance`` of s², CCA, mean coefficient."""
    reduced = []
    for acts in (acts1, acts2):
        cacts = acts - np.mean(acts, axis=1, keepdims=True)
        _, s, v = np.linalg.svd(cacts, full_matrices=False)
        explained = np.cumsum(s ** 2) / np.sum(s ** 2)
        keep = int(np.argmax(explained >= variance)) + 1
        reduced.append(np.dot(s[:keep] * np.eye(keep), v[:keep]))
    return float(np.mean(svcca_get_cca_similarity(*reduced, epsilon=epsilon)["cca_coef1"]))


def compute_pwcca(acts1, acts2, epsilon=0.0, canonical_variates=False):
    """``pwcca.compute_pwcca``; ``canonical_variates`` forms the directions as the paper's CCA vectors."""
    sresults = svcca_get_cca_similarity(acts1, acts2, epsilon=epsilon)
    if np.sum(sresults["x_idxs"]) <= np.sum(sresults["y_idxs"]):
        coef, invsqrt, means, acts, idxs = (sresults["coef_x"], sresults["invsqrt_xx"], sresults["neuron_means1"],
                                            acts1, sresults["x_idxs"])
    else:
        coef, invsqrt, means, acts, idxs = (sresults["coef_y"], sresults["invsqrt_yy"], sresults["neuron_means2"],
                                            acts2, sresults["y_idxs"])
    if canonical_variates:
        dirns = np.dot(np.dot(coef, invsqrt), acts[idxs] - means[idxs])
    else:
        dirns = np.dot(coef, acts[idxs] - means[idxs]) + means[idxs]
    p, _ = np.linalg.qr(dirns.T)
    weights = np.sum(np.abs(np.dot(p.T, acts[idxs].T)), axis=1)
    weights = weights / np.sum(weights)
    coefs = sresults["cca_coef1"]
    return float(np.sum(weights * coefs))
