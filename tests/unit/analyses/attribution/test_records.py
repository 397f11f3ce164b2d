"""attribute_texts appends one JSONL record per (sentence, method) and resumes after an interruption."""

from __future__ import annotations

import pytest

import bertology as bt
from bertology.analyses.attribution import attribute_texts, load_attributions
from bertology.analyses.attribution import records as records_module
from bertology.core.errors import InputError

SENTENCES = ["the film was great", "the boys hated the city", "a great film"]


@pytest.fixture(scope="module")
def clf(tiny_model):
    return bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))


def test_attribute_texts_resumes(clf, tmp_path, monkeypatch, caplog):
    out = tmp_path / "out"
    options = {"ig": {"n_steps": 4}, "lime": {"num_samples": 20}}
    first = attribute_texts(clf, SENTENCES, out, methods=["ig", "lime"], options=options, progress=False)
    assert [(r.text, r.method) for r in first][:2] == [(SENTENCES[0], "integrated_gradients"), (SENTENCES[0], "lime")]
    assert len(first) == 6
    assert first[0] == bt.attribute(clf, SENTENCES[0], n_steps=4)
    assert first[1] == bt.attribute(clf, SENTENCES[0], method="lime", num_samples=20)
    lines = (out / "attributions.jsonl").read_text().splitlines()
    with open(out / "attributions.jsonl", "w") as handle:
        handle.write("\n".join(lines[:4]) + "\n" + lines[4][:30])
    calls = []
    real = records_module.attribute
    monkeypatch.setattr(records_module, "attribute", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    with caplog.at_level("WARNING", logger="bertology.analyses.attribution.records"):
        second = attribute_texts(clf, SENTENCES, out, methods=["ig", "lime"], options=options, progress=False)
    assert caplog.text.count("dropping an unfinished line") == 1
    assert (out / "attributions.jsonl").read_text().splitlines()[:4] == lines[:4]
    assert calls == [SENTENCES[2], SENTENCES[2]]
    assert [r.to_dict() for r in second[:4]] == [r.to_dict() for r in first[:4]]
    assert second == first
    attribute_texts(clf, SENTENCES, out, methods=["ig", "lime"], options=options, progress=False)
    assert len(calls) == 2 and load_attributions(out) == first


def test_bad_inputs(clf, tmp_path):
    with pytest.raises(InputError, match="No sentences"):
        attribute_texts(clf, [], tmp_path)
    with pytest.raises(InputError, match="wrap it"):
        attribute_texts(clf, "one sentence", tmp_path)
    with pytest.raises(InputError, match="Unknown attribution method"):
        attribute_texts(clf, SENTENCES, tmp_path, methods=["shap"])
    with pytest.raises(InputError, match="attribute_texts"):
        load_attributions(tmp_path / "empty")
