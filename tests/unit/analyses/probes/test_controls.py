"""Control-task labels, the majority baseline and selectivity."""

from __future__ import annotations

import numpy as np
import pytest

from bertology.analyses.probes import control_task_labels, majority_predictions, selectivity
from bertology.core.errors import InputError


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


def test_majority_and_selectivity():
    assert majority_predictions(np.array([1, 2, 2]), 3).tolist() == [2, 2, 2]
    assert majority_predictions(np.array([3, 1]), 1).tolist() == [1]
    assert selectivity(0.9, 0.6) == pytest.approx(0.3)
    np.testing.assert_allclose(selectivity(np.array([0.9, 0.5]), np.array([0.6, 0.5])), [0.3, 0.0])
