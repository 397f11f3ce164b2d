"""The bundled MiniLM traced through hooks equals its own output_hidden_states / output_attentions."""

from __future__ import annotations

import torch

import bertology as bt
from tests.unit.core.hooks.test_trace import _assert_traced_equal_hf


def test_minilm_traced_activations_equal_hf_outputs(minilm):
    _assert_traced_equal_hf(minilm)


def test_minilm_cache_shapes(minilm):
    batch = minilm.tokenizer(["The bank is closed."], return_tensors="pt")
    with torch.inference_mode(), bt.trace(minilm, ["layers.5.attn.pattern", "layers.5.mlp_out"]) as cache:
        minilm(**batch)
    assert tuple(cache["layers.5.attn.pattern"].shape) == (1, 12, 7, 7)
    assert tuple(cache["layers.5.mlp_out"].shape) == (1, 7, 384)
    torch.testing.assert_close(cache["layers.5.attn.pattern"].sum(-1), torch.ones(1, 12, 7))
