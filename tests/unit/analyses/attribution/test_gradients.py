"""Saliency, input × gradient, DeepLift and GradientSHAP equal the direct captum calls (``clf``: head and probe)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import GradientShap, InputXGradient, LayerDeepLift, Saliency

import bertology as bt
from bertology.analyses.attribution.gradients import ProbabilityModule, seeded

TEXT = "the film was great and the boys loved it"


def inputs(clf, text=TEXT):
    ids = torch.tensor([clf.tokenizer(text)["input_ids"]])
    return ids, torch.ones_like(ids)


def on_embeddings(clf):
    """The classifier as a function of its token embeddings (written here, independently of the package)."""
    def forward(embeddings, ids, mask):
        handle = clf.embeddings.register_forward_hook(lambda module, args, output: embeddings)
        try:
            return torch.softmax(clf(ids, mask), dim=-1)
        finally:
            handle.remove()
    return forward


def pad_reference(clf, ids):
    reference = ids.clone()
    reference[0, 1:-1] = clf.tokenizer.pad_token_id
    return reference


def check_scores(result, expected, clf):
    token_scores = np.asarray(result.token_scores)
    expected = expected.sum(-1)[0].detach().double().numpy()
    scale = np.abs(expected).max()
    assert scale > 0
    np.testing.assert_allclose(token_scores, expected, rtol=1e-4, atol=1e-5 * scale)
    words = np.asarray(result.token_words)
    sums = [token_scores[words == w].sum() for w in range(len(result.words))]
    np.testing.assert_allclose(result.word_scores, sums, rtol=1e-12, atol=1e-15)
    ids, mask = inputs(clf, result.text)
    with torch.no_grad():
        probability = float(clf.probabilities(ids, mask)[0, result.target_index])
    assert result.probability == pytest.approx(probability, abs=1e-6)


def test_saliency_equals_captum_saliency_on_the_embeddings(clf):
    result = bt.attribute(clf, TEXT, method="saliency", target="positive")
    ids, mask = inputs(clf)
    expected = Saliency(on_embeddings(clf)).attribute(clf.embeddings(ids).detach(), target=1,
                                                      additional_forward_args=(ids, mask), abs=True)
    check_scores(result, expected, clf)
    assert min(result.token_scores) >= 0 and result.delta is None
    signed = bt.attribute(clf, TEXT, method="saliency", target="positive", absolute=False)
    check_scores(signed, Saliency(on_embeddings(clf)).attribute(
        clf.embeddings(ids).detach(), target=1, additional_forward_args=(ids, mask), abs=False), clf)


def test_input_x_gradient_equals_captum(clf):
    result = bt.attribute(clf, TEXT, method="input_x_gradient", target="positive")
    ids, mask = inputs(clf)
    expected = InputXGradient(on_embeddings(clf)).attribute(clf.embeddings(ids).detach(), target=1,
                                                            additional_forward_args=(ids, mask))
    check_scores(result, expected, clf)


def test_deeplift_equals_captum_and_records_its_delta(clf):
    result = bt.attribute(clf, TEXT, method="deeplift", target="negative")
    ids, mask = inputs(clf)
    expected, delta = LayerDeepLift(ProbabilityModule(clf), clf.embeddings).attribute(
        ids, baselines=pad_reference(clf, ids), target=0, additional_forward_args=(mask,),
        return_convergence_delta=True)
    check_scores(result, expected, clf)
    assert result.delta == pytest.approx(float(delta.sum()), abs=1e-7)
    assert result.baseline == "pad" and result.target == "negative"


def test_gradient_shap_equals_captum_with_the_same_seed(clf):
    result = bt.attribute(clf, TEXT, method="gradient_shap", target="positive", n_samples=8, stdevs=0.01, seed=3)
    ids, mask = inputs(clf)
    torch.manual_seed(3)
    np.random.seed(3)
    expected, delta = GradientShap(on_embeddings(clf)).attribute(
        clf.embeddings(ids).detach(), baselines=clf.embeddings(pad_reference(clf, ids)).detach(), n_samples=8,
        stdevs=0.01, target=1, additional_forward_args=(ids, mask), return_convergence_delta=True)
    check_scores(result, expected, clf)
    assert result.delta == pytest.approx(float(delta.double().mean()), abs=1e-7)
    again = bt.attribute(clf, TEXT, method="gradient_shap", target="positive", n_samples=8, stdevs=0.01, seed=3)
    other = bt.attribute(clf, TEXT, method="gradient_shap", target="positive", n_samples=8, stdevs=0.01, seed=4)
    assert again.token_scores == result.token_scores and other.token_scores != result.token_scores


def test_gradient_shap_without_noise_equals_captum_and_its_delta_in_two_forward_passes(clf):
    ids, mask = inputs(clf)
    rows = []
    handle = clf.network.register_forward_hook(lambda module, args, output: rows.append(args[0].shape[0]))
    try:
        result = bt.attribute(clf, TEXT, method="gradient_shap", target="negative", n_samples=6, seed=1)
    finally:
        handle.remove()
    torch.manual_seed(1)
    np.random.seed(1)
    expected, delta = GradientShap(on_embeddings(clf)).attribute(
        clf.embeddings(ids).detach(), baselines=clf.embeddings(pad_reference(clf, ids)).detach(), n_samples=6,
        target=0, additional_forward_args=(ids, mask), return_convergence_delta=True)
    check_scores(result, expected, clf)
    assert result.delta == pytest.approx(float(delta.double().mean()), abs=2e-5)  # captum sums in float32
    assert sorted(rows) == [1, 1, 6]  # the samples' gradient pass, the baseline and the input


def test_seeded_restores_the_global_generators():
    torch.manual_seed(11)
    np.random.seed(11)
    expected = (torch.rand(1).item(), np.random.rand())
    torch.manual_seed(11)
    np.random.seed(11)
    with seeded(0):
        torch.rand(5)
        np.random.rand(5)
    assert (torch.rand(1).item(), np.random.rand()) == expected
