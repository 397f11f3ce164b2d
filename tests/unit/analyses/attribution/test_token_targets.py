"""Token-classification targets: one word's label explained by gradient methods equals captum called
directly with a ``(position, label)`` target on the tagger's ``(batch, seq, labels)`` output."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers as tf
from captum.attr import (
    LayerDeepLift,
    LayerGradientXActivation,
    LayerIntegratedGradients,
)
from torch import nn

import bertology as bt
from bertology.core.errors import InputError
from tests.tiny_models import config_for, tokenizer_for

TEXT = "the doctor works in river city"
LABELS = {0: "O", 1: "B-LOC", 2: "I-LOC"}


@pytest.fixture(scope="module")
def tagger(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny-bert-tagger")
    tokenizer = tokenizer_for("bert")
    config = config_for("bert", tokenizer)
    config.id2label, config.label2id = LABELS, {name: i for i, name in LABELS.items()}
    torch.manual_seed(0)
    tf.BertForTokenClassification(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    loaded = bt.load_model(str(directory), head="token-classifier")
    assert isinstance(loaded.model, tf.BertForTokenClassification)
    return bt.Classifier.from_pretrained(loaded)


class TagProbabilities(nn.Module):
    """The tagger's per-token label probabilities ``(batch, seq, labels)``, written here from the HF model."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids, mask):
        return torch.softmax(self.model(input_ids=ids, attention_mask=mask).logits, dim=-1)


def direct_inputs(tagger):
    ids = torch.tensor([tagger.tokenizer(TEXT)["input_ids"]])
    reference = ids.clone()
    reference[0, 1:-1] = tagger.tokenizer.pad_token_id
    return ids, torch.ones_like(ids), reference


def position_of(tagger, word_index):
    encoding = tagger.tokenizer(TEXT)
    return next(i for i, w in enumerate(encoding.word_ids()) if w == word_index)


@pytest.mark.parametrize("method", ["integrated_gradients", "saliency", "input_x_gradient", "deeplift"])
def test_token_target_equals_captum_with_a_position_target(tagger, method):
    word = 4
    result = bt.attribute(tagger, TEXT, method=method, target=("token", word, "B-LOC"), **(
        {"n_steps": 16} if method == "integrated_gradients" else {}))
    ids, mask, reference = direct_inputs(tagger)
    position = position_of(tagger, word)
    model = TagProbabilities(tagger.network.hf_model)
    target = (position, 1)
    if method == "integrated_gradients":
        expected = LayerIntegratedGradients(model, tagger.embeddings).attribute(
            ids, baselines=reference, additional_forward_args=(mask,), target=target, n_steps=16,
            method="gausslegendre")
    elif method == "saliency":
        expected = LayerGradientXActivation(model, tagger.embeddings, multiply_by_inputs=False).attribute(
            ids, additional_forward_args=(mask,), target=target).abs()
    elif method == "input_x_gradient":
        expected = LayerGradientXActivation(model, tagger.embeddings).attribute(
            ids, additional_forward_args=(mask,), target=target)
    else:
        expected = LayerDeepLift(model, tagger.embeddings).attribute(
            ids, baselines=reference, additional_forward_args=(mask,), target=target)
    expected = expected.sum(-1)[0].detach().double().numpy()
    scale = np.abs(expected).max()
    assert scale > 0
    np.testing.assert_allclose(result.token_scores, expected, rtol=1e-4, atol=1e-5 * scale)
    with torch.no_grad():
        probability = float(model(ids, mask)[0, position, 1])
    assert result.probability == pytest.approx(probability, abs=1e-6)
    assert result.target == "B-LOC" and result.target_index == 1
    assert result.parameters["token_target"] == {"word_index": word, "word": "river", "token_position": position}


def test_predicted_label_and_gradient_shap(tagger):
    result = bt.attribute(tagger, TEXT, method="gradient_shap", target=("token", 1, None), n_samples=4)
    ids, mask, _ = direct_inputs(tagger)
    with torch.no_grad():
        predicted = int(TagProbabilities(tagger.network.hf_model)(ids, mask)[0, position_of(tagger, 1)].argmax())
    assert result.target_index == predicted and len(result.word_scores) == 6


@pytest.mark.parametrize("target, method, message", [
    (None, "saliency", "labels every token"),
    ("B-LOC", "saliency", "labels every token"),
    (("token", 9, "O"), "saliency", "out of range"),
    (("word", 1, "O"), "saliency", "is \\('token', word_index, label\\)"),
    (("token", 1, "O"), "lime", "cannot explain a token's label"),
])
def test_bad_token_targets_are_input_errors(tagger, target, method, message):
    with pytest.raises(InputError, match=message):
        bt.attribute(tagger, TEXT, method=method, target=target)


def test_a_sentence_classifier_rejects_token_targets(clf):
    with pytest.raises(InputError, match="needs a token classifier"):
        bt.attribute(clf, TEXT, method="saliency", target=("token", 0, "positive"))
