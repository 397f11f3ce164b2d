"""``attribute``: method names and options, the predicted class as default target, every architecture."""

from __future__ import annotations

import pytest

import bertology as bt
from bertology.analyses.attribution.api import resolve_method
from bertology.core.errors import InputError

TEXT = "the film was great and the boys loved it"


@pytest.fixture(scope="module")
def bert_clf(tiny_model):
    return bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))


def test_predicted_class_is_default_target(bert_clf):
    predicted = int(bert_clf.predict_proba([TEXT])[0].argmax())
    assert bt.attribute(bert_clf, TEXT, n_steps=4).target_index == predicted


def test_method_names():
    assert resolve_method("ig") == resolve_method("integrated_gradients") == "integrated_gradients"
    assert resolve_method("lime") == "lime"


def test_architectures(tiny_model, arch):
    clf = bt.Classifier.from_pretrained(tiny_model(arch, "classifier"))
    assert clf.labels == ["negative", "positive"]
    text = "the film was great"
    ig = bt.attribute(clf, text, n_steps=6, target=1)
    assert ig.words == text.split() and len(ig.word_scores) == 4
    assert ig.token_words[0] == -1 and ig.token_words[-1] == -1
    assert sum(ig.token_scores) == pytest.approx(ig.probability - ig.parameters["baseline_probability"] + ig.delta,
                                                 abs=1e-4)
    gap = ig.probability - ig.parameters["baseline_probability"]
    assert abs(ig.delta) <= 0.02 * abs(gap) + 5e-8  # completeness along the path, RoBERTa's padding positions too
    lime = bt.attribute(clf, text, method="lime", num_samples=30, seed=1, target=1)
    assert len(lime.word_scores) == 4 and lime.probability == pytest.approx(ig.probability, abs=1e-5)


def test_bad_inputs(bert_clf):
    with pytest.raises(InputError, match="empty text"):
        bt.attribute(bert_clf, "   ")
    with pytest.raises(InputError, match="Unknown target label 'happy'.*negative"):
        bt.attribute(bert_clf, "good", target="happy")
    with pytest.raises(InputError, match="out of range"):
        bt.attribute(bert_clf, "good", target=5)
    with pytest.raises(InputError, match="Unknown attribution method"):
        bt.attribute(bert_clf, "good", method="shap")
    with pytest.raises(InputError, match="does not take that option"):
        bt.attribute(bert_clf, "good", num_samples=3)
