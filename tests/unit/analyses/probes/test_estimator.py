"""LinearProbe: a scikit-learn estimator with the optimum of LogisticRegression."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from bertology.analyses.probes import LinearProbe
from bertology.core.errors import InputError


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


class _RunsCode:
    """Unpickling this creates ``path``: the kind of file a probe loader must never unpickle."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return Path.touch, (self.path,)


@pytest.mark.parametrize("labels", [[0, 1], ["neg", "pos"], ["a", "b", "c"], [7, -1, 3], [True, False]])
def test_save_and_load_round_trip(tmp_path, labels):
    rng = np.random.default_rng(3)
    y = np.array(labels)[rng.integers(0, len(labels), 120)]
    X = rng.normal(size=(120, 5)) + (y == labels[0])[:, None] * 2.0
    probe = LinearProbe(C=0.3, max_iter=50).fit(X, y)
    path = probe.save(tmp_path / "probe")
    assert path == tmp_path / "probe.npz"
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["classes_.npy", "coef_.npy", "intercept_.npy", "meta.npy"]
    loaded = LinearProbe.load(path)
    assert loaded.get_params() == {"C": 0.3, "max_iter": 50}
    assert loaded.classes_.tolist() == probe.classes_.tolist() and loaded.n_features_in_ == 5
    np.testing.assert_array_equal(loaded.predict_proba(X), probe.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), probe.predict(X))


def test_save_keeps_object_string_labels_and_refuses_unfitted(tmp_path):
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    probe = LinearProbe().fit(X, np.array(["no", "no", "yes", "yes"], dtype=object))
    assert LinearProbe.load(probe.save(tmp_path / "p.npz")).predict(X).tolist() == ["no", "no", "yes", "yes"]
    with pytest.raises(InputError, match="not fitted"):
        LinearProbe().save(tmp_path / "q.npz")
    with pytest.raises(InputError, match="Cannot write probe file"):
        probe.save(tmp_path / "missing" / "dir" / "p.npz")


def test_load_never_unpickles(tmp_path):
    marker = tmp_path / "code-ran"
    for name, dump in (("probe.joblib", joblib.dump), ("probe.pkl", lambda o, p: Path(p).write_bytes(
            pickle.dumps(o)))):
        dump(_RunsCode(marker), tmp_path / name)
        with pytest.raises(InputError, match=f"{name} is not a LinearProbe.*pickle"):
            LinearProbe.load(tmp_path / name)
    with open(tmp_path / "objects.npz", "wb") as handle:
        np.savez(handle, coef_=np.array([_RunsCode(marker)], dtype=object), intercept_=np.zeros(1),
                 classes_=np.arange(2), meta=np.array("{}"))
    with pytest.raises(InputError, match="objects.npz"):
        LinearProbe.load(tmp_path / "objects.npz")
    assert not marker.exists()


def test_load_names_a_missing_damaged_or_foreign_file(tmp_path):
    probe = LinearProbe().fit([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]], [0, 0, 1, 1])
    good = probe.save(tmp_path / "good.npz")
    with pytest.raises(InputError, match="missing.npz does not exist"):
        LinearProbe.load(tmp_path / "missing.npz")
    (tmp_path / "cut.npz").write_bytes(good.read_bytes()[:200])
    with pytest.raises(InputError, match="cut.npz .*damaged"):
        LinearProbe.load(tmp_path / "cut.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(InputError, match="single.npy"):
        LinearProbe.load(tmp_path / "single.npy")
    meta = {"format": "bertology.LinearProbe", "version": 1, "params": {"C": 1.0, "max_iter": 100},
            "n_features_in_": 2, "n_iter_": 3}
    cases = {"other.npz": {"coef_": np.zeros((1, 2)), "intercept_": np.zeros(1), "classes_": np.arange(2),
                           "meta": np.array(json.dumps({**meta, "format": "sklearn"}))},
             "shapes.npz": {"coef_": np.zeros((1, 3)), "intercept_": np.zeros(1), "classes_": np.arange(2),
                            "meta": np.array(json.dumps(meta))},
             "nan.npz": {"coef_": np.full((1, 2), np.nan), "intercept_": np.zeros(1), "classes_": np.arange(2),
                         "meta": np.array(json.dumps(meta))},
             "params.npz": {"coef_": np.zeros((1, 2)), "intercept_": np.zeros(1), "classes_": np.arange(2),
                            "meta": np.array(json.dumps({**meta, "params": {"solver": "x"}}))},
             "lacking.npz": {"coef_": np.zeros((1, 2)), "meta": np.array(json.dumps(meta))}}
    for name, arrays in cases.items():
        np.savez(tmp_path / name, **arrays)
        with pytest.raises(InputError, match=name):
            LinearProbe.load(tmp_path / name)
