"""The measures against their definitions, by hand, and against the authors' released procedures."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import orthogonal_procrustes

from bertology.analyses.similarity.measures import (
    center_gram,
    cka,
    covariance,
    gram_linear,
    gram_rbf,
    hsic_unbiased,
    linear_cka,
    minibatch_cka,
    minibatches,
    principal_directions,
    procrustes,
    pwcca,
    rbf_cka,
    svcca,
)
from bertology.core.errors import InputError
from tests.unit.analyses.similarity import references

MEASURES = {
    "linear_cka": linear_cka,
    "debiased_linear_cka": lambda x, y: linear_cka(x, y, debiased=True),
    "rbf_cka": rbf_cka,
    "minibatch_cka": lambda x, y: minibatch_cka(x, y, batch_size=100),
    "svcca": svcca,
    "pwcca": pwcca,
}


def _data(n=300, d=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + 3.0
    y = np.tanh(x @ rng.normal(size=(d, d + 2))) + 0.3 * rng.normal(size=(n, d + 2))
    return x, y


def _rotation(d, seed=1):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


@pytest.mark.parametrize("name", MEASURES)
def test_a_representation_is_identical_to_itself(name):
    x, _ = _data()
    assert MEASURES[name](x, x) == pytest.approx(1.0, abs=1e-6)


def test_procrustes_distance_to_itself_is_zero():
    x, y = _data()
    assert procrustes(x, x) == pytest.approx(0.0, abs=1e-9)
    assert 0.0 < procrustes(x, y) <= 2.0


@pytest.mark.parametrize("name", [*MEASURES, "procrustes"])
def test_invariant_to_orthogonal_transforms_and_isotropic_scaling(name):
    measure = procrustes if name == "procrustes" else MEASURES[name]
    x, y = _data()
    rotation = np.eye(x.shape[1]) if name == "pwcca" else _rotation(x.shape[1])
    moved = 4.5 * x @ rotation - 7.0
    assert measure(moved, y) == pytest.approx(measure(x, y), abs=1e-8)
    assert measure(x, 0.1 * y @ _rotation(y.shape[1], seed=2)) == pytest.approx(measure(x, y), abs=1e-8)


def test_pwcca_weights_depend_on_the_neuron_basis_of_the_side_with_fewer_neurons():
    x, y = _data()
    assert abs(pwcca(x @ _rotation(x.shape[1]), y) - pwcca(x, y)) > 1e-4


def test_linear_cka_is_not_invariant_to_any_invertible_map_but_cca_is():
    x, _ = _data()
    stretched = x @ np.diag([10.0, 1.0, 1.0, 0.1, 1.0, 1.0])
    assert linear_cka(x, stretched) < 0.99
    assert pwcca(x, stretched) == pytest.approx(1.0, abs=1e-6)


def test_linear_cka_equals_the_hsic_formula_with_the_centring_matrix():
    x, y = _data(n=80)
    n = len(x)
    h = np.eye(n) - np.ones((n, n)) / n
    k, l_ = x @ x.T, y @ y.T

    def hsic(a, b):
        return np.trace(a @ h @ b @ h)

    assert linear_cka(x, y) == pytest.approx(hsic(k, l_) / np.sqrt(hsic(k, k) * hsic(l_, l_)), rel=1e-10)
    assert cka(gram_linear(x), gram_linear(y)) == pytest.approx(linear_cka(x, y), rel=1e-10)


def test_procrustes_equals_the_formula_and_the_best_rotation():
    x, y = _data(n=120)
    y = y[:, :6]
    xc, yc = x - x.mean(0), y - y.mean(0)
    xc, yc = xc / np.linalg.norm(xc), yc / np.linalg.norm(yc)
    formula = np.sum(xc ** 2) + np.sum(yc ** 2) - 2 * np.linalg.norm(xc.T @ yc, ord="nuc")
    rotation, _ = orthogonal_procrustes(yc, xc)
    assert procrustes(x, y) == pytest.approx(formula, rel=1e-10)
    assert procrustes(x, y) == pytest.approx(np.sum((xc - yc @ rotation) ** 2), rel=1e-8)


def test_unbiased_hsic_equals_song_et_al_and_the_unbiased_centring():
    x, y = _data(n=40)
    k, l_ = gram_linear(x), gram_linear(y)
    n = len(k)
    kt, lt = k - np.diag(np.diag(k)), l_ - np.diag(np.diag(l_))
    one = np.ones(n)
    song = (np.trace(kt @ lt) + (one @ kt @ one) * (one @ lt @ one) / ((n - 1) * (n - 2))
            - 2 / (n - 2) * one @ kt @ lt @ one) / (n * (n - 3))
    assert hsic_unbiased(k, l_) == pytest.approx(song, rel=1e-10)
    centred = center_gram(k, unbiased=True).ravel() @ center_gram(l_, unbiased=True).ravel()
    assert hsic_unbiased(k, l_) == pytest.approx(centred / (n * (n - 3)), rel=1e-10)


@pytest.mark.parametrize("debiased", [False, True])
def test_cka_equals_the_kornblith_notebook(debiased):
    x, y = _data(n=150)
    assert linear_cka(x, y, debiased) == pytest.approx(
        references.notebook_feature_space_linear_cka(x, y, debiased), rel=1e-10)
    for threshold in (0.5, 1.0):
        expected = references.notebook_cka(references.notebook_gram_rbf(x, threshold),
                                           references.notebook_gram_rbf(y, threshold), debiased)
        assert rbf_cka(x, y, threshold, debiased) == pytest.approx(expected, rel=1e-10)
    assert gram_rbf(x, 0.5) == pytest.approx(references.notebook_gram_rbf(x, 0.5))


def test_minibatch_cka_with_one_batch_is_debiased_cka_and_converges_to_full_cka():
    rng = np.random.default_rng(3)
    n = 12000
    x = rng.normal(size=(n, 8))
    y = x[:, :5] @ rng.normal(size=(5, 6)) + rng.normal(size=(n, 6))
    small_x, small_y = x[:500], y[:500]
    assert minibatch_cka(small_x, small_y, batch_size=500) == pytest.approx(
        linear_cka(small_x, small_y, debiased=True), rel=1e-10)
    full = linear_cka(x, y)
    estimates = [minibatch_cka(x, y, batch_size=size, seed=1) for size in (50, 1000)]
    assert abs(estimates[1] - full) < 0.01
    assert abs(estimates[1] - full) < abs(minibatch_cka(x[:1000], y[:1000], batch_size=50) - full) + 0.01
    assert abs(estimates[0] - full) < 0.03


def test_minibatches_cover_every_row_once():
    batches = minibatches(1003, 100, seed=5)
    assert len(batches) == 11 and min(len(b) for b in batches) >= 91
    assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(1003))
    with pytest.raises(InputError, match="at least 4 rows"):
        minibatches(100, 3)


def _signals(n=20000, rho=0.4, seed=0):
    rng = np.random.default_rng(seed)
    s1, s2, u, e = rng.normal(size=(4, n))
    x = np.stack([s1, s2, u], axis=1)
    y = np.stack([3 * s1, rho * s2 + np.sqrt(1 - rho ** 2) * e], axis=1)
    return x, y


def test_svcca_and_pwcca_on_a_case_with_known_correlations():
    rho = 0.4
    x, y = _signals(rho=rho)
    assert svcca(x, y) == pytest.approx((1 + rho) / 2, abs=0.01)
    assert pwcca(x, y) == pytest.approx(0.75 * 1 + 0.25 * rho, abs=0.01)


def test_svcca_near_one_for_a_linear_map_plus_noise_and_near_zero_for_disjoint_subspaces():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5000, 10))
    y = x @ rng.normal(size=(10, 10)) + 0.01 * rng.normal(size=(5000, 10))
    assert svcca(x, y) > 0.99 and pwcca(x, y) > 0.99
    signals = rng.normal(size=(5000, 20))
    a, b = signals[:, :10] @ rng.normal(size=(10, 10)), signals[:, 10:] @ rng.normal(size=(10, 10))
    assert svcca(a, b) < 0.05 and pwcca(a, b) < 0.05 and linear_cka(a, b) < 0.01


def test_svcca_keeps_99_percent_of_the_variance():
    kept = principal_directions(np.diag([50.0, 30.0, 19.5, 0.4, 0.1]))
    assert kept.variances.tolist() == [50.0, 30.0, 19.5]
    assert principal_directions(np.diag([1.0, 1.0]), variance=1.0).variances.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("seed", [0, 1])
def test_svcca_equals_the_released_procedure(seed):
    x, y = _data(n=400, d=12, seed=seed)
    assert svcca(x, y) == pytest.approx(references.svcca_tutorial(x.T, y.T), abs=1e-8)
    assert svcca(x, y, variance=0.9) == pytest.approx(references.svcca_tutorial(x.T, y.T, variance=0.9), abs=1e-8)


@pytest.mark.parametrize("seed", [0, 1])
def test_pwcca_equals_the_released_procedure_with_canonical_variates(seed):
    x, y = _data(n=400, d=7, seed=seed)
    for first, second in ((x, y), (y, x)):
        expected = references.compute_pwcca(first.T, second.T, epsilon=1e-10, canonical_variates=True)
        assert pwcca(first, second) == pytest.approx(expected, abs=1e-8)


def test_pwcca_equals_the_released_code_where_its_directions_are_the_canonical_variates():
    x, y = _data(n=400, d=5)
    centred = x - x.mean(0)
    values, vectors = np.linalg.eigh(np.cov(centred.T))
    whitened = centred @ vectors / np.sqrt(values)
    assert np.allclose(np.cov(whitened.T), np.eye(5)) and np.allclose(whitened.mean(0), 0)
    assert pwcca(whitened, y) == pytest.approx(references.compute_pwcca(whitened.T, y.T, epsilon=1e-10), abs=1e-8)


def test_covariance_is_numpy_cov():
    x, y = _data(n=50)
    sxx, syy, sxy = covariance(x, y)
    full = np.cov(x.T, y.T)
    assert np.allclose(sxx, full[:6, :6]) and np.allclose(syy, full[6:, 6:]) and np.allclose(sxy, full[:6, 6:])


def test_bad_inputs_are_input_errors():
    x, y = _data(n=50)
    with pytest.raises(InputError, match="same examples"):
        linear_cka(x, y[:40])
    with pytest.raises(InputError, match="more examples than features"):
        pwcca(x[:5], y[:5])
    with pytest.raises(InputError, match="NaN"):
        linear_cka(np.full((3, 2), np.nan), x[:3])
    with pytest.raises(InputError, match="at least 2 rows"):
        procrustes(x[:1], y[:1])
    with pytest.raises(InputError, match="symmetric"):
        center_gram(np.arange(6.0).reshape(2, 3))
    with pytest.raises(InputError, match="median distance is 0"):
        gram_rbf(np.zeros((5, 2)))
