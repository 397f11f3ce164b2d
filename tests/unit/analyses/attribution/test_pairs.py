"""Sentence-pair inputs: pair encoding with segment ids, words of both segments, baselines and perturbations
that keep [CLS]/[SEP] and the segment ids (read from the tensors the model receives), IG equal to captum."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import LayerIntegratedGradients

import bertology as bt
from bertology.analyses.attribution.methods import REGISTRY
from bertology.analyses.attribution.words import tokenize_pair
from bertology.core.errors import InputError

PAIR = ("the man played a film", "people loved it")
FAST = {"integrated_gradients": {"n_steps": 8}, "lime": {"num_samples": 40}, "kernel_shap": {"num_samples": 30},
        "gradient_shap": {"n_samples": 4}}


def encoding(clf):
    return clf.tokenizer(*PAIR, return_special_tokens_mask=True)


def recorded_calls(clf):
    """Every ``(input_ids, token_type_ids, attention_mask)`` the encoder receives, through a forward pre-hook."""
    calls = []

    def record(module, args, kwargs):
        calls.append((kwargs["input_ids"].detach().clone(), kwargs.get("token_type_ids"),
                      kwargs["attention_mask"].detach().clone()))
    return calls, clf.network.hf_model.register_forward_pre_hook(record, with_kwargs=True)


def check_structure(clf, calls, expected_length=None):
    """In every row: [CLS] first, exactly two [SEP], segment ids 0 up to the first [SEP] and 1 after it."""
    tokenizer = clf.tokenizer
    assert calls
    for ids, types, mask in calls:
        assert types is not None
        for row, type_row, mask_row in zip(ids, types, mask):
            keep = mask_row.bool()
            row, type_row = row[keep], type_row[keep]
            if expected_length is not None:
                assert len(row) == expected_length
            seps = torch.nonzero(row == tokenizer.sep_token_id).flatten().tolist()
            assert row[0] == tokenizer.cls_token_id and len(seps) == 2 and seps[1] == len(row) - 1
            assert type_row[:seps[0] + 1].eq(0).all() and type_row[seps[0] + 1:].eq(1).all()


def test_a_pair_is_tokenized_as_a_pair_with_its_words_and_segments(clf):
    tokenized = tokenize_pair(clf, *PAIR)
    enc = encoding(clf)
    assert tokenized.input_ids == enc["input_ids"] and tokenized.token_type_ids == enc["token_type_ids"]
    assert tokenized.words == PAIR[0].split() + PAIR[1].split()
    assert tokenized.word_segments == [0] * 5 + [1] * 3
    words = tokenized.token_words
    assert (words[np.asarray(enc["special_tokens_mask"], bool)] == -1).all()
    assert sorted(set(words[words >= 0].tolist())) == list(range(8))
    second = np.asarray(enc["token_type_ids"]) == 1
    assert (words[second & (words >= 0)] >= 5).all()


@pytest.mark.parametrize("method", ["integrated_gradients", "deeplift", "gradient_shap"])
def test_baselines_keep_cls_sep_and_segment_ids(clf, method):
    calls, handle = recorded_calls(clf)
    seen = []
    table = clf.embeddings.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    try:
        result = bt.attribute(clf, PAIR, method=method, target="positive", **FAST.get(method, {}))
    finally:
        handle.remove()
        table.remove()
    enc = encoding(clf)
    check_structure(clf, calls, expected_length=len(enc["input_ids"]))
    special = torch.tensor(enc["special_tokens_mask"], dtype=torch.bool)
    ids = torch.tensor(enc["input_ids"])
    baselines = [row for batch in seen for row in batch if not torch.equal(row, ids)]
    assert baselines
    pad = clf.tokenizer.pad_token_id
    for row in baselines:
        assert torch.equal(row[special], ids[special]) and row[~special].eq(pad).all()
    assert result.parameters["word_segments"] == [0] * 5 + [1] * 3 and result.parameters["text_pair"] == PAIR[1]


@pytest.mark.parametrize("method", ["occlusion", "lime", "kernel_shap"])
def test_perturbations_keep_the_pair_and_hide_words_of_both_segments(clf, method):
    calls, handle = recorded_calls(clf)
    try:
        result = bt.attribute(clf, PAIR, method=method, target="positive", **FAST.get(method, {}))
    finally:
        handle.remove()
    check_structure(clf, calls)
    enc = encoding(clf)
    full = torch.tensor(enc["input_ids"])
    first_sep = int(torch.nonzero(full == clf.tokenizer.sep_token_id)[0])
    first, second = full[1:first_sep], full[first_sep + 1:-1]
    changed = set()
    for ids, _, mask in calls:
        for row, mask_row in zip(ids, mask):
            row = row[mask_row.bool()]
            sep = int(torch.nonzero(row == clf.tokenizer.sep_token_id)[0])
            a, b = row[1:sep], row[sep + 1:-1]
            if len(a) != len(first) or not torch.equal(a, first):
                changed.add(0)
            if len(b) != len(second) or not torch.equal(b, second):
                changed.add(1)
    assert changed == {0, 1}
    assert len(result.word_scores) == 8
    scores = np.asarray(result.word_scores)
    assert np.abs(scores[:5]).max() > 0 and np.abs(scores[5:]).max() > 0


def test_pair_integrated_gradients_equal_captum(clf):
    result = bt.attribute(clf, PAIR, method="ig", target="positive", n_steps=20)
    enc = clf.tokenizer(*PAIR, return_special_tokens_mask=True, return_tensors="pt")
    ids, types = enc["input_ids"], enc["token_type_ids"]
    reference = torch.where(enc["special_tokens_mask"].bool(), ids, torch.full_like(ids, clf.tokenizer.pad_token_id))

    def probabilities(input_ids, attention_mask, token_type_ids):
        return torch.softmax(clf(input_ids, attention_mask, token_type_ids), dim=-1)

    expected = LayerIntegratedGradients(probabilities, clf.embeddings).attribute(
        ids, baselines=reference, additional_forward_args=(torch.ones_like(ids), types), target=1, n_steps=20,
        method="gausslegendre").sum(-1)[0].detach().double().numpy()
    np.testing.assert_allclose(result.token_scores, expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())
    words = np.asarray(result.token_words)
    np.testing.assert_allclose(result.word_scores, [expected[words == w].sum() for w in range(8)], rtol=1e-4,
                               atol=1e-6 * np.abs(expected).max())
    with torch.no_grad():
        probability = float(torch.softmax(clf(ids, torch.ones_like(ids), types), -1)[0, 1])
    assert result.probability == pytest.approx(probability, abs=1e-6)


@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_every_method_runs_on_a_pair(clf, method):
    result = bt.attribute(clf, PAIR, method=method, **FAST.get(method, {}))
    assert result.words == PAIR[0].split() + PAIR[1].split()
    assert result.parameters["word_segments"] == [0] * 5 + [1] * 3
    assert len(result.token_scores) == len(encoding(clf)["input_ids"])
    assert np.isfinite(result.word_scores).all()


def test_a_model_without_segment_ids_gets_none(tiny_model):
    clf = bt.Classifier.from_pretrained(tiny_model("distilbert", "classifier"))
    assert not clf.takes_segment_ids
    result = bt.attribute(clf, PAIR, method="lime", num_samples=20)
    assert result.parameters["word_segments"] == [0] * 5 + [1] * 3
    ig = bt.attribute(clf, PAIR, method="ig", n_steps=4)
    assert len(ig.word_scores) == 8


@pytest.mark.parametrize("text, message", [
    (("the film", " "), "empty segment"),
    (("the film", "it", "was"), "tuple of two strings"),
    (["the film", "it"], "not list"),
    (("the film\u2029x", "it"), "U\\+2029"),
])
def test_bad_pairs_are_input_errors(clf, text, message):
    with pytest.raises(InputError, match=message):
        bt.attribute(clf, text, method="saliency")
