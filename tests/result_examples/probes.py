"""One small ProbeResult, from probe_layers on fake features (no model)."""

from __future__ import annotations

import numpy as np

from bertology.analyses.probes import probe_layers
from bertology.core.data import ProbeDataset
from bertology.core.results import Result


def examples() -> list[Result]:
    rng = np.random.default_rng(0)
    features = {layer: rng.normal(size=(30, 3)) for layer in range(3)}
    labels = (features[2][:, 0] > 0).astype(int)
    data = ProbeDataset([f"w{i % 5}" for i in range(30)], labels, ["neg", "pos"], name="toy")
    return [probe_layers(features, data, cv=3, seed=[0, 1], mdl=True, progress=False)]
