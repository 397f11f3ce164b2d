"""ERASER comprehensiveness, sufficiency and AOPC against hand computations; rank agreement; the result's files."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import bertology as bt
from bertology.analyses.attribution import FaithfulnessResult
from bertology.analyses.attribution.faithfulness import BINS, rank_agreement, rationale_size
from bertology.analyses.attribution.result import AttributionResult
from bertology.analyses.attribution.words import tokenize_words
from bertology.core.errors import InputError
from tests.unit.analyses.attribution.toys import toy_classifier


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


@pytest.fixture(scope="module")
def toy(minilm):
    return toy_classifier(minilm.tokenizer, {"great": 3.0, "film": 1.0, "[MASK]": 0.5})


def _result(clf, text, word_scores, method="integrated_gradients"):
    tokenized = tokenize_words(clf, text)
    token_scores = [word_scores[w] if w >= 0 else 0.0 for w in tokenized.token_words]
    return AttributionResult(tokenized.text, tokenized.tokens, tokenized.token_words.tolist(), token_scores,
                             tokenized.words, list(word_scores), "positive", 1, method, 0.0)


def test_comprehensiveness_and_sufficiency_equal_hand_computation(toy):
    result = _result(toy, "a great film today", [0.0, 3.0, 1.0, 0.0])
    scores = bt.faithfulness(toy, [result]).scores.set_index("bin")
    p = sigmoid(4)
    assert scores["k"].tolist() == [1, 1, 1, 1, 2]
    for percent in (1, 5, 10, 20):
        assert scores.loc[percent, "comprehensiveness"] == pytest.approx(p - sigmoid(1), abs=1e-6)
        assert scores.loc[percent, "sufficiency"] == pytest.approx(p - sigmoid(3), abs=1e-6)
    assert scores.loc[50, "comprehensiveness"] == pytest.approx(p - 0.5, abs=1e-6)
    assert scores.loc[50, "sufficiency"] == pytest.approx(0.0, abs=1e-12)
    summary = bt.faithfulness(toy, [result]).summary().iloc[0]
    assert summary["aopc_comprehensiveness"] == pytest.approx((4 * (p - sigmoid(1)) + p - 0.5) / 5, abs=1e-6)
    assert summary["aopc_sufficiency"] == pytest.approx(4 * (p - sigmoid(3)) / 5, abs=1e-6)


def test_mask_removal_puts_mask_tokens_in_place(toy):
    result = _result(toy, "a great film today", [0.0, 3.0, 1.0, 0.0])
    scores = bt.faithfulness(toy, [result], removal="mask").scores.set_index("bin")
    p = sigmoid(4)
    assert scores.loc[1, "comprehensiveness"] == pytest.approx(p - sigmoid(1 + 0.5), abs=1e-6)
    assert scores.loc[1, "sufficiency"] == pytest.approx(p - sigmoid(3 + 3 * 0.5), abs=1e-6)


def test_batch_size_does_not_change_the_scores(toy):
    results = [_result(toy, "a great film today", [0.0, 3.0, 1.0, 0.0]), _result(toy, "great", [1.0])]
    one = bt.faithfulness(toy, results, batch_size=1).scores
    pd.testing.assert_frame_equal(one, bt.faithfulness(toy, results, batch_size=64).scores, atol=1e-7)


def test_rationale_sizes():
    assert [rationale_size(100, b) for b in BINS] == [1, 5, 10, 20, 50]
    assert [rationale_size(3, b) for b in BINS] == [1, 1, 1, 1, 2]


def test_rank_agreement_between_methods(toy):
    a = _result(toy, "a great film today", [0.0, 3.0, 1.0, -1.0])
    b = _result(toy, "a great film today", [0.1, 2.0, 1.0, -2.0], method="lime")
    c = _result(toy, "great", [1.0], method="lime")
    table = rank_agreement([a, b, c])
    assert len(table) == 1
    assert table.loc[0, "spearman"] == pytest.approx(1.0)
    assert table.loc[0, "kendall"] == pytest.approx(1.0)
    faith = bt.faithfulness(toy, [a, b, c])
    assert faith.agreement.shape[0] == 1 and sorted(faith.scores["item"].unique()) == [0, 1]


def test_rank_agreement_equals_scipy_with_ties_constants_and_repeated_methods(toy):
    from scipy import stats

    rng = np.random.default_rng(3)
    text = "a great film today in the city"
    scores = [rng.integers(0, 4, 7).astype(float) for _ in range(4)] + [np.zeros(7)]
    methods = ["integrated_gradients", "lime", "saliency", "lime", "occlusion"]
    results = [_result(toy, text, s, method=m) for s, m in zip(scores, methods)]
    table = rank_agreement(results)
    expected = [(a, b) for a in range(5) for b in range(a + 1, 5) if methods[a] != methods[b]]
    assert len(table) == len(expected)
    for row, (a, b) in zip(table.itertuples(), expected):
        assert (row.method_a, row.method_b) == (methods[a], methods[b])
        rho = stats.spearmanr(scores[a], scores[b]).statistic
        tau = stats.kendalltau(scores[a], scores[b]).statistic
        np.testing.assert_allclose([row.spearman, row.kendall], [rho, tau], atol=1e-12, equal_nan=True)
    assert table["spearman"].isna().sum() == 4 and table["spearman"].notna().sum() == 5


def test_result_table_plot_and_round_trip(toy, tmp_path):
    results = [_result(toy, "a great film today", [0.0, 3.0, 1.0, 0.0]),
               _result(toy, "a great film today", [1.0, 0.0, 0.0, 2.0], method="lime")]
    faith = bt.faithfulness(toy, results)
    frame = faith.to_frame()
    assert set(frame.columns) == {"method", "bin", "comprehensiveness", "sufficiency"} and len(frame) == 10
    summary = faith.summary().set_index("method")
    assert summary.loc["integrated_gradients", "aopc_comprehensiveness"] > summary.loc["lime",
                                                                                       "aopc_comprehensiveness"]
    assert isinstance(faith.plot(), Figure)
    out = faith.save(tmp_path / "faith")
    assert sorted(p.name for p in out.iterdir()) == ["faithfulness.csv", "faithfulness.json", "rank_agreement.csv",
                                                     "result.json"]
    loaded = FaithfulnessResult.load(out)
    pd.testing.assert_frame_equal(loaded.scores, faith.scores, check_dtype=False)
    pd.testing.assert_frame_equal(loaded.agreement, faith.agreement, check_dtype=False)
    assert loaded.removal == "remove"


def test_result_without_agreement_round_trips(toy, tmp_path):
    faith = bt.faithfulness(toy, [_result(toy, "great film", [1.0, 0.0])], removal="mask")
    assert faith.agreement.empty
    loaded = FaithfulnessResult.load(faith.save(tmp_path))
    assert loaded.agreement.empty and list(loaded.agreement.columns) == list(faith.agreement.columns)
    assert loaded.removal == "mask"
    pd.testing.assert_frame_equal(loaded.summary(), faith.summary(), check_dtype=False)


def test_bad_inputs(toy, minilm, tiny_model):
    with pytest.raises(InputError, match="at least one"):
        bt.faithfulness(toy, [])
    with pytest.raises(InputError, match="removal"):
        bt.faithfulness(toy, [_result(toy, "great", [1.0])], removal="zero")
    other = bt.Classifier.from_pretrained(tiny_model("roberta", "classifier"))
    with pytest.raises(InputError, match="another tokenizer"):
        bt.faithfulness(other, [_result(toy, "great film", [1.0, 0.0])])


def _probabilities_by_hand(clf, result, k):
    """p(y|x), p(y|x without its top-k words) and p(y|those words only), each edited text tokenized anew."""
    top = sorted(range(len(result.words)), key=lambda i: -result.word_scores[i])[:k]
    without = " ".join(w for i, w in enumerate(result.words) if i not in top)
    only = " ".join(w for i, w in enumerate(result.words) if i in top)
    return clf.predict_proba([result.text, without, only])[:, result.target_index]


def test_faithfulness_of_real_attributions(tiny_model):
    clf = bt.Classifier.from_pretrained(tiny_model("distilbert", "classifier"))
    texts = ["the film was great", "the boys hated the city"]
    results = [bt.attribute(clf, t, n_steps=5) for t in texts] + [
        bt.attribute(clf, t, method="lime", num_samples=40) for t in texts]
    faith = bt.faithfulness(clf, results)
    assert len(faith.scores) == 4 * len(BINS) and len(faith.agreement) == 2
    assert np.all(np.abs(faith.scores[["comprehensiveness", "sufficiency"]].to_numpy()) <= 1)
    scores = faith.scores
    for result in (results[0], results[3]):
        item = texts.index(result.text)
        row = scores[(scores["item"] == item) & (scores["method"] == result.method) & (scores["bin"] == 50)].iloc[0]
        p_full, p_without, p_only = _probabilities_by_hand(clf, result, row["k"])
        assert row["p_full"] == pytest.approx(p_full, abs=1e-7)
        assert row["comprehensiveness"] == pytest.approx(p_full - p_without, abs=1e-7)
        assert row["sufficiency"] == pytest.approx(p_full - p_only, abs=1e-7)
