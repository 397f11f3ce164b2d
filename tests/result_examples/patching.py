"""A small instance of the patching result class, built without a model."""

from __future__ import annotations

import pandas as pd

from bertology.analyses.patching.result import EFFECT_COLUMNS, PAIR_COLUMNS, PatchingResult
from bertology.core.results import Result


def examples() -> list[Result]:
    roles = ["start", "changed", "mask", "end"]
    tokens = [("[CLS]", "[CLS]"), ("boy", "boys"), ("[MASK]", "[MASK]"), ("[SEP]", "[SEP]")]
    rows = []
    for pair, scale in (("a", 1.0), ("b", 0.5)):
        for layer in range(3):
            for position, (role, (base, counter)) in enumerate(zip(roles, tokens)):
                effect = -scale * (1.0 if role == "changed" and layer < 2 else 1.0 if role == "mask" and layer else 0.0)
                rows.append((pair, "simple", "resid", layer, position, -1, role, base, counter, effect, 0.1 * layer))
            if layer < 2:
                for head in range(2):
                    rows.append((pair, "simple", "heads", layer, -1, head, "", "", "", -0.2 * scale * head, 0.0))
    effects = pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
    pairs = pd.DataFrame([("a", "simple", "The boy [MASK].", "The boys [MASK].", "is|are", 4, 1.5, 0.5, -1.0),
                          ("b", "simple", "A boy [MASK].", "A boys [MASK].", "is|are", 4, 1.0, 0.5, -0.5)],
                         columns=list(PAIR_COLUMNS))
    return [PatchingResult(effects, pairs, {"suite": "agreement", "metric": "logprob_diff",
                                            "components": ["resid", "heads"]})]
