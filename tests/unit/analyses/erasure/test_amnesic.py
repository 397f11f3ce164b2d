"""Amnesic probing on a context-sensitive tiny masked LM: conditions, controls, masked-LM scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bertology.analyses.erasure.amnesic import amnesic_probe, masked_lm_scores
from bertology.analyses.erasure.erasure import erase
from bertology.core.errors import InputError
from tests.unit.analyses.erasure.test_erasure import number_dataset


def test_masked_lm_scores_match_full_logits(context_mlm):
    m = context_mlm()
    text = "the boys are here"
    accuracy, pll = masked_lm_scores(m, [text], batch_size=3, progress=False)
    ids = m.tokenizer(text)["input_ids"]
    hits, total = 0, 0.0
    for position in range(1, len(ids) - 1):
        masked = list(ids)
        masked[position] = m.tokenizer.mask_token_id
        with torch.inference_mode():
            scores = torch.log_softmax(m.model(input_ids=torch.tensor([masked])).logits[0, position], -1)
        hits += int(scores.argmax() == ids[position])
        total += float(scores[ids[position]])
    assert accuracy == pytest.approx(hits / (len(ids) - 2))
    assert pll == pytest.approx(total / (len(ids) - 2), abs=1e-4)


@pytest.mark.parametrize("method", ["leace", "inlp"])
def test_amnesic_probe(context_mlm, method):
    m = context_mlm()
    data = number_dataset()
    er = erase(m, data, layer=1, method=method, pool="mean", controls=2, progress=False)
    result = amnesic_probe(m, er, [data], pool="mean", controls=2, texts=data.texts[:6], progress=False)
    frame = result.to_frame()
    probes = frame[frame["metric"] == "accuracy"]
    assert sorted(probes["layer"].unique()) == [1, 2, 3]
    assert set(frame["metric"]) == {"accuracy", "mlm_accuracy", "pll"}
    assert len(frame[(frame["condition"] == "random") & (frame["metric"] == "pll")]) == 2
    at_layer = probes[probes["layer"] == 1].groupby("condition")["value"].mean()
    original = er.to_frame().set_index("condition")
    assert at_layer["erased"] == pytest.approx(original.loc["erased", "accuracy"])
    assert at_layer["original"] == pytest.approx(original.loc["original", "accuracy"])
    lm = frame[frame["metric"] == "pll"].groupby("condition")["value"].mean()
    assert lm["erased"] != pytest.approx(lm["original"])
    assert result.summary()["condition"].nunique() == 3


def test_bad_input(context_mlm, tiny_model):
    m = context_mlm()
    data = number_dataset(40)
    er = erase(m, data, layer=2, pool="mean", controls=1, progress=False)
    with pytest.raises(InputError, match="before the erased"):
        amnesic_probe(m, er, [data], layers=[1, 3], progress=False)
    with pytest.raises(InputError, match="tasks"):
        amnesic_probe(m, er, [], progress=False)
    with pytest.raises(InputError, match="controls"):
        amnesic_probe(m, er, data, controls=0, progress=False)
    wide = erase({2: np.random.default_rng(0).normal(size=(40, 7))}, data, layer=2, controls=1)
    with pytest.raises(InputError, match="hidden size"):
        amnesic_probe(m, wide, data, progress=False)
