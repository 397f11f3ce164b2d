"""Evaluation sets on real-format fixture files: CrowS-Pairs, StereoSet, BLiMP and agreement stimuli."""

from __future__ import annotations

import csv
import difflib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import bertology as bt
from bertology.analyses.cloze.evaluations import shared_token_positions, stereoset_scores
from bertology.analyses.cloze.formats import read_stereoset
from tests.unit.analyses.cloze.references import reference_log_prob, reference_pll

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"


@pytest.fixture(scope="module")
def mlm(tiny_model):
    return tiny_model("bert", "mlm")


def paper_crows_pairs(model, path):
    """Nangia et al. (2020) metric.py: get_span + mask_unigram (the copies of one sentence stacked into a batch)."""
    tokenizer, mask_id = model.tokenizer, model.tokenizer.mask_token_id
    stereo = anti = 0
    pair_scores = []
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        direction = row["stereo_antistereo"]
        sent1, sent2 = (row["sent_more"], row["sent_less"]) if direction == "stereo" else \
            (row["sent_less"], row["sent_more"])
        ids1, ids2 = tokenizer.encode(sent1), tokenizer.encode(sent2)
        matcher = difflib.SequenceMatcher(None, [str(x) for x in ids1], [str(x) for x in ids2])
        template1, template2 = [], []
        for op in matcher.get_opcodes():
            if op[0] == "equal":
                template1 += list(range(op[1], op[2]))
                template2 += list(range(op[3], op[4]))
        score1 = score2 = 0.0
        for ids, template, which in ((ids1, template1, 1), (ids2, template2, 2)):
            positions = template[1:len(template1) - 1]
            masked = torch.tensor([ids] * len(positions))  # one copy per masked token, stacked (no padding)
            masked[range(len(positions)), positions] = mask_id
            with torch.inference_mode():
                hidden = model.model.bert(input_ids=masked).last_hidden_state[range(len(positions)), positions]
                logits = model.model.cls(hidden).double()
            values = torch.log_softmax(logits, -1)[range(len(positions)), [ids[p] for p in positions]]
            if which == 1:
                score1 = float(values.sum())
            else:
                score2 = float(values.sum())
        more, less = (score1, score2) if direction == "stereo" else (score2, score1)
        pair_scores.append((more, less))
        if direction == "stereo" and score1 > score2:
            stereo += 1
        if direction == "antistereo" and score2 > score1:
            anti += 1
    return 100.0 * (stereo + anti) / len(rows), pair_scores


def test_crows_pairs_equals_paper_procedure(mlm):
    path = FIXTURES / "crows_pairs_sample.csv"
    result = bt.crows_pairs(mlm, path, n_boot=50)
    expected_metric, pairs = paper_crows_pairs(mlm, path)
    assert len(result.items) == 12
    np.testing.assert_allclose(result.items[["sent_more_score", "sent_less_score"]].to_numpy(), pairs, atol=1e-4)
    assert result.metric() == pytest.approx(expected_metric)
    frame = result.to_frame()
    assert {"race-color", "gender", "stereo", "antistereo"} <= set(frame.group)
    gender = result.items[result.items.bias_type == "gender"]
    assert result.metric(group="gender") == pytest.approx(100 * gender.metric_score.mean())


def test_shared_token_positions_skips_cls_and_sep():
    assert shared_token_positions([101, 1, 2, 3, 102], [101, 1, 9, 9, 3, 102]) == ([1, 3], [1, 4])


def test_stereoset_scores_by_hand():
    rows = []
    # target A: ex1 stereo > anti, both > unrelated; ex2 anti > stereo, unrelated beats anti.
    # target B: ex3 stereo > anti, unrelated beats both.
    scores = {"a1": (0.5, 0.4, 0.1), "a2": (0.3, 0.4, 0.35), "b1": (0.2, 0.1, 0.9)}
    for example, (s, a, u) in scores.items():
        for label, value in (("stereotype", s), ("anti-stereotype", a), ("unrelated", u)):
            rows.append({"id": example, "target": example[0], "bias_type": "race" if example[0] == "a" else "gender",
                         "gold_label": label, "score": value})
    frame = stereoset_scores(pd.DataFrame(rows), group="bias_type").set_index(["group", "metric"]).value
    # SS per term: A = 1/2 -> 50, B = 1/1 -> 100; LMS per term: A = 3/4 -> 75, B = 0/2 -> 0
    ss, lms = (50 + 100) / 2, (75 + 0) / 2
    assert frame["all", "ss"] == pytest.approx(ss)
    assert frame["all", "lms"] == pytest.approx(lms)
    assert frame["all", "icat"] == pytest.approx(lms * min(ss, 100 - ss) / 50)
    assert frame["race", "icat"] == pytest.approx(75.0)
    assert frame["gender", "icat"] == pytest.approx(0.0)


def test_stereoset_end_to_end(mlm):
    result = bt.stereoset(mlm, FIXTURES / "stereoset_sample.json")
    assert len(result.items) == 30 and (result.items.n_pieces >= 1).all()
    assert set(result.to_frame().metric) == {"lms", "ss", "icat"}
    recomputed = stereoset_scores(result.items)
    assert result.metric("icat") == pytest.approx(recomputed.set_index("metric").value["icat"])
    row = result.items.iloc[0]
    assert 0 < row.score <= 1
    example = read_stereoset(FIXTURES / "stereoset_sample.json")[0]
    assert example["context"].replace("BLANK", "thin") in set(result.items.sentence)


def test_blimp_accuracy_from_pll(mlm):
    result = bt.blimp(mlm, FIXTURES / "blimp_sample.jsonl", variant="original", n_boot=20)
    row = result.items.iloc[6]
    assert row.pll_good == pytest.approx(reference_pll(mlm, row.sentence_good, "original"), abs=1e-5)
    assert result.items.accuracy.tolist() == (result.items.pll_good > result.items.pll_bad).astype(float).tolist()
    groups = set(result.to_frame().group)
    assert {"all", "anaphor_gender_agreement", "left_branch_island_simple_question", "syntax", "morphology"} <= groups


@pytest.mark.parametrize("name, n_items", [("lgd_sample.tsv", 12), ("generated_sample.tab", 6),
                                           ("marvin_sample.tsv", 11)])
def test_agreement_stimuli_scores(mlm, name, n_items):
    result = bt.agreement_stimuli(mlm, FIXTURES / name, n_boot=20)
    assert result.meta["n_skipped"] + len(result.items) == n_items
    tokenizer = mlm.tokenizer
    row = result.items.iloc[0]
    ids = tokenizer(row.masked.replace("***mask***", "[MASK]"))["input_ids"]
    position = ids.index(tokenizer.mask_token_id)
    good = tokenizer.convert_tokens_to_ids(row.good)
    assert row.log_p_good == pytest.approx(reference_log_prob(mlm, ids, [position], position, good), abs=1e-5)
    assert result.metric() == pytest.approx(result.items.accuracy.mean())


def test_agreement_skips_multi_piece_forms(mlm):
    result = bt.agreement_stimuli(mlm, FIXTURES / "lgd_sample.tsv", n_boot=20)
    assert result.meta["n_skipped"] >= 1
    assert "prevaricate" not in set(result.items.good)
