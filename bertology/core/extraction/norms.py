"""Mean L2 norm of the stored vectors per layer: a first look at a store."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bertology.core.extraction.store import ActivationStore
from bertology.core.results import TableResult
from bertology.core.viz import new_figure


class ActivationNorms(TableResult):
    """Per layer: mean and standard deviation of the vectors' L2 norms over the valid items.

    Examples
    --------
    >>> norms = ActivationNorms(pd.DataFrame({"layer": [0, 1], "mean_norm": [1.0, 2.0], "std_norm": [0.1, 0.2],
    ...                                       "items": [3, 3]}))
    >>> norms.to_frame()["mean_norm"].tolist()
    [1.0, 2.0]
    """

    def plot(self) -> Figure:
        """Mean norm by layer with one standard deviation as error bars."""
        figure, axes = new_figure()
        axes.errorbar(self.frame["layer"], self.frame["mean_norm"], yerr=self.frame["std_norm"], marker="o",
                      capsize=2)
        axes.set_xlabel("layer (0 = embeddings)")
        axes.set_ylabel("mean L2 norm of pooled vector")
        return figure


def activation_norms(store: ActivationStore) -> ActivationNorms:
    """The norms of a store's vectors per layer (items skipped at extraction are left out).

    Examples
    --------
    >>> import bertology as bt
    >>> store = bt.extract(bt.load_model("minilm"), ["One.", "Two."], layers=[0, 6], progress=False)
    >>> activation_norms(store).to_frame()["layer"].tolist()
    [0, 6]
    """
    valid = store.valid
    rows = []
    for layer in store.layers:
        norms = np.linalg.norm(np.asarray(store[layer], dtype=np.float32)[valid], axis=1)
        rows.append({"layer": layer, "mean_norm": float(norms.mean()), "std_norm": float(norms.std()),
                     "items": int(valid.sum())})
    return ActivationNorms(pd.DataFrame(rows), {"store": str(store.directory)})
