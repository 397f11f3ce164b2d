"""Attention explanations equal hand computations from the model's own attention probabilities."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bertology as bt
from bertology.analyses.attribution.words import tokenize_words
from bertology.core.errors import InputError
from tests.unit.analyses.attribution.toys import toy_classifier

TEXT = "the film was unbelievably great"


def hf_attentions(clf, text):
    """``(layers, heads, seq, seq)`` from Hugging Face's own ``output_attentions`` (eager attention)."""
    model = clf.network.hf_model
    ids = torch.tensor([clf.tokenizer(text)["input_ids"]])
    previous = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            out = model(input_ids=ids, attention_mask=torch.ones_like(ids), output_attentions=True)
    finally:
        model.set_attn_implementation(previous)
    return np.stack([a[0].double().numpy() for a in out.attentions])


def check_words(result):
    words = np.asarray(result.token_words)
    scores = np.asarray(result.token_scores)
    np.testing.assert_allclose(result.word_scores, [scores[words == w].sum() for w in range(len(result.words))])


def test_cls_attention_is_the_last_layer_head_mean(clf):
    result = bt.attribute(clf, TEXT, method="attention", target="positive")
    attentions = hf_attentions(clf, TEXT)
    np.testing.assert_allclose(result.token_scores, attentions[-1].mean(axis=0)[0], atol=1e-6)
    first = bt.attribute(clf, TEXT, method="attention", layer=0)
    np.testing.assert_allclose(first.token_scores, attentions[0].mean(axis=0)[0], atol=1e-6)
    check_words(result)
    assert sum(result.token_scores) == pytest.approx(1.0, abs=1e-6) and result.delta is None


def test_rollout_equals_the_hand_product(clf):
    result = bt.attribute(clf, TEXT, method="rollout", target="positive")
    attentions = hf_attentions(clf, TEXT)
    n = attentions.shape[-1]
    rollout = np.eye(n)
    for layer in attentions:
        a = 0.5 * layer.mean(axis=0) + 0.5 * np.eye(n)
        rollout = (a / a.sum(axis=1, keepdims=True)) @ rollout
    np.testing.assert_allclose(result.token_scores, rollout[0], atol=1e-6)
    check_words(result)
    raw = bt.attribute(clf, TEXT, method="rollout", residual=False)
    plain = np.linalg.multi_dot([layer.mean(axis=0) for layer in attentions[::-1]])
    np.testing.assert_allclose(raw.token_scores, plain[0], atol=1e-6)


def test_attention_needs_a_transformer(clf, minilm):
    with pytest.raises(InputError, match="out of range"):
        bt.attribute(clf, TEXT, method="attention", layer=9)
    toy = toy_classifier(minilm.tokenizer, {"great": 1.0})
    with pytest.raises(InputError, match="no encoder"):
        bt.attribute(toy, "great", method="rollout")
    assert tokenize_words(toy, "great").words == ["great"]
