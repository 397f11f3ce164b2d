"""Small instances of the erasure result classes, built without a model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bertology.analyses.erasure.amnesic import AmnesicResult
from bertology.analyses.erasure.erasure import Erasure
from bertology.core.results import Result


def examples() -> list[Result]:
    table = pd.DataFrame({"condition": ["original", "erased", "random", "random"], "seed": [0, 0, 0, 1],
                          "accuracy": [0.92, 0.51, 0.9, 0.89], "majority": 0.5})
    basis = np.array([[0.6], [0.8], [0.0]])
    erasure = Erasure("inlp", 2, basis, basis.T, np.zeros(3), table,
                      {"dataset": "bank", "pool": "word_mean", "inlp_accuracies": [0.92, 0.5]})
    rows = []
    for condition, seed, shift in (("original", 0, 0.0), ("erased", 0, -0.3), ("random", 0, -0.02),
                                   ("random", 1, -0.01)):
        rows += [("bank", layer, condition, seed, "accuracy", 0.9 + shift / (layer - 1), 0.5) for layer in (2, 3)]
        rows.append(("masked LM", np.nan, condition, seed, "mlm_accuracy", 0.6 + shift / 3, np.nan))
    frame = pd.DataFrame(rows, columns=["task", "layer", "condition", "seed", "metric", "value", "majority"])
    amnesic = AmnesicResult(frame, {"method": "inlp", "layer": 2, "rank": 1, "tasks": ["bank"]})
    return [erasure, amnesic]
