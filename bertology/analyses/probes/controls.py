"""Baselines that give probe accuracy a meaning: majority class and Hewitt & Liang control tasks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bertology.core.errors import InputError


def control_task_labels(types: Sequence[str], labels: Sequence[int], seed: int = 0) -> np.ndarray:
    """Control-task labels: one fixed random label per word type (Hewitt & Liang 2019).

    Every distinct type gets a label drawn once from the empirical distribution of
    ``labels``; each item then carries its type's label. A probe that scores well on
    this task memorises types rather than reading the property from the representation.

    Parameters
    ----------
    types
        Per item, its word type (e.g. the lowercased target word; for sentence tasks the sentence).
    labels
        Per item, the task label (its empirical distribution is sampled).
    seed
        Seed of the draw; the same seed and types always give the same labels.

    Returns
    -------
    numpy.ndarray
        ``(n_items,)`` control labels, equal for items of the same type.

    Raises
    ------
    InputError
        If ``types`` and ``labels`` differ in length or are empty.

    Examples
    --------
    >>> control_task_labels(["bank", "bat", "bank"], [0, 1, 1], seed=0).tolist()
    [1, 0, 1]
    """
    labels = np.asarray(labels)
    if len(types) != len(labels) or len(labels) == 0:
        raise InputError(f"Control task needs one word type per label: got {len(types)} types and {len(labels)} "
                         "labels; pass a non-empty types list aligned with labels.")
    vocabulary, inverse = np.unique(np.asarray(types, dtype=object).astype(str), return_inverse=True)
    values, counts = np.unique(labels, return_counts=True)
    rng = np.random.default_rng(seed)
    per_type = rng.choice(values, size=len(vocabulary), p=counts / counts.sum())
    return per_type[inverse]


def majority_predictions(train_labels: np.ndarray, n_test: int) -> np.ndarray:
    """Predictions of the majority-class baseline (ties: the smallest label).

    Examples
    --------
    >>> majority_predictions(np.array([2, 1, 1]), 2).tolist()
    [1, 1]
    """
    values, counts = np.unique(train_labels, return_counts=True)
    return np.full(n_test, values[np.argmax(counts)])


def selectivity(task_accuracy: np.ndarray | float, control_accuracy: np.ndarray | float) -> np.ndarray | float:
    """Selectivity = task accuracy − control-task accuracy (Hewitt & Liang 2019).

    Examples
    --------
    >>> round(selectivity(0.9, 0.6), 2)
    0.3
    """
    return np.asarray(task_accuracy) - np.asarray(control_accuracy) if np.ndim(task_accuracy) else \
        float(task_accuracy) - float(control_accuracy)
