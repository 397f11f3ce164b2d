"""One small instance of the cloze result class, built without a model."""

from __future__ import annotations

import pandas as pd

from bertology.analyses.cloze.result import ClozeResult, summarise
from bertology.core.results import Result


def examples() -> list[Result]:
    items = pd.DataFrame({"id": ["1", "2", "3", "4"], "condition": ["simple", "simple", "attractor", "attractor"],
                          "correct": ["are", "is", "are", "is"], "predicted": ["are", "is", "is", "is"],
                          "accuracy": [1.0, 1.0, 0.0, 1.0], "n_candidates": [2, 2, 2, 2]})
    meta = {"suite": "agreement", "kind": "choice", "n_items": 4, "seed": 0, "n_boot": 20,
            "primary_metric": "accuracy", "plot": "bars", "chance": 0.5}
    return [ClozeResult("agreement", items, summarise(items, ["accuracy"], n_boot=20), meta)]
