"""Classifier: a checkpoint's head, a frozen encoder plus a fitted probe, label lookup, errors."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

import bertology as bt
from bertology.analyses.attribution.classifier import word_embeddings
from bertology.core.errors import InputError, ModelError
from bertology.core.extraction import extract
from tests.unit.core.hooks.test_position import rows_entering


def test_from_pretrained_labels_and_probabilities(tiny_model):
    model = tiny_model("bert", "classifier")
    clf = bt.Classifier.from_pretrained(model)
    assert clf.labels == ["negative", "positive"] and clf.description["kind"] == "sequence-classification"
    texts = ["the film was great", "hated it"]
    inputs = model.tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = torch.softmax(model.model(**inputs).logits, -1).numpy()
    np.testing.assert_allclose(clf.predict_proba(texts), expected, atol=1e-6)
    assert clf.label_index("POSITIVE") == 1 and clf.label_index(-1) == 1


def test_sequence_heads_equal_the_full_forward_with_one_row_in_the_last_feed_forward(tiny_model, arch):
    model = tiny_model(arch, "classifier")
    clf = bt.Classifier.from_pretrained(model)
    texts = ["the film was great and the boys loved it", "hated it"]
    inputs = model.tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = torch.softmax(model.model(**inputs).logits, -1).numpy()
    with rows_entering(model) as rows:
        np.testing.assert_allclose(clf.predict_proba(texts), expected, atol=1e-6, rtol=0)
    assert rows[-1] == 1 and min(rows[:-1]) > 1
    tagger = bt.Classifier.from_pretrained(tiny_model(arch, "token-classifier"))
    assert tagger.is_token_classifier and not clf.is_token_classifier


TEXTS = ["the film was great", "the boys hated it", "great film", "terrible city", "loved it", "hated it"]


def fitted_probe(model, layer, pool):
    """``(classifier, probe, features)``: a logistic-regression probe on ``TEXTS``' pooled hidden state ``layer``."""
    features = extract(model, TEXTS, layers=layer, pool=pool, progress=False)[layer]
    probe = LogisticRegression().fit(features, [1, 0, 1, 0, 1, 0])
    return bt.Classifier.from_probe(model, probe, layer=layer, pool=pool, labels=["negative", "positive"]), probe, \
        features


def test_cls_probe_runs_its_layer_feed_forward_at_the_first_token(tiny_model):
    model = tiny_model("bert", "base")
    clf, probe, features = fitted_probe(model, 2, "cls")
    with rows_entering(model) as rows:
        np.testing.assert_allclose(clf.predict_proba(TEXTS), probe.predict_proba(features), atol=1e-5)
    assert rows == [rows[0], 1] and rows[0] > 1


def test_from_probe_matches_sklearn_probe_and_stops_early(tiny_model):
    model = tiny_model("bert", "base")
    clf, probe, features = fitted_probe(model, 1, "mean")
    np.testing.assert_allclose(clf.predict_proba(TEXTS), probe.predict_proba(features), atol=1e-5)
    ran = []
    handle = model.model.encoder.layer[2].register_forward_hook(lambda *args: ran.append(1))
    try:
        clf.predict_proba(["great"])
    finally:
        handle.remove()
    assert not ran
    three = LogisticRegression().fit(features, [0, 1, 2, 0, 1, 2])
    clf3 = bt.Classifier.from_probe(model, three, layer=1, pool="mean")
    assert clf3.labels == ["0", "1", "2"]
    np.testing.assert_allclose(clf3.predict_proba(TEXTS), three.predict_proba(features), atol=1e-5)
    assert bt.attribute(clf3, "great film", target="2", n_steps=4).target_index == 2


def test_from_probe_bad_inputs(tiny_model):
    model = tiny_model("bert", "base")
    with pytest.raises(InputError, match="not fitted"):
        bt.Classifier.from_probe(model, LogisticRegression())
    wrong = LogisticRegression().fit(np.random.default_rng(0).normal(size=(4, 5)), [0, 1, 0, 1])
    with pytest.raises(InputError, match="hidden size"):
        bt.Classifier.from_probe(model, wrong)
    with pytest.raises(InputError, match="target word"):
        bt.Classifier.from_probe(model, wrong, pool="word")
    with pytest.raises(InputError, match="list of texts"):
        bt.Classifier.from_pretrained(tiny_model("bert", "classifier")).predict_proba("one text")


def test_missing_embeddings_and_wrong_head(tiny_model):
    loaded = tiny_model("bert", "classifier")
    broken = replace(loaded, adapter=replace(loaded.adapter, word_embeddings_path="embeddings.nothing"))
    with pytest.raises(ModelError, match="word_embeddings_path"):
        word_embeddings(broken)
    with pytest.raises(ModelError, match="head='classifier'"):
        bt.Classifier.from_pretrained(tiny_model("bert", "base"))
