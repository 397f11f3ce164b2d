"""Integrated gradients: identical to a direct captum call, completeness, baselines, word sums."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from captum.attr import LayerIntegratedGradients

import bertology as bt
from bertology.analyses.attribution.words import baseline_ids
from bertology.core.errors import InputError
from tests.unit.analyses.attribution.toys import toy_classifier

TEXT = "the film was great and the boys loved it"


@pytest.fixture(scope="module")
def bert_clf(tiny_model):
    return bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))


def test_ig_equals_direct_captum_call_and_completeness(bert_clf):
    result = bt.attribute(bert_clf, TEXT, target="positive", n_steps=20, internal_batch_size=7)
    ids = torch.tensor([bert_clf.tokenizer(TEXT)["input_ids"]])
    mask = torch.ones_like(ids)
    reference = ids.clone()
    reference[0, 1:-1] = bert_clf.tokenizer.pad_token_id
    lig = LayerIntegratedGradients(bert_clf.probabilities, bert_clf.network.hf_model.bert.embeddings.word_embeddings)
    expected, delta = lig.attribute(ids, baselines=reference, additional_forward_args=(mask,), target=1, n_steps=20,
                                    internal_batch_size=7, return_convergence_delta=True)
    torch.testing.assert_close(torch.tensor(result.token_scores, dtype=torch.float32), expected.sum(-1)[0].detach())
    assert result.delta == pytest.approx(float(delta), abs=1e-6)
    with torch.no_grad():
        p_x = bert_clf.probabilities(ids, mask)[0, 1].item()
        p_b = bert_clf.probabilities(reference, mask)[0, 1].item()
    assert result.probability == pytest.approx(p_x, abs=1e-6)
    assert result.parameters["baseline_probability"] == pytest.approx(p_b, abs=1e-6)
    total = sum(result.token_scores)
    assert abs(total - (p_x - p_b)) <= abs(result.delta) + 1e-5
    assert total == pytest.approx(p_x - p_b + result.delta, abs=1e-5)
    assert result.n_steps == 20 and result.baseline == "pad" and result.target == "positive"


def captum_delta(clf, text, baseline, n_steps, target=1):
    """captum's own convergence delta (``return_convergence_delta=True``) for the same attribution."""
    ids = torch.tensor([clf.tokenizer(text)["input_ids"]])
    _, delta = LayerIntegratedGradients(clf.probabilities, clf.embeddings).attribute(
        ids, baselines=baseline_ids(clf, ids, baseline), additional_forward_args=(torch.ones_like(ids),),
        target=target, n_steps=n_steps, return_convergence_delta=True)
    return float(delta)


def test_ig_of_a_sigmoid_of_summed_word_weights_equals_the_closed_form(minilm):
    # p = sigmoid(sum of word weights) along the straight path from all-zero embeddings:
    # each word gets weight / total * (sigmoid(total) - sigmoid(0)) and the delta vanishes.
    clf = toy_classifier(minilm.tokenizer, {"great": 3.0, "film": 1.0, "bad": -2.0})
    weights = [0.0, -2.0, 3.0, 1.0]
    gap = 1 / (1 + math.exp(-sum(weights))) - 0.5
    result = bt.attribute(clf, "a bad great film", target="positive", n_steps=50)
    assert result.parameters["baseline_probability"] == pytest.approx(0.5, abs=1e-7)
    assert result.probability == pytest.approx(0.5 + gap, abs=1e-6)
    np.testing.assert_allclose(result.word_scores, [w / sum(weights) * gap for w in weights], atol=1e-6)
    assert abs(result.delta) < 1e-6
    assert result.delta == pytest.approx(captum_delta(clf, "a bad great film", "pad", 50), abs=1e-7)
    assert abs(bt.attribute(clf, "a bad great film", target="positive", n_steps=1).delta) > 1e-3


def test_word_scores_are_sums_of_token_scores(bert_clf):
    result = bt.attribute(bert_clf, "unbelievably great film", n_steps=8)
    frame = result.to_frame()
    assert result.words == ["unbelievably", "great", "film"]
    sums = frame[frame.word_index >= 0].groupby("word_index")["score"].sum()
    np.testing.assert_allclose(sums.to_numpy(), result.word_scores)
    assert frame.loc[0, "word"] == "" and frame.word_index.iloc[0] == -1
    assert (frame.word == "unbelievably").sum() > 1


@pytest.mark.parametrize("baseline,token", [("mask", "[MASK]"), ("unk", "[UNK]"), ("pad", "[PAD]")])
def test_baseline_tokens(bert_clf, baseline, token):
    ids = torch.tensor([bert_clf.tokenizer("good film")["input_ids"]])
    reference = baseline_ids(bert_clf, ids, baseline)
    assert bert_clf.tokenizer.convert_ids_to_tokens(reference[0]) == ["[CLS]", token, token, "[SEP]"]
    result = bt.attribute(bert_clf, "good film", baseline=baseline, n_steps=4)
    assert result.baseline == baseline
    assert sum(result.token_scores) == pytest.approx(
        result.probability - result.parameters["baseline_probability"] + result.delta, abs=1e-5)
    assert result.delta == pytest.approx(captum_delta(bert_clf, "good film", baseline, 4, result.target_index),
                                         abs=1e-9)


def test_bad_baseline_and_steps(bert_clf):
    with pytest.raises(InputError, match="baseline"):
        bt.attribute(bert_clf, "good", baseline="zeros")
    with pytest.raises(InputError, match="n_steps"):
        bt.attribute(bert_clf, "good", n_steps=0)
