"""Pruning curves and leave-one-out ablation against weight surgery and hand-made masks."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import bertology as bt
from bertology.analyses.heads import ablation_scores, prune_heads
from bertology.core.errors import InputError

TEXTS = ["the film was great .", "a terrible , boring mess .", "I loved it !", "it was not good at all .",
         "wonderful acting", "dull and slow"]
LABELS = [1, 0, 1, 0, 1, 0]


@pytest.fixture(scope="module")
def classifier(tiny_model):
    return bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))


def _surgery_loss(loaded: bt.LoadedModel, heads: list[tuple[int, int]]) -> float:
    """Mean cross-entropy with the heads' slices of the output projections zeroed (no hooks)."""
    model = copy.deepcopy(loaded.model)
    d_head = loaded.hidden_size // loaded.num_heads
    with torch.no_grad():
        for layer, head in heads:
            model.base_model.encoder.layer[layer].attention.output.dense.weight[:, head * d_head:(head + 1) * d_head] = 0
        batch = loaded.tokenizer(TEXTS, return_tensors="pt", padding=True)
        logits = model(**batch).logits
        return float(torch.nn.functional.cross_entropy(logits, torch.tensor(LABELS)))


def test_leave_one_out_equals_weight_surgery(classifier, tiny_model):
    loaded = tiny_model("bert", "classifier")
    result = ablation_scores(classifier, TEXTS, labels=LABELS, metric="loss", progress=False)
    frame = result.to_frame()
    assert len(frame) == loaded.num_layers * loaded.num_heads
    assert result.meta["baseline"] == pytest.approx(_surgery_loss(loaded, []), rel=1e-5)
    for layer, head in [(0, 1), (2, 3)]:
        row = frame[(frame["layer"] == layer) & (frame["head"] == head)].iloc[0]
        assert row["score"] == pytest.approx(_surgery_loss(loaded, [(layer, head)]), rel=1e-5)
        assert row["delta"] == pytest.approx(row["score"] - result.meta["baseline"])


def test_pruning_masks_the_least_important_heads_first(classifier, tiny_model):
    loaded = tiny_model("bert", "classifier")
    scores = np.arange(12, dtype=float).reshape(3, 4)[::-1].copy()
    curve = prune_heads(classifier, TEXTS, scores, labels=LABELS, metric="loss", steps=4, random_orders=5,
                        progress=False)
    frame = curve.to_frame()
    ranked = frame[frame["order"] == "importance"].sort_values("n_pruned")
    assert ranked["n_pruned"].tolist() == [0, 3, 6, 9, 12]
    order = [(int(i // 4), int(i % 4)) for i in np.argsort(scores.ravel(), kind="stable")]
    for count, score in zip(ranked["n_pruned"], ranked["score"]):
        assert score == pytest.approx(_surgery_loss(loaded, order[:count]), rel=1e-5)
    assert sorted(frame.loc[frame["order"] == "random", "repeat"].unique()) == [0, 1, 2, 3, 4]
    band = curve.random_band()
    assert band["count"].tolist() == [5] * 5 and band.loc[0, "sd"] == 0


def test_importance_result_gives_the_order_and_accuracy_starts_at_the_models(classifier):
    imp = bt.head_importance(classifier, TEXTS, labels=LABELS, progress=False)
    curve = prune_heads(classifier, TEXTS, imp, labels=LABELS, steps=2, random_orders=1, progress=False)
    first = curve.to_frame().iloc[0]
    predicted = classifier.predict_proba(TEXTS).argmax(1)
    assert first["score"] == pytest.approx(np.mean(predicted == np.array(LABELS)))


@pytest.mark.parametrize("kwargs, message", [
    (dict(order=[(0, 0)]), "each of the 12"),
    (dict(order=np.ones((2, 2))), "shape"),
    (dict(metric="f1"), "metric='f1'"),
    (dict(steps=0), "steps=0"),
    (dict(random_orders=-1), "random_orders"),
])
def test_bad_pruning_arguments(classifier, kwargs, message):
    arguments = {"order": np.ones((3, 4)), **kwargs}
    with pytest.raises(InputError, match=message):
        prune_heads(classifier, TEXTS, labels=LABELS, progress=False, **arguments)
