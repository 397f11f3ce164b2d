"""The random-encoder control."""

from __future__ import annotations

import numpy as np

from bertology.analyses.probes import random_encoder


def test_random_encoder_reinitialises_deterministically(tiny_model):
    model = tiny_model("bert")
    first, second = random_encoder(model, seed=123), random_encoder(model, seed=123)
    name, weight = next((n, p) for n, p in model.model.named_parameters() if "query.weight" in n)
    fresh = dict(first.model.named_parameters())[name]
    assert not np.allclose(fresh.detach().numpy(), weight.detach().numpy())
    np.testing.assert_array_equal(fresh.detach().numpy(), dict(second.model.named_parameters())[name].detach().numpy())
    assert first.tokenizer is model.tokenizer and first.num_layers == model.num_layers
    assert first.name.endswith("[random]") and first.weights_sha256 is None
