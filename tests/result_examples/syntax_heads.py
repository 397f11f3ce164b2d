"""One small instance of the dependency-heads result class, built without a model."""

from __future__ import annotations

import numpy as np

from bertology.analyses.syntax.heads_result import DependencyHeads
from bertology.core.results import Result


def examples() -> list[Result]:
    rng = np.random.default_rng(0)
    relations = ["det", "nsubj", "root", "punct", "nmod:poss", "NA"]
    counts = np.array([40, 30, 12, 11, 5, 2])
    correct = rng.integers(0, counts + 1, size=(2, 2, 3, len(relations)))
    baseline = rng.integers(0, counts + 1, size=(3, len(relations)))
    return [DependencyHeads(relations, counts, correct, layers=[1, 3], offsets=[-1, 1, 2],
                            baseline_correct=baseline, mst_correct=rng.integers(0, 40, size=(2, 3)), mst_total=40,
                            n_sentences=12, left_out={"too_long": 1, "unaligned": 0}, from_split="first",
                            min_count=10, model={"name": "toy", "num_layers": 4, "num_heads": 3})]
