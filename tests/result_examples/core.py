"""Examples of the foundation's result classes."""

from __future__ import annotations

import pandas as pd

from bertology.core.extraction.norms import ActivationNorms
from bertology.core.results import Result


def examples() -> list[Result]:
    frame = pd.DataFrame({"layer": [0, 1, 2], "mean_norm": [3.5, 7.25, 9.0], "std_norm": [0.5, 1.0, 1.5],
                          "items": [4, 4, 4]})
    return [ActivationNorms(frame, {"store": "runs/demo/store"})]
