"""One small instance of each similarity result, from a fixed matrix (no model)."""

from __future__ import annotations

import numpy as np

from bertology.analyses.similarity import SimilarityMatrix
from bertology.core.results import Result


def examples() -> list[Result]:
    values = np.array([[0.98, 0.61, 0.40], [0.57, 0.91, 0.72], [0.35, 0.70, 0.83]])
    return [SimilarityMatrix.from_values(values, [0, 3, 6], [0, 3, 6], "linear_cka",
                                         {"model_a": "minilm", "model_b": "minilm-sst2", "within": False,
                                          "n_rows": 2000, "pool": "all_words"})]
