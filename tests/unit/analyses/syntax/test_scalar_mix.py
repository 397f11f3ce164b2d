"""Scalar mix (allennlp's ScalarMix as jiant uses it) and Tenney et al.'s layer statistics, by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from bertology.analyses.syntax.scalar_mix import (
    ScalarMix,
    center_of_gravity,
    cumulative_layers,
    expected_layer,
    score_deltas,
)
from bertology.core.errors import InputError


def test_mix_is_gamma_times_softmax_weighted_sum():
    hidden = np.random.default_rng(0).normal(size=(5, 3, 4))                 # (batch, layers, features)
    mix = ScalarMix(3)
    with torch.no_grad():
        mix.scalar_parameters.copy_(torch.tensor([[0.0, math.log(2.0), math.log(5.0)]]))
        mix.gamma.fill_(2.0)
    expected = 2.0 * (1 * hidden[:, 0] + 2 * hidden[:, 1] + 5 * hidden[:, 2]) / 8
    out = mix(torch.tensor(hidden, dtype=torch.float64))
    assert out.shape == (1, 5, 4)
    np.testing.assert_allclose(out[0].detach().numpy(), expected, atol=1e-6)
    np.testing.assert_allclose(mix.weights().detach().numpy(), [[1 / 8, 2 / 8, 5 / 8]], rtol=1e-6)


def test_allowed_layers_get_zero_weight_and_no_gradient():
    mix = ScalarMix(3, allowed=np.array([[True, False, False], [True, True, True]]))
    hidden = torch.randn(2, 3, 4)
    out = mix(hidden)
    torch.testing.assert_close(out[0], hidden[:, 0])
    torch.testing.assert_close(out[1], hidden.mean(dim=1))
    out[0].sum().backward()
    assert mix.scalar_parameters.grad[0].abs().sum() == 0


def test_layer_norm_matches_allennlp_whole_tensor_normalisation():
    rng = np.random.default_rng(1)
    hidden = rng.normal(loc=3.0, scale=2.0, size=(2, 2, 5, 3))                 # (layers, batch, seq, features)
    mask = np.ones((2, 5), dtype=bool)
    mask[1, 3:] = False
    out = ScalarMix(2, layer_norm=True)(torch.tensor(hidden), torch.tensor(mask), layer_axis=0)[0].detach().numpy()
    normed = []
    for layer in hidden:
        values = layer[mask]
        normed.append((layer - values.mean()) / np.sqrt(values.var() + 1e-12))
    np.testing.assert_allclose(out, (normed[0] + normed[1]) / 2, rtol=1e-6)


def test_expected_layer_and_deltas_by_hand():
    scores = [0.5, 0.6, 0.9, 0.95]
    np.testing.assert_allclose(score_deltas(scores)[1:], [0.1, 0.3, 0.05])
    assert math.isnan(score_deltas(scores)[0])
    assert expected_layer(scores) == pytest.approx((1 * 0.1 + 2 * 0.3 + 3 * 0.05) / 0.45)
    assert expected_layer(scores, layers=[0, 2, 4, 6]) == pytest.approx((2 * 0.1 + 4 * 0.3 + 6 * 0.05) / 0.45)
    assert math.isnan(expected_layer([0.4, 0.4, 0.4]))
    with pytest.raises(InputError, match="one index per score"):
        expected_layer(scores, layers=[0, 1])


def test_center_of_gravity_by_hand():
    assert center_of_gravity([0.1, 0.2, 0.3, 0.4]) == pytest.approx(2.0)
    assert center_of_gravity([1.0, 3.0], layers=[4, 8]) == pytest.approx(7.0)
    with pytest.raises(InputError):
        center_of_gravity([0.0, 0.0])


def test_cumulative_layers_are_prefixes():
    np.testing.assert_array_equal(cumulative_layers(4).sum(axis=1), [1, 2, 3, 4])
    assert cumulative_layers(4)[2].tolist() == [True, True, True, False]
