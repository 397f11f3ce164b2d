"""MiniLM + an SST-2 CLS probe: probe classifier, IG against captum, LIME, faithfulness, attribute_task end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from captum.attr import LayerIntegratedGradients
from sklearn.linear_model import LogisticRegression

import bertology as bt
from bertology.analyses.attribution import FaithfulnessResult, attribute_task, load_attributions
from bertology.analyses.attribution.task import train_probe_classifier
from bertology.analyses.probes import LinearProbe
from bertology.core.data.loaders import load_sst2
from bertology.core.extraction import extract


@pytest.fixture(scope="module")
def sst2_features(minilm):
    data = load_sst2()
    return data, extract(minilm, data.texts, layers=-1, pool="cls", progress=False)[6]


def test_probe_classifier_matches_the_fitted_probes(minilm, sst2_features):
    data, features = sst2_features
    for probe in (LogisticRegression(max_iter=1000).fit(features, data.labels), LinearProbe().fit(features,
                                                                                                 data.labels)):
        clf = bt.Classifier.from_probe(minilm, probe, labels=data.label_names)
        np.testing.assert_allclose(clf.predict_proba(data.texts[:16]), probe.predict_proba(features[:16]), atol=1e-4)


def test_ig_on_minilm_probe_equals_captum_and_is_complete(minilm, sst2_features):
    data, features = sst2_features
    clf = bt.Classifier.from_probe(minilm, LinearProbe().fit(features, data.labels), labels=data.label_names)
    text = "I loved the film"
    result = bt.attribute(clf, text, target="positive", n_steps=32)
    ids = torch.tensor([minilm.tokenizer(text)["input_ids"]])
    mask = torch.ones_like(ids)
    reference = torch.tensor([[101] + [0] * (ids.shape[1] - 2) + [102]])
    explainer = LayerIntegratedGradients(clf.probabilities, minilm.model.embeddings.word_embeddings)
    expected, delta = explainer.attribute(ids, baselines=reference, additional_forward_args=(mask,), target=1,
                                          n_steps=32, return_convergence_delta=True)
    torch.testing.assert_close(torch.tensor(result.token_scores, dtype=torch.float32), expected.sum(-1)[0])
    with torch.no_grad():
        gap = (clf.probabilities(ids, mask) - clf.probabilities(reference, mask))[0, 1].item()
    assert abs(sum(result.token_scores) - gap) <= abs(result.delta) + 1e-5
    assert result.delta == pytest.approx(float(delta), abs=1e-6)
    assert abs(result.delta) < 0.05 and abs(result.delta) < 0.01 * abs(gap)
    assert result.word_frame().set_index("word").loc["loved", "rank"] == 1


def test_end_to_end_with_trained_probe(minilm, tmp_path):
    clf = train_probe_classifier(minilm, progress=False)
    assert clf.description["probe_train_accuracy"] > 0.8
    texts = ["a gorgeous , witty film .", "the plot is dull and the acting is awful ."]
    results = [bt.attribute(clf, t, n_steps=16) for t in texts]
    results += [bt.attribute(clf, t, method="lime", num_samples=200, seed=0) for t in texts]
    assert [r.target for r in results[:2]] == ["positive", "negative"]
    faith = bt.faithfulness(clf, results)
    summary = faith.summary().set_index("method")
    assert set(summary.index) == {"integrated_gradients", "lime"}
    assert (summary["aopc_comprehensiveness"] > 0).all()
    assert len(faith.agreement) == 2 and faith.agreement["spearman"].between(-1, 1).all()


def test_attribute_task_on_minilm(minilm, tmp_path):
    texts = ["a gorgeous , witty film .", "the plot is dull and the acting is awful .", "an ordinary day ."]
    scores = attribute_task(minilm, texts, tmp_path, n_steps=16, num_samples=200, limit=2, progress=False)
    clf = train_probe_classifier(minilm, progress=False)
    assert json.loads((tmp_path / "classifier.json").read_text())["probe_train_accuracy"] == pytest.approx(
        clf.description["probe_train_accuracy"])
    stored = load_attributions(tmp_path)
    assert [(r.text, r.method) for r in stored] == [(t, m) for t in texts[:2] for m in ("integrated_gradients", "lime")]
    assert [r.target for r in stored[::2]] == ["positive", "negative"]
    for result in stored:
        expected = (bt.attribute(clf, result.text, n_steps=16) if result.method == "integrated_gradients" else
                    bt.attribute(clf, result.text, method="lime", num_samples=200, seed=0))
        np.testing.assert_allclose(result.word_scores, expected.word_scores, atol=1e-6)
    pd.testing.assert_frame_equal(scores.scores, bt.faithfulness(clf, stored).scores, atol=1e-6)
    summary = scores.summary().set_index("method")
    assert (summary["aopc_comprehensiveness"] > 0).all() and summary["n_items"].tolist() == [2, 2]
    loaded = FaithfulnessResult.load(tmp_path)
    pd.testing.assert_frame_equal(loaded.to_frame(), scores.to_frame())
    assert (tmp_path / "figures" / "faithfulness.pdf").exists() and (tmp_path / "example_lime.html").exists()
