"""One small instance of the explanation benchmark result, built without a model."""

from __future__ import annotations

import pandas as pd

from bertology.analyses.attribution.benchmark import ExplanationBenchmark
from bertology.analyses.attribution.result import AttributionResult
from bertology.core.results import Result


def examples() -> list[Result]:
    methods = ["saliency", "saliency", "lime", "lime"]
    scores = pd.DataFrame({"method": methods, "example": [0, 1, 0, 1], "target": ["NEG", "POS"] * 2,
                           "time_s": [0.01, 0.012, 0.2, 0.25], "aopc_comprehensiveness": [0.31, 0.22, 0.4, 0.35],
                           "aopc_sufficiency": [0.1, 0.05, 0.02, 0.04]})
    faithful = pd.DataFrame({"method": methods, "example": [0, 1, 0, 1], "target": ["NEG", "POS"] * 2,
                             "bin": [20] * 4, "k": [2, 1, 2, 1], "p_full": [0.9] * 4,
                             "p_without": [0.59, 0.68, 0.5, 0.55], "p_only": [0.8, 0.85, 0.88, 0.86],
                             "comprehensiveness": [0.31, 0.22, 0.4, 0.35], "sufficiency": [0.1, 0.05, 0.02, 0.04]})
    plausible = pd.DataFrame({
        "method": methods, "item": [0, 1, 0, 1], "annotation_id": ["negR_000.txt", "posR_000.txt"] * 2,
        "docid": ["negR_000.txt", "posR_000.txt"] * 2, "n_words": [26, 15] * 2, "n_human": [6, 6] * 2,
        "k": [8, 5] * 2, "token_precision": [0.5, 0.6, 0.25, 0.4], "token_recall": [0.67, 0.5, 0.33, 0.33],
        "token_f1": [0.57, 0.55, 0.29, 0.36], "iou_precision": [0.5, 0.33, 0.0, 0.5],
        "iou_recall": [0.33, 0.5, 0.0, 0.5], "iou_f1": [0.4, 0.4, 0.0, 0.5], "auprc": [0.71, 0.64, 0.42, 0.5],
        "average_precision": [0.73, 0.66, 0.45, float("nan")]})
    pairs = pd.DataFrame({"example": [0] * 4 + [1] * 4, "method_a": ["saliency", "saliency", "lime", "lime"] * 2,
                          "method_b": ["saliency", "lime", "saliency", "lime"] * 2,
                          "spearman": [1.0, 0.4, 0.4, 1.0, 1.0, 0.2, 0.2, 1.0],
                          "kendall": [1.0, 0.33, 0.33, 1.0, 1.0, 0.1, 0.1, 1.0]})
    attribution = AttributionResult(
        text="a great film", tokens=["[CLS]", "a", "great", "film", "[SEP]"], token_words=[-1, 0, 1, 2, -1],
        token_scores=[0.0, 0.01, 0.42, 0.08, 0.0], words=["a", "great", "film"], word_scores=[0.01, 0.42, 0.08],
        target="POS", target_index=1, method="saliency", probability=0.93, parameters={"absolute": True})
    return [ExplanationBenchmark(scores, faithful, plausible, pairs, [attribution],
                                 {"methods": ["saliency", "lime"], "n_examples": 2, "removal": "remove",
                                  "bins": [20], "n_boot": 200, "level": 0.95, "seed": 0,
                                  "options": {"saliency": {}, "lime": {"num_samples": 200}},
                                  "plausibility": {"fraction": 0.3, "iou_threshold": 0.5}})]
