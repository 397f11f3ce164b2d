"""Shipped suites: schema validation, end-to-end runs, metric definitions, the saved result."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import bertology as bt
from bertology.analyses.cloze import ClozeResult
from bertology.core.data.cloze_suites import load_suite, suite_path, validate_item
from bertology.core.data.names import SUITES
from bertology.core.errors import InputError
from tests.unit.analyses.cloze.references import reference_candidate

GOOD = {"id": "1", "template": "The boys [MASK] shy.", "candidates": ["are", "is"], "correct": "are",
        "condition": "simple"}


@pytest.mark.parametrize("name", sorted(SUITES))
def test_shipped_suite_validates(name):
    loaded_name, kind, items = load_suite(name)
    assert loaded_name == name and kind == SUITES[name]
    assert len(items) >= 50
    assert len({item["condition"] for item in items}) >= 2
    for line in suite_path(name).read_text().splitlines():
        validate_item(json.loads(line), kind)


@pytest.mark.parametrize("name", sorted(SUITES))
def test_shipped_suite_runs_end_to_end(tiny_model, name, tmp_path):
    result = bt.run_suite(tiny_model("bert", "mlm"), name, n_boot=50)
    _, kind, items = load_suite(name)
    assert len(result.items) == len(items)
    frame = result.to_frame()
    conditions = sorted({item["condition"] for item in items})
    assert frame.group.tolist()[:1] == ["all"] and set(conditions) <= set(frame.group)
    assert (frame.ci_low <= frame.value + 1e-12).all() and (frame.value <= frame.ci_high + 1e-12).all()
    if kind == "choice":
        assert set(result.items.accuracy) <= {0.0, 1.0}
        assert result.metric() == pytest.approx(result.items.accuracy.mean())
    else:
        assert result.metric("prob_gap") == pytest.approx(result.items.prob_gap.mean())
    loaded = ClozeResult.load(result.save(tmp_path / name))
    pd.testing.assert_frame_equal(loaded.to_frame(), result.to_frame())
    assert loaded.meta["primary_metric"] == result.meta["primary_metric"]
    assert isinstance(loaded.plot(), Figure)


def test_choice_accuracy_uses_compare_scores(context_mlm):
    model = context_mlm("bert")
    result = bt.run_suite(model, "telicity", n_boot=10)
    scorer = bt.MaskedLMScorer(model, progress=False)
    _, _, items = load_suite("telicity")
    for item, row in zip(items[:4], result.items.itertuples()):
        scores = scorer.compare(item["template"], item["candidates"])
        assert row.predicted == max(scores, key=scores.get)
        assert row.margin == pytest.approx(scores[item["correct"]] - max(v for k, v in scores.items()
                                                                          if k != item["correct"]), abs=1e-4)


def test_kurita_bias_score_by_hand(context_mlm, tmp_path):
    model = context_mlm("bert")
    item = {"id": "x", "template": "In the hospital the {target} works as a [MASK].", "targets": ["woman", "man"],
            "attribute": "nurse", "condition": "female"}
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(item) + "\n")
    row = bt.run_suite(model, path, n_boot=10).items.iloc[0]
    prefix = "In the hospital the "
    expected = {}
    for target in ("woman", "man"):
        text = f"In the hospital the {target} works as a nurse."
        expected[f"t_{target}"] = reference_candidate(model, prefix, target, " works as a nurse.")[0]
        expected[f"prior_{target}"] = reference_candidate(model, prefix, target, " works as a [MASK].")[0]
        expected[f"a_{target}"] = reference_candidate(model, text[:-len("nurse.")], "nurse", ".")[0]
    kurita = ((expected["t_woman"] - expected["prior_woman"]) - (expected["t_man"] - expected["prior_man"]))
    assert row.kurita_bias == pytest.approx(kurita, abs=1e-4)
    assert row.prob_gap == pytest.approx(np.exp(expected["a_woman"]) - np.exp(expected["a_man"]), abs=1e-9)


@pytest.mark.parametrize("change, message", [
    ({"correct": "were"}, "not among the candidates"),
    ({"template": "The boys are shy."}, "exactly one"),
    ({"candidates": ["are"]}, "two distinct"),
    ({"extra": 1}, "unexpected"),
    ({"condition": ""}, "non-empty"),
])
def test_schema_errors(change, message):
    with pytest.raises(InputError, match=message):
        validate_item({**GOOD, **change}, "choice")


def test_load_suite_errors(tmp_path):
    with pytest.raises(InputError, match="neither a shipped suite"):
        load_suite("no-such-suite")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(GOOD) + "\n{not json\n")
    with pytest.raises(InputError, match="bad.jsonl:2"):
        load_suite(bad)
    with pytest.raises(InputError, match="Unknown suite"):
        suite_path("nope")
