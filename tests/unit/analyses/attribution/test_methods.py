"""The method registry: the table, its options and defaults, its error messages, every method end to end."""

from __future__ import annotations

import inspect

import pytest

import bertology as bt
from bertology.analyses.attribution.methods import REGISTRY, get_method, resolve_method
from bertology.analyses.attribution.names import ALIASES, METHOD_CHOICES, METHOD_NAMES
from bertology.analyses.attribution.records import attribute_texts
from bertology.core.errors import InputError

TEXT = "the film was great"
QUICK = {"integrated_gradients": {"n_steps": 4}, "lime": {"num_samples": 20}, "gradient_shap": {"n_samples": 3},
         "kernel_shap": {"num_samples": 20}}


@pytest.fixture(scope="module")
def bert_clf(tiny_model):
    return bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))


def test_methods_table():
    table = bt.methods()
    assert table.columns.tolist() == ["method", "family", "baseline", "has_convergence_delta", "options", "aliases",
                                      "citation"]
    assert tuple(table.method) == METHOD_NAMES == tuple(REGISTRY)
    rows = table.set_index("method")
    assert rows.loc["integrated_gradients", "options"] == ("n_steps=50, baseline=pad, internal_batch_size=None, "
                                                           "method=gausslegendre")
    assert rows.loc["integrated_gradients", "aliases"] == "ig"
    assert rows.has_convergence_delta[rows.has_convergence_delta].index.tolist() == [
        "integrated_gradients", "deeplift", "gradient_shap"]
    assert rows.loc["saliency", "baseline"] == "none" and rows.loc["occlusion", "baseline"] == "mask"
    assert set(METHOD_CHOICES) == set(METHOD_NAMES) | set(ALIASES)


def test_declared_options_are_the_functions_defaults():
    for method in REGISTRY.values():
        signature = inspect.signature(method.function).parameters
        assert method.options == {name: signature[name].default for name in list(signature)[3:]}
    assert get_method("ig") is REGISTRY["integrated_gradients"]
    assert resolve_method("kernel_shap") == "kernel_shap"


def test_unknown_method_and_option_list_the_valid_ones_before_any_work():
    with pytest.raises(InputError, match="Unknown attribution method 'shap': choose one of integrated_gradients, "
                                         "lime, saliency, .*rollout, attention_flow, norm, value_zeroing "
                                         "\\(aliases: 'ig' for 'integrated_gradients'\\)"):
        bt.attribute(None, TEXT, method="shap")
    with pytest.raises(InputError, match="deeplift does not take that option \\('n_steps'\\): its options are "
                                         "baseline\\.$"):
        bt.attribute(None, TEXT, method="deeplift", n_steps=3)
    with pytest.raises(InputError, match="its options are none"):
        bt.attribute(None, TEXT, method="input_x_gradient", seed=1)
    with pytest.raises(InputError, match="lime does not take that option \\('n_steps'\\)"):
        attribute_texts(None, [TEXT], "unused", methods=["lime"], options={"lime": {"n_steps": 3}})


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_every_method_attributes_and_scores_faithfulness(bert_clf, name):
    result = bt.attribute(bert_clf, TEXT, method=name, target="positive", **QUICK.get(name, {}))
    assert result.method == name and result.words == TEXT.split() and len(result.word_scores) == 4
    assert (result.delta is not None) == REGISTRY[name].has_convergence_delta
    assert result.probability == pytest.approx(bert_clf.predict_proba([TEXT])[0, 1], abs=1e-5)
    assert bt.AttributionResult.from_dict(result.to_dict()) == result
    summary = bt.faithfulness(bert_clf, [result], bins=(25, 50)).summary()
    assert summary.method.tolist() == [name] and summary.n_items.tolist() == [1]
