"""Small instances of the cloze result class, built without a model."""

from __future__ import annotations

import pandas as pd

from bertology.analyses.cloze.evaluations import crows_pairs_scores
from bertology.analyses.cloze.result import ClozeResult, summarise
from bertology.core.results import Result


def examples() -> list[Result]:
    items = pd.DataFrame({"id": ["1", "2", "3", "4"], "condition": ["simple", "simple", "attractor", "attractor"],
                          "correct": ["are", "is", "are", "is"], "predicted": ["are", "is", "is", "is"],
                          "accuracy": [1.0, 1.0, 0.0, 1.0], "n_candidates": [2, 2, 2, 2]})
    meta = {"suite": "agreement", "kind": "choice", "n_items": 4, "seed": 0, "n_boot": 20,
            "primary_metric": "accuracy", "plot": "bars", "chance": 0.5}
    pairs = pd.DataFrame({"sent_more": ["The poor are lazy.", "Old men are slow."],
                          "sent_less": ["The rich are lazy.", "Young men are slow."],
                          "stereo_antistereo": ["stereo", "antistereo"], "bias_type": ["socioeconomic", "age"],
                          "sent_more_score": [-20.5, -18.0001], "sent_less_score": [-21.25, -18.0003]})
    pairs, summary = crows_pairs_scores(pairs, n_boot=20)
    crows = {"benchmark": "crows-pairs", "primary_metric": "metric_score", "plot": "bars", "chance": 50.0,
             "n_neutral": int(pairs.neutral.sum())}
    return [ClozeResult("agreement", items, summarise(items, ["accuracy"], n_boot=20), meta),
            ClozeResult("crows-pairs", pairs, summary, crows)]
