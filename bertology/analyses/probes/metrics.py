"""Scores of probe predictions, vectorised over stacks of predictions (folds, seeds, resamples)."""

from __future__ import annotations

import numpy as np


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Accuracy along the last axis (works on ``(..., n)`` stacks of predictions).

    Examples
    --------
    >>> float(accuracy(np.array([0, 1, 1]), np.array([0, 1, 0])))
    0.6666666666666666
    """
    return (np.asarray(y_true) == np.asarray(y_pred)).mean(axis=-1)


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Macro-averaged F1 along the last axis over the classes present in truth or prediction.

    Matches ``sklearn.metrics.f1_score(average="macro")`` for one row.

    Examples
    --------
    >>> float(macro_f1(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), 2))
    0.7333333333333334
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    classes = np.arange(n_classes)[:, None]
    true_k = y_true[..., None, :] == classes  # (..., K, n)
    pred_k = y_pred[..., None, :] == classes
    tp = (true_k & pred_k).sum(-1)
    denominator = true_k.sum(-1) + pred_k.sum(-1)
    f1 = np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)
    present = denominator > 0
    return (f1 * present).sum(-1) / np.maximum(present.sum(-1), 1)
