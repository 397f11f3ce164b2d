"""probe_layers: cross-validation, official split, control tasks, seeds and the random encoder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from bertology.analyses.probes import control_task_labels, fold_splits, probe_layers
from bertology.core.data import ProbeDataset
from bertology.core.errors import InputError


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
    assert first.meta["cv"] == "official split"


def test_fold_splits_are_stratified_seeded_and_checked():
    labels = np.array([0] * 10 + [1] * 5)
    splits = fold_splits(labels, 5, seed=1)
    assert all(np.bincount(labels[test]).tolist() == [2, 1] for _, test in splits)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(splits, fold_splits(labels, 5, seed=1)))
    with pytest.raises(InputError, match="rarest class"):
        fold_splits(labels, 6)
    with pytest.raises(InputError, match="no official|has none"):
        fold_splits(labels, None)


def _noisy_features():
    rng = np.random.default_rng(4)
    features = {0: rng.normal(size=(90, 3)), 1: rng.normal(size=(90, 3))}
    labels = (features[1][:, 0] + rng.normal(size=90) > 0).astype(int)
    return features, _dataset(labels, [f"w{i % 9}" for i in range(90)])


def test_several_seeds_pool_the_folds_of_one_run_per_seed():
    features, data = _noisy_features()
    runs = [probe_layers(features, data, cv=3, seed=s, progress=False).to_frame() for s in (0, 1, 2)]
    pooled = probe_layers(features, data, cv=3, seed=[0, 1, 2], progress=False)
    frame = pooled.to_frame()
    assert (frame.query("metric == 'accuracy'")["n"] == 9).all() and pooled.meta["seed"] == [0, 1, 2]
    for column in ("mean", "control", "baseline"):
        np.testing.assert_allclose(frame[column], np.mean([run[column] for run in runs], axis=0))
    assert not np.allclose(runs[0]["mean"], runs[1]["mean"])


def test_an_int_seed_is_one_run_with_that_seed():
    features, data = _noisy_features()
    one = probe_layers(features, data, cv=3, seed=5, progress=False)
    listed = probe_layers(features, data, cv=3, seed=[5], progress=False)
    pd.testing.assert_frame_equal(one.to_frame(), listed.to_frame())
    assert one.meta["seed"] == [5] and (one.to_frame()["n"] == 3).all()
    pd.testing.assert_frame_equal(probe_layers(features, data, cv=3, progress=False).to_frame(),
                                  probe_layers(features, data, cv=3, seed=0, progress=False).to_frame())
    with pytest.raises(InputError, match="seed"):
        probe_layers(features, data, seed=[])


def test_probe_layers_on_a_tiny_model_with_random_encoder(tiny_model):
    model = tiny_model("bert")
    data = ProbeDataset(["the bank is open", "a river bank", "the bank closed", "the muddy bank"] * 4,
                        np.array([0, 1, 0, 1] * 4), ["money", "river"], words=[1, 2, 1, 2] * 4)
    result = probe_layers(model, data, layers="0,1", cv=2, random_encoder=True, progress=False)
    frame = result.to_frame()
    assert set(frame["encoder"]) == {"trained", "random"} and set(frame["layer"]) == {0, 1}
    assert result.meta["pool"] == "word_mean"
    assert (result.to_frame("random")["control"].isna()).all()
    with pytest.raises(InputError, match="random_encoder"):
        probe_layers({0: np.zeros((16, 2))}, data, random_encoder=True)


@pytest.mark.parametrize("cv", [1, 0, -3, 2.5, False])
def test_a_cv_below_two_is_refused_with_the_fix(cv):
    labels = np.array([0, 1] * 10)
    with pytest.raises(InputError, match="cv must be >= 2 folds"):
        fold_splits(labels, cv)
    with pytest.raises(InputError, match="cv must be >= 2 folds"):
        probe_layers({0: np.zeros((20, 2))}, _dataset(labels), cv=cv, progress=False)


def test_data_of_one_class_is_refused_instead_of_scoring_accuracy_one():
    features = {0: np.random.default_rng(0).normal(size=(10, 3))}
    with pytest.raises(InputError, match=r"has one class \('b', 10 items\).*at least two classes"):
        probe_layers(features, _dataset([1] * 10), cv=2, progress=False)
    with pytest.raises(InputError, match="has one class"):
        fold_splits(np.zeros(10, dtype=int), 2)


def test_an_official_split_whose_training_rows_hold_one_class_is_refused():
    labels = np.array([0, 0, 0, 1, 1])
    split = np.array(["train", "train", "train", "test", "test"])
    with pytest.raises(InputError, match="training rows of the official split has one class"):
        fold_splits(labels, None, split=split)
