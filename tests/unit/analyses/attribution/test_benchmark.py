import contextlib
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

import bertology as bt
from bertology.analyses.attribution.benchmark import (
    ExplanationBenchmark,
    _pairs,
    explanation_benchmark,
)
from bertology.analyses.attribution.result import AttributionResult
from bertology.core.errors import InputError

TEXTS = ["the film was great", "hated it", "a long , dull and tedious city film", "loved the boys"]
METHODS = ["saliency", "input_x_gradient", "integrated_gradients", "deeplift", "occlusion", "lime", "kernel_shap",
           "gradient_shap"]
OPTIONS = {"n_steps": 8, "num_samples": 40, "n_samples": 6}
FIXTURE = "tests/fixtures/eraser"


@pytest.fixture(scope="module")
def bench(clf):
    return explanation_benchmark(clf, TEXTS, methods=METHODS, n_boot=50, progress=False, **OPTIONS)


@pytest.fixture(scope="module")
def separate(clf):
    """Each method through bt.attribute, one text at a time."""
    return [bt.attribute(clf, text, method=method, **{k: v for k, v in OPTIONS.items()
                                                      if k in bt.analyses.attribution.get_method(method).options})
            for text in TEXTS for method in METHODS]


def test_batched_attributions_equal_one_text_at_a_time(bench, separate):
    assert [(r.text, r.method) for r in bench.attributions] == [(r.text, r.method) for r in separate]
    for ours, alone in zip(bench.attributions, separate):
        assert ours.target_index == alone.target_index
        np.testing.assert_allclose(ours.word_scores, alone.word_scores, atol=1e-6, rtol=1e-4)
        np.testing.assert_allclose(ours.probability, alone.probability, atol=1e-5)
        if alone.delta is not None:
            np.testing.assert_allclose(ours.delta, alone.delta, atol=1e-5)


def test_faithfulness_equals_faithfulness_of_separate_attributions(clf, bench, separate):
    expected = bt.faithfulness(clf, separate).scores
    ours = bench.faithfulness
    assert ours["method"].tolist() == expected["method"].tolist()
    assert ours["example"].tolist() == expected["item"].tolist()
    for column in ("comprehensiveness", "sufficiency", "p_full", "p_without", "p_only"):
        np.testing.assert_allclose(ours[column], expected[column], atol=1e-5)
    aopc = expected.groupby(["method", "item"])[["comprehensiveness", "sufficiency"]].mean()
    for row in bench.scores.itertuples():
        assert row.aopc_comprehensiveness == pytest.approx(aopc.loc[(row.method, row.example), "comprehensiveness"],
                                                           abs=1e-6)
        assert row.aopc_sufficiency == pytest.approx(aopc.loc[(row.method, row.example), "sufficiency"], abs=1e-6)


def test_shared_probabilities_change_no_number_and_save_forward_passes(clf, bench, monkeypatch):
    def rows_run(run):
        rows = []
        handle = clf.network.register_forward_hook(lambda module, args, output: rows.append(args[0].shape[0]))
        try:
            return run(), sum(rows)
        finally:
            handle.remove()

    methods = ["occlusion", "lime", "kernel_shap", "attention"]
    run = lambda: explanation_benchmark(clf, TEXTS, methods=methods, n_boot=50, progress=False, num_samples=40)
    shared, shared_rows = rows_run(run)
    monkeypatch.setattr(type(clf), "memoized", contextlib.nullcontext)
    alone, alone_rows = rows_run(run)
    assert shared_rows < 0.8 * alone_rows
    for ours, expected in zip(shared.attributions, alone.attributions):
        # a text's probability comes from whichever padded batch ran it first: float32 noise only
        np.testing.assert_allclose(ours.word_scores, expected.word_scores, atol=5e-6)
        assert ours.probability == pytest.approx(expected.probability, abs=5e-6)
    for column in ("p_full", "p_without", "p_only"):
        np.testing.assert_allclose(shared.faithfulness[column], alone.faithfulness[column], atol=1e-5)


def test_saliency_and_input_x_gradient_share_one_gradient_pass(clf):
    passes = []
    handle = clf.network.register_forward_hook(lambda *args: passes.append(1) if torch.is_grad_enabled() else None)
    try:
        both = explanation_benchmark(clf, TEXTS, methods=["saliency", "input_x_gradient"], n_boot=10, progress=False)
        shared = len(passes)
        passes.clear()
        alone = [explanation_benchmark(clf, TEXTS, methods=[m], n_boot=10, progress=False)
                 for m in ["saliency", "input_x_gradient"]]
    finally:
        handle.remove()
    assert shared == 1 and len(passes) == 2
    for ours, expected in zip(both.attributions, [r for pair in zip(*[a.attributions for a in alone]) for r in pair]):
        assert ours.method == expected.method
        np.testing.assert_allclose(ours.word_scores, expected.word_scores, atol=1e-7)


def test_dataset_means_and_intervals(bench):
    table = bench.to_frame()
    assert set(table["metric"]) == {"aopc_comprehensiveness", "aopc_sufficiency", "time_per_example_s"}
    lime = table.set_index(["method", "metric"]).loc[("lime", "aopc_comprehensiveness")]
    assert lime["mean"] == pytest.approx(bench.scores.query("method == 'lime'")["aopc_comprehensiveness"].mean())
    assert lime["low"] <= lime["mean"] <= lime["high"]
    assert (bench.scores["time_s"] > 0).all()


def test_agreement_with_itself_is_one_and_pairs_match_scipy(bench, separate):
    for statistic in ("spearman", "kendall"):
        matrix = bench.agreement(statistic)
        assert list(matrix.index) == METHODS and list(matrix.columns) == METHODS
        np.testing.assert_allclose(np.diag(matrix), 1.0)
        np.testing.assert_allclose(matrix, matrix.T)
    by_key = {(r.text, r.method): r.word_scores for r in separate}
    expected = np.mean([stats.spearmanr(by_key[(t, "lime")], by_key[(t, "integrated_gradients")]).statistic
                        for t in TEXTS])
    assert bench.agreement().loc["lime", "integrated_gradients"] == pytest.approx(expected, abs=1e-6)


def test_pairs_equal_scipy_with_ties_and_constant_scores():
    rng = np.random.default_rng(0)
    names = ["a", "b", "c", "d"]
    results = []
    for n in (1, 2, 5, 12):
        scores = [rng.normal(size=n).round(1), np.full(n, 0.5), rng.integers(0, 3, n).astype(float), None]
        scores[3] = -scores[0]
        results.append([AttributionResult("t", [], [], [], ["w"] * n, s.tolist(), "p", 1, m, 0.5)
                        for m, s in zip(names, scores)])
    pairs = _pairs(results, names)
    assert len(pairs) == 3 * 16 and pairs["example"].unique().tolist() == [1, 2, 3]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row in pairs.itertuples():
            first, second = (results[row.example][names.index(m)].word_scores for m in (row.method_a, row.method_b))
            np.testing.assert_allclose(row.spearman, stats.spearmanr(first, second).statistic, atol=1e-12)
            np.testing.assert_allclose(row.kendall, stats.kendalltau(first, second).statistic, atol=1e-12)


def test_plausibility_rows_equal_plausibility(clf):
    rationales = bt.load_eraser(FIXTURE)
    bench = explanation_benchmark(clf, methods=["saliency", "occlusion"], rationales=FIXTURE, n_boot=50,
                                  progress=False)
    separate = [bt.attribute(clf, r.text, method=m) for m in ("saliency", "occlusion") for r in rationales]
    expected = bt.plausibility(separate, rationales, n_boot=50)
    pd.testing.assert_frame_equal(bench.plausibility, expected.frame, atol=1e-9)
    summary = expected.summary().set_index(["method", "metric"])
    table = bench.to_frame().set_index(["method", "metric"])
    for metric in ("token_f1", "iou_f1", "auprc"):
        assert table.loc[("occlusion", metric), "mean"] == pytest.approx(summary.loc[("occlusion", metric), "value"])


def test_save_load_and_plot(bench, tmp_path):
    loaded = ExplanationBenchmark.load(bench.save(tmp_path))
    pd.testing.assert_frame_equal(loaded.to_frame(), bench.to_frame())
    pd.testing.assert_frame_equal(loaded.agreement(), bench.agreement())
    assert [r.word_scores for r in loaded.attributions] == [r.word_scores for r in bench.attributions]
    assert len(bench.plot().axes) == 2


@pytest.mark.parametrize("kwargs, message", [
    ({"texts": TEXTS, "n_stepz": 3}, "n_stepz"),
    ({"texts": TEXTS, "target": ["positive"]}, "1 targets for 4 texts"),
    ({"texts": TEXTS, "methods": ["salience"]}, "Unknown attribution method"),
    ({"texts": TEXTS, "options": {"lime": {"n_steps": 3}}}, "lime does not take"),
    ({"texts": ["x"], "rationales": FIXTURE}, "not the rationales' documents"),
    ({"texts": []}, "No texts"),
])
def test_bad_input(clf, kwargs, message):
    with pytest.raises(InputError, match=message):
        explanation_benchmark(clf, progress=False, **kwargs)


def test_exported():
    assert bt.explanation_benchmark is explanation_benchmark


def test_noisy_gradient_shap_runs_text_by_text_as_attribute(clf):
    bench = explanation_benchmark(clf, TEXTS[:2], methods=["gradient_shap"], n_boot=10, progress=False,
                                  options={"gradient_shap": {"stdevs": 0.1, "n_samples": 4}})
    for text, ours in zip(TEXTS[:2], bench.attributions):
        alone = bt.attribute(clf, text, method="gradient_shap", stdevs=0.1, n_samples=4)
        np.testing.assert_allclose(ours.word_scores, alone.word_scores, atol=1e-6)
        assert ours.parameters["stdevs"] == 0.1
