"""One small instance of each geometry result, from tiny fake arrays (no model)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bertology.analyses.geometry import EthayarajhResult, ProjectionResult, SimilarityResult
from bertology.core.results import Result


def examples() -> list[Result]:
    rng = np.random.default_rng(0)
    projection = ProjectionResult({0: rng.normal(size=(4, 2)), 3: rng.normal(size=(4, 2))}, np.array([0, 1, 1, 0]),
                                  ["fruit", "company"], "pca", {"dataset": "coarsewsd20/apple", "n_items": 4})
    similarity = SimilarityResult(pd.DataFrame({
        "layer": [0, 0, 3, 3], "comparison": ["same sense", "different sense"] * 2, "mean": [0.9, 0.85, 0.7, 0.4],
        "ci_low": [0.88, 0.8, 0.6, 0.3], "ci_high": [0.92, 0.9, 0.8, 0.5], "n": [6, 8, 6, 8], "static": 1.0}),
        {"dataset": "coarsewsd20/apple", "n_items": 4})
    raw = {"self_similarity": [0.8, 0.5], "intra_sentence": [0.6, 0.4], "anisotropy": [0.3, 0.35]}
    ethayarajh = EthayarajhResult(pd.DataFrame(
        [{"layer": layer, "measure": measure, "raw": values[i], "baseline": raw["anisotropy"][i],
          "adjusted": values[i] - raw["anisotropy"][i]}
         for i, layer in enumerate((0, 3)) for measure, values in raw.items()]),
        {"n_sentences": 4, "n_words": 20, "min_count": 2, "n_pairs": 100, "seed": 0})
    return [projection, similarity, ethayarajh]
