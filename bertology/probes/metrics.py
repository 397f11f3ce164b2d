"""Scores and confidence intervals for probe predictions (vectorised over resamples)."""

from __future__ import annotations

import numpy as np
from scipy import stats


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


def mean_ci(scores: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of scores from folds and seeds.

    Examples
    --------
    >>> [round(v, 3) for v in mean_ci(np.array([0.8, 0.9, 1.0]))]
    [0.9, 0.652, 1.148]
    """
    scores = np.asarray(scores, dtype=float)
    mean = float(scores.mean())
    if len(scores) < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, len(scores) - 1) * scores.std(ddof=1) / np.sqrt(len(scores))
    return mean, mean - float(half), mean + float(half)


def bootstrap_ci(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int, level: float = 0.95,
                 n_boot: int = 1000, seed: int = 0) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals of accuracy and macro-F1 over test items (one split).

    Examples
    --------
    >>> ci = bootstrap_ci(np.array([0, 1] * 20), np.array([0, 1] * 20), 2)
    >>> ci["accuracy"]
    (1.0, 1.0)
    """
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(y_true), size=(n_boot, len(y_true)))
    tails = (50 * (1 - level), 100 - 50 * (1 - level))
    resampled_true, resampled_pred = np.asarray(y_true)[rows], np.asarray(y_pred)[rows]
    out = {}
    for name, values in (("accuracy", accuracy(resampled_true, resampled_pred)),
                         ("macro_f1", macro_f1(resampled_true, resampled_pred, n_classes))):
        low, high = np.percentile(values, tails)
        out[name] = (float(low), float(high))
    return out
