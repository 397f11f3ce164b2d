"""LIME: seeded determinism, the known word ranks first, batched classifier function."""

from __future__ import annotations

import numpy as np
import pytest

import bertology as bt
from bertology.analyses.attribution.lime_method import batched_classifier_fn, lime_explainer
from bertology.core.errors import InputError
from tests.unit.analyses.attribution.toys import toy_classifier


@pytest.fixture(scope="module")
def toy(minilm):
    return toy_classifier(minilm.tokenizer, {"great": 4.0})


def test_known_word_ranks_first(toy):
    result = bt.attribute(toy, "the film was great and the cast was fine", method="lime", num_samples=300, seed=0,
                          target="positive")
    frame = result.word_frame()
    assert frame.loc[frame["rank"] == 1, "word"].item() == "great"
    assert result.word_scores[3] > 10 * max(abs(s) for i, s in enumerate(result.word_scores) if i != 3)
    token_frame = result.to_frame()
    assert token_frame.loc[token_frame.word == "great", "score"].item() == pytest.approx(result.word_scores[3])


def test_fixed_seed_is_deterministic(tiny_model):
    clf = bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))
    text = "the boys loved the film in the city"
    first = bt.attribute(clf, text, method="lime", num_samples=120, seed=7)
    second = bt.attribute(clf, text, method="lime", num_samples=120, seed=7)
    other = bt.attribute(clf, text, method="lime", num_samples=120, seed=8)
    assert first.word_scores == second.word_scores
    assert first.word_scores != other.word_scores
    assert first.parameters["seed"] == 7 and first.parameters["num_samples"] == 120


def test_classifier_fn_is_batched(toy, monkeypatch):
    calls = []
    forward = toy.network.forward

    def counting(input_ids, attention_mask):
        calls.append(input_ids.shape[0])
        return forward(input_ids, attention_mask)

    monkeypatch.setattr(toy.network, "forward", counting)
    texts = [f"great film {'x ' * (i % 7)}" for i in range(120)] + [f"a much longer text {'y ' * i}" for i in range(80)]
    probs = batched_classifier_fn(toy, batch_size=50)(texts)
    distinct = len(set(texts))
    assert probs.shape == (200, 2) and len(calls) == -(-distinct // 50) and max(calls) == 50
    np.testing.assert_allclose(probs[0], [1 / (1 + np.exp(4)), 1 / (1 + np.exp(-4))], rtol=1e-6)
    calls.clear()
    bt.attribute(toy, "a great film", method="lime", num_samples=200, batch_size=64, target=1)
    assert len(calls) == 1 and calls[0] <= 2 ** 3  # 200 perturbations of 3 words: each distinct one runs once


def test_explainer_is_word_level_and_mask_options(toy):
    explainer = lime_explainer(toy, seed=0, mask="mask")
    assert explainer.bow is False and explainer.mask_string == "[MASK]"
    assert lime_explainer(toy).mask_string == ""
    masked = bt.attribute(toy, "so great", method="lime", num_samples=50, mask="mask")
    assert masked.parameters["mask"] == "mask"
    with pytest.raises(InputError, match="mask"):
        lime_explainer(toy, mask="blank")
    with pytest.raises(InputError, match="num_samples"):
        bt.attribute(toy, "great", method="lime", num_samples=1)
