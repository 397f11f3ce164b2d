"""Attention rollout (Abnar & Zuidema 2020) against a hand computation, and head-averaged maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bertology as bt
from bertology.analyses.attention import AttentionMaps, head_mean_attention, rollout, sentence_attention
from bertology.core.errors import InputError, StoreError


def hand_rollout(model: bt.LoadedModel, pair: tuple[str, str]) -> np.ndarray:
    """Rollout layer by layer from Hugging Face's ``output_attentions=True`` with eager attention."""
    encoded = model.tokenizer(*pair, return_tensors="pt")
    inputs = {k: v for k, v in encoded.items() if k != "token_type_ids" or model.adapter.uses_token_type_ids}
    previous = model.model.config._attn_implementation
    model.model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            attentions = model.model(**inputs, output_attentions=True).attentions
    finally:
        model.model.set_attn_implementation(previous)
    joint, maps = None, []
    for attention in attentions:
        mean = attention[0].double().numpy().mean(axis=0)
        augmented = 0.5 * mean + 0.5 * np.eye(len(mean))
        augmented /= augmented.sum(axis=-1, keepdims=True)
        joint = augmented if joint is None else augmented @ joint
        maps.append(joint)
    return np.stack(maps)


def test_two_layer_rollout_equals_hand_computation():
    # layer 0: head 0 attends to token 0, head 1 to itself; layer 1: both heads attend to token 1.
    layer0 = np.array([[[1, 0], [1, 0]], [[1, 0], [0, 1]]], dtype=float)
    layer1 = np.array([[[0, 1], [0, 1]], [[0, 1], [0, 1]]], dtype=float)
    result = rollout(np.stack([layer0, layer1]))
    # mean heads: L0 = [[1, 0], [.5, .5]]; A'0 = .5 L0 + .5 I = [[1, 0], [.25, .75]] (rows sum to 1).
    a0 = np.array([[1.0, 0.0], [0.25, 0.75]])
    # L1 = [[0, 1], [0, 1]]; A'1 = [[.5, .5], [0, 1]].
    a1 = np.array([[0.5, 0.5], [0.0, 1.0]])
    np.testing.assert_allclose(result[0], a0)
    # R1 = A'1 @ A'0 = [[.5 + .125, .375], [.25, .75]].
    np.testing.assert_allclose(result[1], [[0.625, 0.375], [0.25, 0.75]])
    np.testing.assert_allclose(result[1], a1 @ a0)


def test_rollout_renormalises_rows_of_unnormalised_input():
    patterns = np.full((1, 2, 3, 3), 2.0)
    np.testing.assert_allclose(rollout(patterns).sum(-1), 1.0)


def test_rollout_rejects_non_square_patterns():
    with pytest.raises(InputError, match="query == key"):
        rollout(np.ones((1, 1, 2, 3)))


def test_attention_rollout_of_a_real_sentence_pair(minilm):
    pair = ("Is the bank open?", "No, it is closed.")
    maps = bt.attention_rollout(minilm, pair)
    attention = sentence_attention(minilm, pair)
    assert maps.kind == "rollout" and maps.tokens == attention.tokens
    assert attention.is_pair and attention.segments.tolist() == [0] * 7 + [1] * 7
    np.testing.assert_allclose(maps.maps, rollout(attention.patterns), atol=1e-6)
    np.testing.assert_allclose(maps.maps, hand_rollout(minilm, pair), atol=1e-5)
    np.testing.assert_allclose(maps.maps.sum(-1), 1.0, atol=1e-5)


def test_head_mean_attention_is_the_mean_over_heads(minilm):
    maps = head_mean_attention(minilm, "The bank is closed.")
    attention = sentence_attention(minilm, "The bank is closed.")
    assert maps.kind == "mean"
    np.testing.assert_allclose(maps.maps, attention.patterns.mean(axis=1), atol=1e-6)


def test_attention_maps_table_save_load_plot(tmp_path):
    maps = AttentionMaps(["[CLS]", "hi", "[SEP]"], np.stack([np.eye(3), np.full((3, 3), 1 / 3)]), "rollout")
    frame = maps.to_frame()
    assert len(frame) == 18
    row = frame[(frame["layer"] == 0) & (frame["query"] == 1) & (frame["key"] == 1)].iloc[0]
    assert row["query_token"] == "hi" and row["weight"] == 1.0
    loaded = AttentionMaps.load(maps.save(tmp_path / "r"))
    np.testing.assert_array_equal(loaded.maps, maps.maps)
    assert loaded.tokens == maps.tokens and loaded.kind == "rollout"
    assert maps.plot().axes[0].get_title() == "rollout, layer 1"
    mean = AttentionMaps.load(AttentionMaps(maps.tokens, maps.maps, "mean").save(tmp_path / "m"))
    assert mean.kind == "mean" and mean.plot(layer=0).axes[0].get_title() == "mean attention, layer 0"
    with pytest.raises(StoreError, match="is damaged"):
        (tmp_path / "r" / "maps.npz").write_bytes(b"not a zip file")
        AttentionMaps.load(tmp_path / "r")


def test_every_architecture_gives_pair_rollout(tiny_model, arch):
    model = tiny_model(arch)
    pair = ("the bank is closed", "the river is blue")
    maps = bt.attention_rollout(model, pair)
    assert maps.maps.shape[0] == model.num_layers
    np.testing.assert_allclose(maps.maps.sum(-1), 1.0, atol=1e-5)
    attention = sentence_attention(model, pair)
    np.testing.assert_allclose(maps.maps, rollout(attention.patterns), atol=1e-6)
    np.testing.assert_allclose(maps.maps, hand_rollout(model, pair), atol=1e-5)
    assert attention.is_pair and attention.segments[0] == 0 and attention.segments[-1] == 1
