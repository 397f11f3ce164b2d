"""One small instance of each structural-probe result class, built without a model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bertology.analyses.syntax.structural_result import StructuralProbeResult
from bertology.core.results import Result


def examples() -> list[Result]:
    words = [("The", "dog", "barked", "."), ("Stop", "!")]
    heads = [(2, 3, 0, 3), (0, 1)]
    punct = [np.array([False, False, False, True]), np.array([False, True])]
    frame = pd.DataFrame({"encoder": ["trained", "trained", "random", "random", "linear"],
                          "layer": [0, 1, 0, 1, None], "rank": [4, 4, 4, 4, None],
                          "uuas": [0.5, 1.0, 0.5, 0.5, 0.5], "uuas_ci_low": [0.2, 1.0, 0.2, 0.2, 0.2],
                          "uuas_ci_high": [0.8, 1.0, 0.8, 0.8, 0.8], "dspr": [0.6, 0.9, 0.5, 0.5, 0.7],
                          "epochs": [3, 4, 2, 2, None], "dev_loss": [0.4, 0.2, 0.6, 0.6, None]})
    distance = StructuralProbeResult(frame, {"kind": "distance", "model": {"name": "toy"}, "ranks": [4]},
                                     words=words, heads=heads, punct=punct, layers=[0, 1],
                                     predictions={4: np.array([[[0, 2], [1, 2]], [[0, 1], [1, 2]]])})
    depth_frame = pd.DataFrame({"encoder": ["trained", "linear"], "layer": [1, None], "rank": [4, None],
                                "root_acc": [1.0, 0.5], "nspr": [0.8, 0.3]})
    depth = StructuralProbeResult(depth_frame, {"kind": "depth"}, words=words, heads=heads, punct=punct, layers=[1],
                                  predictions={4: np.array([[1.1, 0.9, 0.1, 1.2, 0.2, 1.0]], dtype=np.float32)})
    return [distance, depth]
