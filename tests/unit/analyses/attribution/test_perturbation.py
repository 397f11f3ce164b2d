"""Occlusion and KernelSHAP over words equal the direct captum calls (``clf``: head and probe) and hand computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import FeatureAblation, KernelShap

import bertology as bt
from bertology.analyses.attribution.perturbation import word_groups
from bertology.analyses.attribution.words import tokenize_words
from tests.unit.analyses.attribution.toys import toy_classifier

TEXT = "the film was unbelievably great"


def test_occlusion_equals_feature_ablation_and_hand_computation(clf):
    result = bt.attribute(clf, TEXT, method="occlusion", target="positive", batch_size=2)
    tokenized = tokenize_words(clf, TEXT)
    ids = torch.tensor([tokenized.input_ids])
    mask = torch.ones_like(ids)
    words = torch.tensor(tokenized.token_words)
    reference = torch.where(words[None] >= 0, clf.tokenizer.mask_token_id, ids)
    groups = torch.where(words >= 0, words, len(tokenized.words))[None]
    with torch.no_grad():
        expected = FeatureAblation(clf.probabilities).attribute(ids, baselines=reference, target=1,
                                                                additional_forward_args=(mask,), feature_mask=groups,
                                                                perturbations_per_eval=2)
        full = clf.probabilities(ids, mask)[0, 1].item()
        by_hand = []
        for w in range(len(tokenized.words)):
            hidden = torch.where(words[None] == w, clf.tokenizer.mask_token_id, ids)
            by_hand.append(full - clf.probabilities(hidden, mask)[0, 1].item())
    assert tokenized.token_words.tolist().count(3) > 1  # "unbelievably" is several tokens, occluded at once
    keep = tokenized.token_words >= 0
    # rows that equal the text (its special tokens' group) run once, so batches differ: float32 noise only
    np.testing.assert_allclose(np.asarray(result.token_scores)[keep], expected[0].double().numpy()[keep], rtol=1e-5,
                               atol=5e-6)
    np.testing.assert_allclose(result.word_scores, by_hand, rtol=1e-4, atol=1e-7)
    assert result.token_scores[0] == 0.0 and result.token_scores[-1] == 0.0
    assert result.probability == pytest.approx(full, abs=1e-6)
    assert word_groups(tokenized).tolist() == [groups[0].tolist()]


def test_occlusion_of_a_word_weight_toy_removes_its_weight(minilm):
    toy = toy_classifier(minilm.tokenizer, {"great": 3.0, "film": 1.0, "bad": -2.0})
    result = bt.attribute(toy, "a bad great film", method="occlusion", target="positive", baseline="pad")
    sigmoid = lambda x: 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(result.word_scores, [sigmoid(2.0) - sigmoid(2.0 - w) for w in (0.0, -2.0, 3.0, 1.0)],
                               atol=1e-6)


def by_hand_texts(words, mask_token):
    """Texts of word-presence rows, hidden words removed (empty string between the spaces) or masked."""
    def forward(presence):
        return [" ".join(w if keep else mask_token for w, keep in zip(words, row)) for row in presence.tolist()]
    return forward


@pytest.mark.parametrize("mask", ["remove", "mask"])
def test_kernel_shap_equals_captum_kernel_shap_over_words(clf, mask):
    result = bt.attribute(clf, TEXT, method="kernel_shap", target="negative", num_samples=40, seed=5, mask=mask,
                          batch_size=7)
    texts = by_hand_texts(TEXT.split(), "" if mask == "remove" else clf.tokenizer.mask_token)
    seen = []

    def forward(presence):
        seen.extend(texts(presence))
        return torch.from_numpy(clf.predict_proba(texts(presence)))

    torch.manual_seed(5)
    expected = KernelShap(forward).attribute(torch.ones(1, 5, dtype=torch.float64), baselines=0.0, target=0,
                                             n_samples=40, perturbations_per_eval=7)
    # ours runs all coalitions in one length-sorted call: padding moves float32 probabilities by ~1e-7
    np.testing.assert_allclose(result.word_scores, expected[0].numpy(), rtol=1e-5, atol=2e-7)
    assert np.abs(result.word_scores).max() > 0
    token_words = np.asarray(result.token_words)
    np.testing.assert_allclose(np.asarray(result.token_scores)[token_words == 3], result.word_scores[3])
    assert result.probability == pytest.approx(clf.predict_proba([TEXT])[0, 0], abs=1e-5)  # padded with the rest
    hidden = "the  was unbelievably great" if mask == "remove" else f"the {clf.tokenizer.mask_token} was"
    assert any(text.startswith(hidden) for text in seen)
    again = bt.attribute(clf, TEXT, method="kernel_shap", target="negative", num_samples=40, seed=5, mask=mask,
                          batch_size=7)
    assert again.word_scores == result.word_scores


def test_kernel_shap_draws_do_not_depend_on_the_evaluation_batch(clf):
    def draws(per_eval):
        calls = []

        def forward(presence):
            calls.append(presence.clone())
            return torch.rand(len(presence), 2, generator=torch.Generator().manual_seed(len(calls)))
        torch.manual_seed(2)
        KernelShap(forward).attribute(torch.ones(1, 6, dtype=torch.float64), baselines=0.0, target=1, n_samples=50,
                                      perturbations_per_eval=per_eval)
        return calls

    batched, whole = draws(7), draws(50)
    assert len(batched) == 8 and len(whole) == 1
    assert torch.equal(torch.cat(batched), whole[0])
    seen = []
    forward = clf.predict_proba

    def recording(texts, batch_size=32):
        seen.append(len(texts))
        return forward(texts, batch_size)
    clf.predict_proba = recording
    try:
        bt.attribute(clf, TEXT, method="kernel_shap", num_samples=40, batch_size=7)
    finally:
        del clf.predict_proba
    assert seen == [40, 1]


def test_kernel_shap_of_an_additive_toy_recovers_the_word_effects(minilm):
    # a logit model that is nearly linear in the word indicators (small weights): Shapley values ≈ p-slopes.
    toy = toy_classifier(minilm.tokenizer, {"great": 0.02, "film": 0.01, "bad": -0.03})
    result = bt.attribute(toy, "a bad great film", method="kernel_shap", target="positive", num_samples=300)
    np.testing.assert_allclose(result.word_scores, [0.0, -0.03 / 4, 0.02 / 4, 0.01 / 4], atol=2e-5)
