"""One small instance of each attention result class, built without a model."""

from __future__ import annotations

import numpy as np

from bertology.analyses.attention.head_view import HeadView, NeuronView
from bertology.analyses.attention.rollout import AttentionMaps, rollout
from bertology.analyses.attention.sentence import SentenceAttention
from bertology.analyses.attention.stats import STATISTICS, AttentionStats
from bertology.core.results import Result


def examples() -> list[Result]:
    rng = np.random.default_rng(0)
    tokens = ["[CLS]", "the", "bank", "[SEP]", "yes", "[SEP]"]
    patterns = rng.dirichlet(np.ones(len(tokens)), size=(2, 3, len(tokens))).astype(np.float32)
    attention = SentenceAttention(tokens, patterns, np.array([0, 0, 0, 0, 1, 1]))
    stats = AttentionStats({name: rng.random((2, 3)) for name in STATISTICS}, n_sentences=4, n_tokens=27,
                           model={"name": "toy", "num_layers": 2, "num_heads": 3}, average="token")
    return [stats, attention, AttentionMaps(tokens, rollout(patterns), "rollout"),
            AttentionMaps(tokens, attention.head_mean().astype(np.float64), "mean"),
            HeadView(attention, ["[CLS]", "the", "bank", "[SEP]", "yes", "[SEP]"]),
            HeadView(attention, tokens, [0, 1, 1, 2, 3, 4], ["[CLS]", "thebank", "[SEP]", "yes", "[SEP]"]),
            NeuronView(attention, tokens, rng.normal(size=(2, 3, 6, 4)), rng.normal(size=(2, 3, 6, 4)), 0.5, "note")]
