"""``LinearProbe``: a scikit-learn logistic-regression probe backed by the batched torch solver."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from bertology.analyses.probes.solver import centre, fit_softmax
from bertology.core.errors import InputError

PROBE_FORMAT = "bertology.LinearProbe"
PROBE_FORMAT_VERSION = 1
_ARRAYS = ("coef_", "intercept_", "classes_")


class LinearProbe(ClassifierMixin, BaseEstimator):
    """L2-regularised (multinomial) logistic regression on frozen features.

    Minimises the objective of ``sklearn.linear_model.LogisticRegression(C=C)`` in torch
    (L-BFGS preconditioned by the curvature at zero, see
    :func:`bertology.analyses.probes.solver.fit_softmax`) on features centred on the training rows;
    the coefficients are those of the raw features. A scikit-learn estimator: use it with
    ``cross_val_score``, pipelines and ``clone``.

    Parameters
    ----------
    C
        Inverse regularisation strength.
    max_iter
        L-BFGS iterations.

    Attributes
    ----------
    classes_ : numpy.ndarray
        Class labels seen in ``fit``.
    coef_ : numpy.ndarray
        ``(1, n_features)`` for two classes (log-odds of ``classes_[1]``), else ``(n_classes, n_features)``.
    intercept_ : numpy.ndarray
        ``(1,)`` or ``(n_classes,)``.
    n_features_in_ : int
        Number of features seen in ``fit``.
    n_iter_ : int
        Solver iterations run.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> LinearProbe().fit(X, y).predict([[0.2], [2.8]]).tolist()
    [0, 1]

    Save a fitted probe and read it back (an ``.npz`` of arrays and JSON, never a pickle):

    >>> import tempfile
    >>> path = LinearProbe().fit(X, y).save(Path(tempfile.mkdtemp()) / "probe.npz")
    >>> LinearProbe.load(path).predict([[0.2], [2.8]]).tolist()
    [0, 1]
    """

    def __init__(self, C: float = 1.0, max_iter: int = 100) -> None:
        self.C = C
        self.max_iter = max_iter

    def fit(self, X: np.ndarray, y: np.ndarray) -> LinearProbe:
        """Fit the probe on features ``X`` (n, d) and labels ``y`` (n,); returns ``self``."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"LinearProbe needs at least 2 classes in y, got 1 class ({self.classes_[0]!r}): "
                             "give examples of every class.")
        features = torch.from_numpy(np.array(X))[None]
        mean, features_z = centre(features)
        weights, bias, self.n_iter_ = fit_softmax(features_z, torch.as_tensor(encoded, dtype=torch.long)[None],
                                    len(self.classes_), C=float(self.C), max_iter=int(self.max_iter))
        raw = weights[0].numpy()  # (d, K)
        offset = bias[0].numpy() - mean[0, 0].numpy() @ raw
        if len(self.classes_) == 2:
            self.coef_ = (raw[:, 1] - raw[:, 0])[None, :]
            self.intercept_ = np.array([offset[1] - offset[0]])
        else:
            self.coef_ = raw.T.copy()
            self.intercept_ = offset
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Logits: ``(n,)`` log-odds of ``classes_[1]`` for two classes, else ``(n, n_classes)``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        scores = X @ self.coef_.T + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` in the order of ``classes_``."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            scores = np.stack([np.zeros_like(scores), scores], axis=1)
        scores = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class of each row."""
        check_is_fitted(self)
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def save(self, path: str | Path) -> Path:
        """Write the fitted probe to ``path`` as an uncompressed ``.npz`` holding no Python objects.

        The file holds the arrays ``coef_``, ``intercept_`` and ``classes_`` and a JSON string
        ``meta`` (format name and version, the parameters ``C`` and ``max_iter``,
        ``n_features_in_`` and ``n_iter_``). :meth:`load` reads it with pickling disabled,
        so a probe file cannot run code.

        Parameters
        ----------
        path
            File to write; ``.npz`` is added when the name has no such suffix.

        Returns
        -------
        pathlib.Path
            The file written.

        Raises
        ------
        InputError
            When the probe is not fitted, its classes are neither numbers nor strings, or
            ``path`` cannot be written.

        Examples
        --------
        >>> import tempfile
        >>> probe = LinearProbe(C=0.5).fit([[0.0], [1.0], [2.0], [3.0]], ["neg", "neg", "pos", "pos"])
        >>> probe.save(Path(tempfile.mkdtemp()) / "sentiment").name
        'sentiment.npz'
        """
        if not hasattr(self, "coef_"):
            raise InputError("This LinearProbe is not fitted: call fit(X, y) before save(path).")
        classes = np.asarray(self.classes_)
        if classes.dtype.kind == "O":
            if not all(isinstance(c, str) for c in classes):
                raise InputError(f"Cannot save classes {classes.tolist()!r} without pickling: fit the probe on "
                                 "labels that are all numbers or all strings.")
            classes = classes.astype(str)
        if classes.dtype.kind not in "biufU":
            raise InputError(f"Cannot save classes of dtype {classes.dtype} without pickling: fit the probe on "
                             "labels that are numbers or strings.")
        params = {key: value.item() if isinstance(value, np.generic) else value
                  for key, value in self.get_params().items()}
        meta = {"format": PROBE_FORMAT, "version": PROBE_FORMAT_VERSION, "params": params,
                "n_features_in_": int(self.n_features_in_), "n_iter_": int(self.n_iter_)}
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        try:
            with open(path, "wb") as handle:
                np.savez(handle, coef_=np.asarray(self.coef_, dtype=np.float64),
                         intercept_=np.asarray(self.intercept_, dtype=np.float64), classes_=classes,
                         meta=np.array(json.dumps(meta)))
        except OSError as error:
            raise InputError(f"Cannot write probe file {path} ({error.strerror or error}): choose a writable "
                             "place for it.") from None
        return path

    @classmethod
    def load(cls, path: str | Path) -> LinearProbe:
        """Read a probe written by :meth:`save`, with pickling disabled.

        Parameters
        ----------
        path
            The ``.npz`` file.

        Returns
        -------
        LinearProbe
            Fitted: ``predict``, ``predict_proba`` and ``decision_function`` work at once.

        Raises
        ------
        InputError
            When the file does not exist, is not a probe saved by :meth:`save` (a pickle or
            joblib file among them), or is damaged; the message names the file.

        Examples
        --------
        >>> import tempfile
        >>> path = LinearProbe().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]).save(Path(tempfile.mkdtemp()) / "p")
        >>> LinearProbe.load(path).classes_.tolist()
        [0, 1]
        """
        path = Path(path)
        resave = f"save the fitted probe with LinearProbe.save(path) (a {PROBE_FORMAT} .npz file) and pass that file."
        if not path.is_file():
            raise InputError(f"Probe file {path} does not exist or is not a file: {resave}")
        try:
            with np.load(path, allow_pickle=False) as stored:
                if not isinstance(stored, np.lib.npyio.NpzFile):
                    raise ValueError("a single array, not an .npz archive")
                arrays = {name: stored[name] for name in (*_ARRAYS, "meta") if name in stored.files}
        except (OSError, ValueError, EOFError, TypeError, zipfile.BadZipFile) as error:
            raise InputError(f"Probe file {path} is not a LinearProbe saved by LinearProbe.save (pickle and joblib "
                             f"files are not read, they can run code) or it is damaged ({error}): {resave}") from None
        missing = [name for name in (*_ARRAYS, "meta") if name not in arrays]
        if missing:
            raise InputError(f"Probe file {path} lacks {', '.join(missing)}: it is not a saved LinearProbe; {resave}")
        try:
            meta = json.loads(str(arrays["meta"]))
        except ValueError:
            meta = None
        params = meta.get("params") if isinstance(meta, dict) else None
        if not isinstance(meta, dict) or meta.get("format") != PROBE_FORMAT \
                or meta.get("version") != PROBE_FORMAT_VERSION or not isinstance(params, dict) \
                or not set(params) <= set(cls().get_params()):
            raise InputError(f"Probe file {path} is not a {PROBE_FORMAT} file of version {PROBE_FORMAT_VERSION}: "
                             f"{resave}")
        coef, intercept, classes = arrays["coef_"], arrays["intercept_"], arrays["classes_"]
        n_features = meta.get("n_features_in_")
        rows = 1 if len(classes) == 2 else len(classes)
        if not isinstance(n_features, int) or coef.shape != (rows, n_features) or intercept.shape != (rows,) \
                or classes.ndim != 1 or len(classes) < 2 or coef.dtype.kind != "f" or intercept.dtype.kind != "f" \
                or not np.isfinite(coef).all() or not np.isfinite(intercept).all():
            raise InputError(f"Probe file {path} is damaged: coef_ {coef.shape}, intercept_ {intercept.shape}, "
                             f"{len(classes)} classes and {n_features} features do not fit together, or the "
                             f"coefficients are not finite numbers; {resave}")
        probe = cls(**params)
        probe.coef_, probe.intercept_, probe.classes_ = coef, intercept, classes
        probe.n_features_in_, probe.n_iter_ = n_features, int(meta.get("n_iter_", 0))
        return probe
