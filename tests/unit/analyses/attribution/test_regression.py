"""Regression heads (one output, no softmax): every gradient method equals its direct captum call on the raw
predicted value, perturbation and faithfulness scores are hand-computed differences of predicted values, and
the benchmark, the results and their figures say the output is a regression value."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import (
    GradientShap,
    InputXGradient,
    LayerDeepLift,
    LayerIntegratedGradients,
    Saliency,
)
from torch import nn

import bertology as bt
from bertology.analyses.attribution.gradients import seeded
from bertology.analyses.attribution.methods import REGISTRY
from bertology.analyses.attribution.result import AttributionResult
from bertology.analyses.attribution.words import tokenize_words
from bertology.core.errors import InputError
from tests.unit.analyses.attribution.test_gradients import pad_reference

TEXT = "the film was great and the boys loved it"
FAST = {"integrated_gradients": {"n_steps": 8}, "lime": {"num_samples": 40}, "kernel_shap": {"num_samples": 30},
        "gradient_shap": {"n_samples": 4}}


@pytest.fixture(scope="module")
def reg(tiny_model_dir):
    return bt.Classifier.from_pretrained(str(tiny_model_dir("bert", "regression")))


class RawValue(nn.Module):
    """The Hugging Face model's one output, written here independently of the package."""

    def __init__(self, hf_model):
        super().__init__()
        self.hf_model = hf_model

    def forward(self, ids, mask):
        return self.hf_model(input_ids=ids, attention_mask=mask).logits


def value(reg, ids):
    with torch.no_grad():
        return float(reg.network.hf_model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0, 0])


def inputs(reg, text=TEXT):
    ids = torch.tensor([reg.tokenizer(text)["input_ids"]])
    return ids, torch.ones_like(ids)


def on_embeddings(reg):
    raw = RawValue(reg.network.hf_model)

    def forward(embeddings, ids, mask):
        handle = reg.embeddings.register_forward_hook(lambda module, args, output: embeddings)
        try:
            return raw(ids, mask)
        finally:
            handle.remove()
    return forward


def test_a_regression_head_explains_its_raw_value(reg, tiny_model_dir):
    assert reg.regression and reg.labels == ["similarity"] and reg.output == "regression value"
    assert reg.description["kind"] == "sequence-regression" and reg.description["output"] == "regression value"
    ids, mask = inputs(reg)
    with torch.no_grad():
        np.testing.assert_allclose(reg.probabilities(ids, mask).numpy(), RawValue(reg.network.hf_model)(ids, mask),
                                   rtol=0, atol=1e-6)
    np.testing.assert_allclose(reg.predict_proba([TEXT])[0, 0], value(reg, ids), rtol=1e-5)
    loaded = bt.load_model(str(tiny_model_dir("bert", "regression")), head="classifier")
    loaded.model.config.id2label = {0: "LABEL_0"}
    assert bt.Classifier.from_pretrained(loaded).labels == ["score"]
    with pytest.raises(InputError, match="one output"):
        bt.Classifier(reg.network, reg.tokenizer, ["a", "b"], reg.embeddings, regression=True)


def check(result, expected, reg):
    expected = expected.sum(-1)[0].detach().double().numpy()
    scale = np.abs(expected).max()
    assert scale > 0
    np.testing.assert_allclose(result.token_scores, expected, rtol=1e-4, atol=1e-5 * scale)
    words = np.asarray(result.token_words)
    np.testing.assert_allclose(result.word_scores, [expected[words == w].sum() for w in range(len(result.words))],
                               rtol=1e-4, atol=1e-5 * scale)
    assert result.probability == pytest.approx(value(reg, inputs(reg)[0]), rel=1e-5)
    assert result.output == "regression value" and result.target == "similarity" and result.target_index == 0


def test_saliency_and_input_x_gradient_equal_captum_on_the_value(reg):
    ids, mask = inputs(reg)
    embeddings = reg.embeddings(ids).detach()
    expected = Saliency(on_embeddings(reg)).attribute(embeddings, target=0, additional_forward_args=(ids, mask))
    check(bt.attribute(reg, TEXT, method="saliency"), expected, reg)
    expected = InputXGradient(on_embeddings(reg)).attribute(embeddings, target=0, additional_forward_args=(ids, mask))
    check(bt.attribute(reg, TEXT, method="input_x_gradient"), expected, reg)


def test_integrated_gradients_equal_captum_on_the_value(reg):
    ids, mask = inputs(reg)
    result = bt.attribute(reg, TEXT, method="ig", n_steps=20)
    expected = LayerIntegratedGradients(RawValue(reg.network.hf_model), reg.embeddings).attribute(
        ids, baselines=pad_reference(reg, ids), additional_forward_args=(mask,), target=0, n_steps=20,
        method="gausslegendre")
    check(result, expected, reg)
    assert result.parameters["baseline_probability"] == pytest.approx(value(reg, pad_reference(reg, ids)), rel=1e-4)


def test_deeplift_and_gradient_shap_equal_captum_on_the_value(reg):
    ids, mask = inputs(reg)
    expected = LayerDeepLift(RawValue(reg.network.hf_model), reg.embeddings).attribute(
        ids, baselines=pad_reference(reg, ids), target=0, additional_forward_args=(mask,))
    check(bt.attribute(reg, TEXT, method="deeplift"), expected, reg)
    with torch.no_grad():
        embeddings, reference = reg.embeddings(ids), reg.embeddings(pad_reference(reg, ids))
    with seeded(3):
        expected = GradientShap(on_embeddings(reg)).attribute(embeddings, baselines=reference, n_samples=6, stdevs=0.0,
                                                              target=0, additional_forward_args=(ids, mask))
    check(bt.attribute(reg, TEXT, method="gradient_shap", n_samples=6, seed=3), expected, reg)


def test_occlusion_is_the_change_of_the_value(reg):
    result = bt.attribute(reg, TEXT, method="occlusion")
    tokenized = tokenize_words(reg, TEXT)
    ids = torch.tensor([tokenized.input_ids])
    expected = []
    for word in range(len(tokenized.words)):
        occluded = ids.clone()
        occluded[0, torch.from_numpy(tokenized.token_words == word)] = reg.tokenizer.mask_token_id
        expected.append(value(reg, ids) - value(reg, occluded))
    np.testing.assert_allclose(result.word_scores, expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())


@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_every_method_explains_the_regression_value(reg, method):
    result = bt.attribute(reg, TEXT, method=method, **FAST.get(method, {}))
    assert result.output == "regression value" and result.target == "similarity"
    assert result.probability == pytest.approx(value(reg, inputs(reg)[0]), rel=1e-5)
    assert np.isfinite(result.word_scores).all() and np.abs(result.word_scores).max() > 0


def test_faithfulness_is_the_change_of_the_value(reg):
    tokenized = tokenize_words(reg, TEXT)
    scores = [0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 4.0, 0.0]
    result = AttributionResult(TEXT, tokenized.tokens, tokenized.token_words.tolist(), [0.0] * len(tokenized.tokens),
                               tokenized.words, scores, "similarity", 0, "oracle", 0.0)
    faith = bt.faithfulness(reg, [result], bins=(10, 20))
    ids = tokenized.input_ids
    without = [t for t, w in zip(ids, tokenized.token_words) if w not in (3, 7)]
    only = [t for t, w in zip(ids, tokenized.token_words) if w in (-1, 3, 7)]
    full = value(reg, torch.tensor([ids]))
    row = faith.scores.set_index("bin").loc[20]
    assert row["k"] == 2 and row["p_full"] == pytest.approx(full, rel=1e-5)
    assert row["comprehensiveness"] == pytest.approx(full - value(reg, torch.tensor([without])), rel=1e-4)
    assert row["sufficiency"] == pytest.approx(full - value(reg, torch.tensor([only])), rel=1e-4)
    assert faith.output == "regression value"
    assert "predicted value" in faith.plot()._suptitle.get_text()


def test_benchmark_titles_and_round_trip(reg, tmp_path):
    bench = bt.explanation_benchmark(reg, [TEXT, "dull and long"], methods=["saliency", "occlusion"], n_boot=20,
                                     progress=False)
    assert bench.meta["classifier"]["output"] == "regression value"
    assert {r.output for r in bench.attributions} == {"regression value"}
    single = bt.attribute(reg, TEXT, method="saliency")
    np.testing.assert_allclose(bench.attributions[0].word_scores, single.word_scores, rtol=1e-4)
    title = single.plot().axes[0].get_title(loc="left")
    assert "'similarity' (regression\u00a0value" in title
    assert "raises similarity" in single.to_html()
    assert AttributionResult.load(single.save(tmp_path)).output == "regression value"
    faith = bt.faithfulness(reg, [single])
    assert type(faith).load(faith.save(tmp_path / "f")).output == "regression value"
