"""Evaluation sets on real-format fixture files against the authors' released procedures.

The model is the context-sensitive tiny MLM (initializer range 0.2), on which masking,
writing back or leaving out a token moves log-probabilities by nats, so a procedure that
differs from the reference fails these tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bertology as bt
from bertology.analyses.cloze.evaluations import crows_pairs_scores, shared_token_positions, stereoset_scores
from bertology.analyses.cloze.formats import read_agreement, read_stereoset
from bertology.core.errors import InputError
from tests.unit.analyses.cloze.references import (
    reference_crows_pairs,
    reference_goldberg,
    reference_pll,
    reference_stereoset,
)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"


@pytest.fixture(scope="module")
def mlm(context_mlm):
    return context_mlm("bert")


@pytest.mark.parametrize("name", ["crows_pairs_sample.csv", "crows_pairs_order.csv"])
def test_crows_pairs_equals_metric_py(mlm, name):
    path = FIXTURES / name
    result = bt.crows_pairs(mlm, path, n_boot=50)
    expected = reference_crows_pairs(mlm, path)
    np.testing.assert_allclose(result.items[["sent_more_score", "sent_less_score"]].to_numpy(), expected["pairs"],
                               atol=1e-4)
    assert result.metric() == pytest.approx(expected["metric_score"])
    assert result.metric(group="stereo") == pytest.approx(expected["stereo"], nan_ok=True)
    assert result.metric(group="antistereo") == pytest.approx(expected["antistereo"], nan_ok=True)
    assert result.meta["n_neutral"] == expected["neutral"]
    for bias_type, part in result.items.groupby("bias_type"):
        assert result.metric(group=bias_type) == pytest.approx(100 * part.metric_score.mean())


def test_crows_pairs_aligns_the_less_stereotypical_sentence_first_on_antistereo_rows(mlm):
    result = bt.crows_pairs(mlm, FIXTURES / "crows_pairs_order.csv", n_boot=10)
    tokenizer = mlm.tokenizer
    row = result.items.iloc[0]
    assert row.stereo_antistereo == "antistereo"
    ids_more, ids_less = tokenizer.encode(row.sent_more), tokenizer.encode(row.sent_less)
    assert shared_token_positions(ids_less, ids_more)[::-1] != shared_token_positions(ids_more, ids_less)
    assert row.sent_more_score == pytest.approx(reference_crows_pairs(mlm, FIXTURES / "crows_pairs_order.csv")
                                                ["pairs"][0][0], abs=1e-4)


def test_crows_pairs_rounds_scores_and_leaves_ties_out_of_the_direction_scores():
    items = pd.DataFrame({"sent_more_score": [-10.0004, -1.2344, -3.0, -7.0, -2.0],
                          "sent_less_score": [-10.0001, -1.2346, -4.0, -6.0, -2.00049],
                          "stereo_antistereo": ["stereo", "stereo", "stereo", "antistereo", "antistereo"],
                          "bias_type": ["age", "age", "gender", "gender", "age"]})
    scored, summary = crows_pairs_scores(items, n_boot=10)
    assert scored.neutral.tolist() == [1, 0, 0, 0, 1]
    assert scored.metric_score.tolist() == [0.0, 1.0, 1.0, 0.0, 0.0]
    values = summary.set_index(["group", "metric"])
    assert values.value["all", "metric_score"] == pytest.approx(100 * 2 / 5)
    assert values.value["stereo", "metric_score"] == pytest.approx(100.0) and values.n["stereo", "metric_score"] == 2
    assert values.value["antistereo", "metric_score"] == pytest.approx(0.0)
    assert values.n["antistereo", "metric_score"] == 1
    assert values.value["all", "neutral"] == pytest.approx(40.0)
    assert values.value["age", "metric_score"] == pytest.approx(100 / 3)


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


@pytest.mark.parametrize("family", ["bert", "roberta"])
@pytest.mark.parametrize("name", ["stereoset_sample.json", "stereoset_pieces.json"])
def test_stereoset_equals_the_official_scorer(context_mlm, family, name):
    model = context_mlm(family)
    result = bt.stereoset(model, FIXTURES / name)
    expected = reference_stereoset(model, FIXTURES / name)
    assert result.meta["variant"] == "official"
    got = dict(zip(result.items.sentence_id, result.items.score))
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-4, abs=1e-9)


def test_stereoset_variants_differ_on_multi_piece_words_only(mlm):
    path = FIXTURES / "stereoset_pieces.json"
    official = bt.stereoset(mlm, path).items.set_index("sentence_id")
    in_sentence = bt.stereoset(mlm, path, variant="within_word_l2r").items.set_index("sentence_id")
    assert official.loc[official.word == "welloff"].n_pieces.item() == 2
    assert in_sentence.loc[official.word == "welloff"].word.item() == "well-off"
    single = (official.n_pieces == 1) & (official.word == in_sentence.word)
    assert single.sum() >= 3 and (~single).sum() >= 5
    np.testing.assert_allclose(official.score[single], in_sentence.score[single], rtol=1e-4)
    assert (np.abs(np.log(official.score[~single]) - np.log(in_sentence.score[~single])) > 1e-2).all()


def test_stereoset_end_to_end(mlm):
    result = bt.stereoset(mlm, FIXTURES / "stereoset_sample.json")
    assert len(result.items) == 30 and (result.items.n_pieces >= 1).all()
    assert set(result.to_frame().metric) == {"lms", "ss", "icat"}
    recomputed = stereoset_scores(result.items)
    assert result.metric("icat") == pytest.approx(recomputed.set_index("metric").value["icat"])
    assert 0 < result.items.score.iloc[0] <= 1
    example = read_stereoset(FIXTURES / "stereoset_sample.json")[0]
    assert example["context"].replace("BLANK", "thin") in set(result.items.sentence)
    with pytest.raises(InputError, match="variant"):
        bt.stereoset(mlm, FIXTURES / "stereoset_sample.json", variant="all_masks")


@pytest.mark.parametrize("variant", ["original", "within_word_l2r"])
def test_blimp_accuracy_from_pll(mlm, variant):
    result = bt.blimp(mlm, FIXTURES / "blimp_sample.jsonl", variant=variant, n_boot=20)
    for row in result.items.iloc[[0, 6]].itertuples():
        assert row.pll_good == pytest.approx(reference_pll(mlm, row.sentence_good, variant), abs=1e-4)
        assert row.pll_bad == pytest.approx(reference_pll(mlm, row.sentence_bad, variant), abs=1e-4)
    assert result.items.accuracy.tolist() == (result.items.pll_good > result.items.pll_bad).astype(float).tolist()
    groups = set(result.to_frame().group)
    assert {"all", "anaphor_gender_agreement", "left_branch_island_simple_question", "syntax", "morphology"} <= groups


@pytest.mark.parametrize("name, fmt", [("lgd_sample.tsv", "lgd"), ("generated_sample.tab", "gulordava"),
                                       ("marvin_sample.tsv", "marvin")])
def test_agreement_stimuli_equal_eval_bert(mlm, name, fmt):
    result = bt.agreement_stimuli(mlm, FIXTURES / name, n_boot=20)
    frame, counts = read_agreement(FIXTURES / name)
    assert result.meta["n_skipped"] + len(result.items) == len(frame)
    assert result.meta["n_is_are"] == counts["n_is_are"] == (2 if fmt == "gulordava" else 0)
    expected = [(row.line, reference_goldberg(mlm, row.masked, row.good, row.bad)) for row in frame.itertuples()]
    expected = [(line, scores) for line, scores in expected if scores is not None]
    assert result.items.line.tolist() == [line for line, _ in expected]
    got = (result.items.log_p_good - result.items.log_p_bad).to_numpy()
    np.testing.assert_allclose(got, [good - bad for _, (good, bad) in expected], atol=1e-4)
    assert result.metric() == pytest.approx(np.mean([good > bad for _, (good, bad) in expected]))


def test_agreement_skips_is_are_of_generated_tab_unless_asked(mlm):
    default = bt.agreement_stimuli(mlm, FIXTURES / "generated_sample.tab", n_boot=20)
    assert not set(default.items.good) & {"is", "are"}
    assert default.meta["n_is_are"] == 2 and default.meta["include_is_are"] is False and len(default.items) == 4
    every = bt.agreement_stimuli(mlm, FIXTURES / "generated_sample.tab", include_is_are=True, n_boot=20)
    assert every.meta["n_is_are"] == 0 and len(every.items) == 6 and {"is", "are"} <= set(every.items.good)
    lgd = bt.agreement_stimuli(mlm, FIXTURES / "lgd_sample.tsv", n_boot=20)
    assert {"is", "are"} <= set(lgd.items.good) and lgd.meta["n_is_are"] == 0


def test_agreement_skips_multi_piece_forms(mlm):
    result = bt.agreement_stimuli(mlm, FIXTURES / "lgd_sample.tsv", n_boot=20)
    assert result.meta["n_skipped"] >= 1
    assert "prevaricate" not in set(result.items.good)


def test_agreement_errors_name_file_and_line(mlm, tmp_path):
    path = tmp_path / "lgd.tsv"
    lines = (FIXTURES / "lgd_sample.tsv").read_text().splitlines()
    path.write_text("\n".join(lines[:2] + ["", "0\tlong\t" + "word " * 200 + "***mask*** .\tis\tare"]) + "\n")
    with pytest.raises(InputError, match=rf"{path.name}:4: .*at most 128"):
        bt.agreement_stimuli(mlm, path, n_boot=20)
