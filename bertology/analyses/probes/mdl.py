"""Minimum description length probing: the online code of Voita & Titov (2020)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import ClassifierMixin, clone

from bertology.analyses.probes.solver import fit_predict_proba
from bertology.core.errors import InputError

PORTIONS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.25, 12.5, 25.0, 50.0, 100.0)
"""Block boundaries in percent of the data (Voita & Titov 2020)."""
PROBABILITY_FLOOR = 1e-12


@dataclass(frozen=True)
class MDLScore:
    """Online codelength of one layer.

    Attributes
    ----------
    codelength
        Bits to transmit the labels with the online code.
    uniform_codelength
        ``N · log2 K``: bits with the uniform code.
    compression
        ``uniform_codelength / codelength``.
    """

    codelength: float
    uniform_codelength: float

    @property
    def compression(self) -> float:
        """``N · log2 K / codelength``."""
        return self.uniform_codelength / self.codelength


def block_ends(n_items: int, portions: Sequence[float] = PORTIONS) -> list[int]:
    """Item counts at which the online-code blocks end (at least 1, strictly increasing, last = N).

    Examples
    --------
    >>> block_ends(1000)
    [1, 2, 4, 8, 16, 32, 62, 125, 250, 500, 1000]
    """
    ends = sorted({min(n_items, max(1, int(n_items * p / 100))) for p in portions} | {n_items})
    return ends


def _prior_proba(labels: np.ndarray, n_classes: int, n_rows: int) -> np.ndarray:
    counts = np.bincount(labels, minlength=n_classes) + 1.0
    return np.broadcast_to(counts / counts.sum(), (n_rows, n_classes))


def online_codelength(features: np.ndarray, labels: np.ndarray, n_classes: int | None = None,
                      portions: Sequence[float] = PORTIONS, estimator: ClassifierMixin | None = None,
                      shuffle: bool = True, seed: int = 0, C: float = 1.0, max_iter: int = 100) -> list[MDLScore]:
    """Online (prequential) codelength of labels given features, per layer (Voita & Titov 2020).

    The items are (optionally) shuffled and cut into blocks ending at ``portions`` percent.
    The first block of ``t1`` items is sent with the uniform code (``t1 · log2 K`` bits);
    each later block costs ``Σ −log2 p(y | x)`` under a probe trained on all earlier
    blocks. Compression is ``N · log2 K / codelength``. A training prefix with a single
    class predicts Laplace-smoothed class frequencies; probabilities are floored at 1e-12.

    Parameters
    ----------
    features
        ``(n, d)`` for one layer or ``(L, n, d)`` for ``L`` layers (fitted together).
    labels
        ``(n,)`` class indices ``0..K-1``.
    n_classes
        ``K``; default ``labels.max() + 1``.
    portions
        Block ends in percent.
    estimator
        A scikit-learn classifier to use instead of the batched logistic probe (cloned per block).
    shuffle
        Shuffle items with ``seed`` before cutting blocks.
    seed
        Seed of the shuffle.
    C, max_iter
        Probe settings of the default (batched) probe.

    Returns
    -------
    list of MDLScore
        One per layer.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> y = np.array([0, 1, 0, 1]); x = np.zeros((4, 1))
    >>> s = online_codelength(x, y, portions=(50, 100), estimator=DummyClassifier(), shuffle=False)[0]
    >>> s.codelength, s.compression
    (4.0, 1.0)
    """
    features = np.asarray(features)
    if features.ndim == 2:
        features = features[None]
    labels = np.asarray(labels, dtype=np.int64)
    n_items = len(labels)
    if features.shape[1] != n_items or n_items < 2:
        raise InputError(f"MDL needs at least 2 items and one feature row per label: got {features.shape[1]} rows "
                         f"and {n_items} labels.")
    n_classes = int(labels.max()) + 1 if n_classes is None else int(n_classes)
    order = np.random.default_rng(seed).permutation(n_items) if shuffle else np.arange(n_items)
    features, labels = features[:, order], labels[order]
    ends = block_ends(n_items, portions)
    bits = np.full(features.shape[0], ends[0] * np.log2(n_classes))
    for start, stop in zip(ends[:-1], ends[1:]):
        seen = labels[:start]
        if len(np.unique(seen)) < 2:
            proba = np.broadcast_to(_prior_proba(seen, n_classes, stop - start), (features.shape[0], stop - start,
                                                                                   n_classes))
        elif estimator is None:
            proba = fit_predict_proba(features[:, :start], seen, features[:, start:stop], n_classes, C=C,
                                      max_iter=max_iter)
        else:
            proba = np.zeros((features.shape[0], stop - start, n_classes))
            for layer in range(features.shape[0]):
                fitted = clone(estimator).fit(features[layer, :start], seen)
                proba[layer][:, fitted.classes_] = fitted.predict_proba(features[layer, start:stop])
        true = np.take_along_axis(proba, labels[None, start:stop, None], axis=2)[..., 0]
        bits += -np.log2(np.maximum(true, PROBABILITY_FLOOR)).sum(axis=1)
    uniform = n_items * np.log2(n_classes)
    return [MDLScore(float(b), float(uniform)) for b in bits]
