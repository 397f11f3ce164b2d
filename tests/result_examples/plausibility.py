"""One small instance of the plausibility result class, built without a model."""

from __future__ import annotations

import pandas as pd

from bertology.analyses.attribution.plausibility import PlausibilityResult
from bertology.core.results import Result


def examples() -> list[Result]:
    frame = pd.DataFrame({
        "method": ["saliency", "saliency", "lime", "lime"], "item": [0, 1, 0, 1],
        "annotation_id": ["negR_000.txt", "001"] * 2, "docid": ["negR_000.txt", "001"] * 2,
        "n_words": [26, 15] * 2, "n_human": [6, 6] * 2, "k": [8, 5] * 2,
        "token_precision": [0.5, 0.6, 0.25, 0.4], "token_recall": [0.67, 0.5, 0.33, 0.33],
        "token_f1": [0.57, 0.55, 0.29, 0.36], "iou_precision": [0.5, 0.33, 0.0, 0.5],
        "iou_recall": [0.33, 0.5, 0.0, 0.5], "iou_f1": [0.4, 0.4, 0.0, 0.5],
        "auprc": [0.71, 0.64, 0.42, 0.5], "average_precision": [0.73, 0.66, 0.45, float("nan")]})
    return [PlausibilityResult(frame, {"fraction": 0.3, "iou_threshold": 0.5, "n_boot": 1000, "level": 0.95,
                                       "seed": 0})]
