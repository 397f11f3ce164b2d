"""Small instances of the multi-model Comparison, one per analysis, built without a model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bertology.analyses.attention.stats import STATISTICS
from bertology.core.results import Result
from bertology.experiments.compare import Comparison

MODELS = ["minilm", "runs/sst2/fine-tuned"]


def examples() -> list[Result]:
    rng = np.random.default_rng(0)
    layers = np.arange(3)
    probe = pd.DataFrame([{"model": model, "encoder": "trained", "layer": layer, "metric": "accuracy",
                           "mean": 0.6 + 0.1 * layer + 0.05 * index, "ci_low": 0.55 + 0.1 * layer,
                           "ci_high": 0.7 + 0.1 * layer, "n": 5, "baseline": 0.5, "control": np.nan,
                           "selectivity": np.nan} for index, model in enumerate(MODELS) for layer in layers])
    attention = pd.DataFrame([{"model": model, "layer": layer, "head": head,
                               **{name: float(rng.random()) for name in STATISTICS}}
                              for model in MODELS for layer in layers for head in range(2)])
    geometry = pd.DataFrame([{"model": model, "layer": layer, "comparison": comparison, "mean": 0.9 - 0.1 * layer,
                              "ci_low": 0.85 - 0.1 * layer, "ci_high": 0.95 - 0.1 * layer, "n": 12, "static": 1.0}
                             for model in MODELS for layer in layers for comparison in ("same sense", "different sense")])
    cloze = pd.DataFrame([{"model": model, "suite": suite, "group": "all", "metric": metric, "value": value,
                           "ci_low": value - 0.1, "ci_high": value + 0.1, "n": 40}
                          for model in MODELS for suite, metric, value in (("agreement", "accuracy", 0.8),
                                                                           ("gender-occupation", "kurita_bias", 0.3))])
    identities = {model: {"name": model, "weights_sha256": f"{index:064x}"} for index, model in enumerate(MODELS)}
    meta = {"models": MODELS, "identities": identities}
    return [Comparison(probe, {**meta, "analysis": "probe", "dataset": "sst2", "options": {"pool": "mean"}}),
            Comparison(attention, {**meta, "analysis": "attention"}),
            Comparison(geometry, {**meta, "analysis": "geometry", "dataset": "bank"}),
            Comparison(cloze, {**meta, "analysis": "cloze", "primary_metric": {"agreement": "accuracy",
                                                                                "gender-occupation": "kurita_bias"},
                               "chance": {"agreement": 0.5, "gender-occupation": None}})]
