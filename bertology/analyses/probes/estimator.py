"""``LinearProbe``: a scikit-learn logistic-regression probe backed by the batched torch solver."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from bertology.analyses.probes.solver import centre, fit_softmax


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
