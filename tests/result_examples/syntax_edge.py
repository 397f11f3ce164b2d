"""One small EdgeProbeResult, from train_edge_probes on planted span features (no model)."""

from __future__ import annotations

import numpy as np

from bertology.analyses.syntax.edge_probe import SpanTargets, train_edge_probes
from bertology.core.results import Result


def examples() -> list[Result]:
    rng = np.random.default_rng(0)
    features = [rng.normal(size=(90, 4)).astype(np.float32) for _ in range(3)]
    classes = rng.integers(0, 2, size=90)
    features[1][:, 0] += 3.0 * classes
    labels = np.eye(2, dtype=bool)[classes]
    split = lambda rows: SpanTargets(rows, None, labels[rows])  # noqa: E731
    result = train_edge_probes(features, [0, 1, 2], split(np.arange(60)), split(np.arange(60, 90)),
                               labels=["x", "y"], hidden=8, epochs=3, lr=1e-2, progress=False)
    result.meta["model"] = "planted"
    return [result]
