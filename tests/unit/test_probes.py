"""LinearProbe, probe_layers, control tasks, MDL and the probe result type."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from bertology.core.data import ProbeDataset
from bertology.core.errors import InputError, StoreError
from bertology.analyses.probes import (LinearProbe, ProbeResult, block_ends, control_task_labels, fold_splits,
                              majority_predictions, online_codelength, probe_layers, random_encoder, selectivity)
from bertology.analyses.probes.metrics import accuracy, macro_f1
from bertology.core.stats import bootstrap_ci, mean_ci
from bertology.analyses.probes.solver import fit_predict_proba


@parametrize_with_checks([LinearProbe()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_linear_probe_matches_sklearn_logistic_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8)) * [1, 2, 3, 4, 5, 6, 7, 8] + 3
    y = (X @ rng.normal(size=8) + rng.normal(size=300) > 3).astype(int)
    ours, theirs = LinearProbe().fit(X, y), LogisticRegression(max_iter=1000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-3)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-2)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-3)


def test_batched_probes_each_reach_their_own_sklearn_optimum():
    rng = np.random.default_rng(3)
    n, d = 400, 10
    features = rng.normal(size=(3, n, d)) * np.arange(1, d + 1)
    features[2] *= 0.01  # a badly scaled problem beside well-scaled ones
    labels = np.stack([(x @ rng.normal(size=d) + rng.normal(size=n) * s > 0).astype(int)
                       for x, s in zip(features, (0.1, 5.0, 0.001))])  # nearly separable, noisy, separable
    batched = fit_predict_proba(features, labels, features, 2, dtype=torch.float64)
    for x, y, proba in zip(features, labels, batched):
        expected = LogisticRegression(max_iter=10_000, tol=1e-10).fit(x, y).predict_proba(x)
        np.testing.assert_allclose(proba, expected, atol=1e-3)


def test_linear_probe_multiclass_matches_sklearn_logistic_regression():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 400)
    X = rng.normal(size=(400, 6)) * [1, 2, 3, 4, 5, 6] + 2 + np.eye(4, 6)[y] * 3
    ours, theirs = LinearProbe().fit(X, y), LogisticRegression(max_iter=1000, tol=1e-8).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-3)
    np.testing.assert_allclose(ours.coef_ - ours.coef_.mean(0), theirs.coef_ - theirs.coef_.mean(0), atol=1e-3)


def test_linear_probe_multiclass_shapes_and_accuracy():
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0], [4, 0], [0, 4]])
    y = rng.integers(0, 3, 300)
    X = centres[y] + rng.normal(size=(300, 2))
    probe = LinearProbe().fit(X, np.array(["a", "b", "c"])[y])
    assert probe.coef_.shape == (3, 2) and probe.intercept_.shape == (3,)
    assert probe.score(X, np.array(["a", "b", "c"])[y]) > 0.9
    assert abs(probe.score(X, np.array(["a", "b", "c"])[y])
               - LogisticRegression().fit(X, y).score(X, y)) <= 0.01


def _dataset(labels, types=None, split=None):
    texts = list(types) if types is not None else [f"item {i}" for i in range(len(labels))]
    return ProbeDataset(texts, np.asarray(labels), ["a", "b"], split=split)


def test_accuracy_peaks_at_the_only_informative_layer():
    rng = np.random.default_rng(0)
    n, d = 200, 16
    features = {layer: rng.normal(size=(n, d)) for layer in range(5)}
    labels = (features[2] @ rng.normal(size=d) > 0).astype(int)
    result = probe_layers(features, _dataset(labels), cv=5, controls=False, progress=False)
    accuracy = result.to_frame().query("metric == 'accuracy'").set_index("layer")["mean"]
    assert result.best_layer() == 2
    assert accuracy[2] > 0.9 and accuracy.drop(2).max() < 0.7


def test_control_labels_are_a_fixed_function_of_word_type():
    types = ["bank", "bat", "bank", "apple", "bat", "bank"] * 5
    labels = np.array([0, 1, 1, 0, 1, 0] * 5)
    control = control_task_labels(types, labels, seed=3)
    for word in set(types):
        assert len(set(control[[i for i, t in enumerate(types) if t == word]])) == 1
    np.testing.assert_array_equal(control, control_task_labels(types, labels, seed=3))
    assert set(control) <= set(labels)
    with pytest.raises(InputError, match="one word type per label"):
        control_task_labels(types[:3], labels)


def test_control_labels_follow_the_empirical_distribution():
    types = [f"w{i}" for i in range(4000)]
    labels = np.array([0] * 3000 + [1] * 1000)
    assert abs(control_task_labels(types, labels).mean() - 0.25) < 0.03


def test_selectivity_is_task_minus_control_accuracy():
    rng = np.random.default_rng(0)
    types = [f"w{i % 10}" for i in range(100)]
    features = {0: rng.normal(size=(100, 4)), 1: rng.normal(size=(100, 4))}
    labels = (features[1][:, 0] > 0).astype(int)
    frame = probe_layers(features, _dataset(labels, types), cv=5, progress=False).to_frame()
    np.testing.assert_allclose(frame["selectivity"], frame["mean"] - frame["control"])
    assert frame["control"].notna().all()
    control = control_task_labels(types, labels, 0)
    by_hand = np.mean([LogisticRegression().fit(features[1][train], control[train])
                       .score(features[1][test], control[test]) for train, test in fold_splits(labels, 5, 0)])
    layer_1 = frame.query("layer == 1 and metric == 'accuracy'").iloc[0]
    assert layer_1["control"] == pytest.approx(by_hand, abs=0.02)
    assert layer_1["selectivity"] > 0.2
    assert selectivity(0.9, 0.6) == pytest.approx(0.3)


class RowSpy(ClassifierMixin, BaseEstimator):
    """Records which rows (feature 0 is the row id) it is fitted on and asked to predict."""

    calls: list = []

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        RowSpy.calls.append(("fit", set(X[:, 0].astype(int))))
        return self

    def predict(self, X):
        RowSpy.calls.append(("predict", set(X[:, 0].astype(int))))
        return np.zeros(len(X), dtype=int)


def test_cross_validation_never_fits_on_test_rows():
    RowSpy.calls = []
    n = 50
    features = {layer: np.column_stack([np.arange(n), np.ones(n)]) for layer in (0, 1)}
    probe_layers(features, _dataset(np.arange(n) % 2), cv=5, estimator=RowSpy(), controls=False, progress=False)
    fits = [rows for kind, rows in RowSpy.calls if kind == "fit"]
    predicts = [rows for kind, rows in RowSpy.calls if kind == "predict"]
    assert len(fits) == len(predicts) == 10
    for fitted, predicted in zip(fits, predicts):
        assert not fitted & predicted and len(fitted | predicted) == n
    assert set().union(*predicts) == set(range(n))


def test_official_split_fit_ignores_test_labels():
    rng = np.random.default_rng(0)
    n = 80
    features = {0: rng.normal(size=(n, 3)), 1: rng.normal(size=(n, 3))}
    labels = (features[1][:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    split = np.array(["train"] * 60 + ["test"] * 20)
    flipped = labels.copy()
    flipped[60:] = 1 - flipped[60:]
    first = probe_layers(features, _dataset(labels, split=split), cv=None, controls=False, progress=False)
    second = probe_layers(features, _dataset(flipped, split=split), cv=None, controls=False, progress=False)
    a = first.to_frame().query("metric == 'accuracy'")["mean"].to_numpy()
    b = second.to_frame().query("metric == 'accuracy'")["mean"].to_numpy()
    np.testing.assert_allclose(a + b, 1.0)


def test_fold_splits_are_stratified_seeded_and_checked():
    labels = np.array([0] * 10 + [1] * 5)
    splits = fold_splits(labels, 5, seed=1)
    assert all(np.bincount(labels[test]).tolist() == [2, 1] for _, test in splits)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(splits, fold_splits(labels, 5, seed=1)))
    with pytest.raises(InputError, match="rarest class"):
        fold_splits(labels, 6)
    with pytest.raises(InputError, match="no official|has none"):
        fold_splits(labels, None)


def test_mdl_codelength_matches_hand_computation():
    labels = np.array([0, 0, 1, 0, 1, 1, 0, 0])
    score = online_codelength(np.zeros((8, 1)), labels, 2, portions=(25, 50, 100), estimator=DummyClassifier(),
                              shuffle=False)[0]
    first = 2 * math.log2(2)                                  # uniform code for items 0-1
    second = -math.log2(1 / 4) - math.log2(3 / 4)             # Laplace prior from [0, 0]: p0 = 3/4
    third = 2 * -math.log2(1 / 4) + 2 * -math.log2(3 / 4)     # prior of [0, 0, 1, 0]: p0 = 3/4
    assert score.codelength == pytest.approx(first + second + third)
    assert score.compression == pytest.approx(8 / (first + second + third))


def test_mdl_block_ends_follow_voita_titov_portions():
    assert block_ends(10000) == [10, 20, 40, 80, 160, 320, 625, 1250, 2500, 5000, 10000]
    assert block_ends(5, (50, 100)) == [2, 5]


def test_mdl_favours_the_informative_layer():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(2, 400, 5))
    labels = (features[1, :, 0] > 0).astype(int)
    scores = online_codelength(features, labels)
    assert scores[1].codelength < scores[0].codelength
    assert scores[1].compression > 2 > scores[0].compression * 1.5


def test_metrics_match_sklearn_and_intervals():
    rng = np.random.default_rng(0)
    truth, pred = rng.integers(0, 3, 50), rng.integers(0, 3, 50)
    assert macro_f1(truth, pred, 3) == pytest.approx(f1_score(truth, pred, average="macro"))
    mean, low, high = mean_ci(np.array([0.8, 0.9, 1.0]))
    assert (mean, round(low, 3), round(high, 3)) == (pytest.approx(0.9), 0.652, 1.148)
    low, high = bootstrap_ci((truth, pred), statistic=accuracy)
    assert low < (truth == pred).mean() < high
    rows = np.random.default_rng(0).integers(0, 50, size=(1000, 50))
    by_hand = np.quantile((truth[rows] == pred[rows]).mean(axis=1), [0.025, 0.975])
    assert (low, high) == pytest.approx(tuple(by_hand))
    assert bootstrap_ci((truth == pred).astype(float)) == (low, high)
    assert majority_predictions(np.array([1, 2, 2]), 3).tolist() == [2, 2, 2]


def test_result_table_save_load_and_plots(tmp_path):
    rng = np.random.default_rng(0)
    features = {layer: rng.normal(size=(60, 4)) for layer in range(3)}
    labels = (features[2][:, 0] > 0).astype(int)
    result = probe_layers(features, _dataset(labels, [f"w{i % 7}" for i in range(60)]), cv=3, mdl=True,
                          progress=False)
    frame = result.to_frame()
    assert frame.columns.tolist() == ["encoder", "layer", "metric", "mean", "ci_low", "ci_high", "n", "baseline",
                                      "control", "selectivity"]
    assert set(frame["metric"]) == {"accuracy", "macro_f1", "mdl_codelength", "mdl_compression"}
    acc = frame.query("metric == 'accuracy'")
    assert np.allclose(acc["baseline"], 0.5, atol=0.1) and (acc["n"] == 3).all()
    loaded = ProbeResult.load(result.save(tmp_path / "r"))
    pd.testing.assert_frame_equal(loaded.to_frame(), frame, check_dtype=False)
    assert isinstance(loaded.plot(), Figure) and isinstance(loaded.plot_selectivity(), Figure)
    with pytest.raises(StoreError):
        ProbeResult.load(tmp_path / "missing")


def test_random_encoder_reinitialises_deterministically(tiny_model):
    model = tiny_model("bert")
    first, second = random_encoder(model, seed=123), random_encoder(model, seed=123)
    name, weight = next((n, p) for n, p in model.model.named_parameters() if "query.weight" in n)
    fresh = dict(first.model.named_parameters())[name]
    assert not np.allclose(fresh.detach().numpy(), weight.detach().numpy())
    np.testing.assert_array_equal(fresh.detach().numpy(), dict(second.model.named_parameters())[name].detach().numpy())
    assert first.tokenizer is model.tokenizer and first.num_layers == model.num_layers


def test_probe_layers_on_a_tiny_model_with_random_encoder(tiny_model):
    model = tiny_model("bert")
    data = ProbeDataset(["the bank is open", "a river bank", "the bank closed", "the muddy bank"] * 4,
                        np.array([0, 1, 0, 1] * 4), ["money", "river"], words=[1, 2, 1, 2] * 4)
    result = probe_layers(model, data, layers="0,1", cv=2, random_encoder=True, progress=False)
    frame = result.to_frame()
    assert set(frame["encoder"]) == {"trained", "random"} and set(frame["layer"]) == {0, 1}
    assert result.meta["pool"] == "word_mean"
    with pytest.raises(InputError, match="random_encoder"):
        probe_layers({0: np.zeros((16, 2))}, data, random_encoder=True)
