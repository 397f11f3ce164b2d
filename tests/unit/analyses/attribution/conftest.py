"""``clf``: a tiny BERT explained through its classification head, and through a CLS probe.

The head is the steep tiny classifier (initializer range 0.2): at the usual 0.02 its attribution scores are
about 1e-6, below the tolerance of tests that compare two procedures."""

from __future__ import annotations

import pytest
from sklearn.linear_model import LogisticRegression

import bertology as bt
from bertology.core.extraction import extract

TRAIN = ["the film was great", "the boys hated it", "great film", "terrible city", "loved it", "hated it"]


@pytest.fixture(scope="module", params=["head", "probe"])
def clf(request, tiny_model, tiny_model_dir):
    if request.param == "head":
        return bt.Classifier.from_pretrained(str(tiny_model_dir("bert", "steep-classifier")))
    return probe_classifier(tiny_model)


def probe_classifier(tiny_model):
    """A CLS logistic-regression probe on the tiny BERT's last layer, fitted on ``TRAIN``."""
    model = tiny_model("bert", "base")
    features = extract(model, TRAIN, layers=-1, pool="cls", progress=False)[-1]
    probe = LogisticRegression(C=1e4, max_iter=1000).fit(features, [1, 0, 1, 0, 1, 0])
    return bt.Classifier.from_probe(model, probe, layer=-1, pool="cls", labels=["negative", "positive"])
