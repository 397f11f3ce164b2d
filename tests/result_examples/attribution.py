"""One small instance of each attribution result class, built without a model."""

from __future__ import annotations

import pandas as pd

from bertology.analyses.attribution.faithfulness import FaithfulnessResult
from bertology.analyses.attribution.result import AttributionResult
from bertology.core.results import Result


def examples() -> list[Result]:
    attribution = AttributionResult(
        text="a great film", tokens=["[CLS]", "a", "great", "film", "[SEP]"], token_words=[-1, 0, 1, 2, -1],
        token_scores=[0.0, 0.01, 0.42, 0.08, 0.0], words=["a", "great", "film"], word_scores=[0.01, 0.42, 0.08],
        target="positive", target_index=1, method="integrated_gradients", probability=0.93,
        parameters={"n_steps": 50, "baseline": "pad"}, delta=0.002)
    scores = pd.DataFrame({
        "item": [0, 0, 0, 0], "method": ["integrated_gradients", "integrated_gradients", "lime", "lime"],
        "target": ["positive"] * 4, "bin": [1, 50, 1, 50], "k": [1, 2, 1, 2],
        "p_full": [0.93] * 4, "p_without": [0.6, 0.5, 0.7, 0.55], "p_only": [0.8, 0.9, 0.75, 0.88],
        "comprehensiveness": [0.33, 0.43, 0.23, 0.38], "sufficiency": [0.13, 0.03, 0.18, 0.05]})
    agreement = pd.DataFrame({"item": [0], "method_a": ["integrated_gradients"], "method_b": ["lime"],
                              "spearman": [0.5], "kendall": [0.33]})
    return [attribution, FaithfulnessResult(scores, agreement, "remove")]
