"""Confidence intervals shared by every analysis."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats


def mean_ci(scores: Sequence[float] | np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of repeated scores (folds, seeds, sentences).

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


def _mean_rows(values: np.ndarray) -> np.ndarray:
    return values.mean(axis=-1)


def bootstrap_ci(values: Sequence[float] | np.ndarray | tuple[np.ndarray, ...], n_boot: int = 1000,
                 level: float = 0.95, seed: int = 0,
                 statistic: Callable[..., np.ndarray] = _mean_rows) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of a statistic over items (Efron & Tibshirani 1993).

    Items are resampled with replacement ``n_boot`` times; the interval is the
    ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the statistic over the resamples.

    Parameters
    ----------
    values
        Per-item values (1/0 for accuracy, scores for bias), or a tuple of arrays with one
        row per item that are resampled together (e.g. gold and predicted labels).
    n_boot
        Bootstrap resamples.
    level
        Coverage of the interval.
    seed
        Seed of the resampling; the same seed draws the same resamples for any statistic.
    statistic
        Maps the resampled arrays, each of shape ``(n_boot, n_items)``, to ``(n_boot,)``
        values; default the mean.

    Returns
    -------
    tuple of float
        ``(low, high)``; ``(nan, nan)`` for no items.

    Examples
    --------
    >>> bootstrap_ci([1, 1, 1, 1])
    (1.0, 1.0)
    >>> gold, pred = np.array([0, 1] * 20), np.array([0, 1] * 20)
    >>> bootstrap_ci((gold, pred), statistic=lambda g, p: (g == p).mean(axis=-1))
    (1.0, 1.0)
    """
    arrays = tuple(np.asarray(a) for a in values) if isinstance(values, tuple) else (
        np.asarray(values, dtype=np.float64),)
    n_items = len(arrays[0])
    if n_items == 0:
        return float("nan"), float("nan")
    rows = np.random.default_rng(seed).integers(0, n_items, size=(n_boot, n_items))
    resampled = statistic(*(a[rows] for a in arrays))
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(resampled, alpha)), float(np.quantile(resampled, 1.0 - alpha))
