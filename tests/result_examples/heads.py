"""One small instance of each heads result class, built without a model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bertology.analyses.heads.importance import normalize_importance
from bertology.analyses.heads.result import HeadAblation, HeadImportance, PruningCurve, importance_frame
from bertology.core.results import Result


def examples() -> list[Result]:
    rng = np.random.default_rng(0)
    raw = rng.random((2, 3))
    importance = HeadImportance(importance_frame(raw, normalize_importance(raw)),
                                {"loss": "classifier", "per": "example", "n_tokens": 40})
    ablation = HeadAblation(pd.DataFrame({"layer": [0, 0, 0, 1, 1, 1], "head": [0, 1, 2] * 2,
                                          "score": rng.random(6), "delta": rng.normal(size=6)}),
                            {"metric": "accuracy", "baseline": 0.8})
    rows = [{"order": order, "repeat": repeat, "n_pruned": n, "fraction": n / 6, "score": rng.random()}
            for order, repeats in (("importance", 1), ("random", 2)) for repeat in range(repeats) for n in (0, 3, 6)]
    curve = PruningCurve(pd.DataFrame(rows), {"metric": "accuracy", "steps": 2, "random_orders": 2})
    return [importance, ablation, curve]
