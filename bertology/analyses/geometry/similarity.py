"""Cosine similarity of one word across contexts, by layer, against its static input embedding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bertology.analyses.geometry.vectors import cosine_matrix, static_embeddings
from bertology.core.data.dataset import ProbeDataset
from bertology.core.errors import InputError
from bertology.core.extraction.features import layer_features
from bertology.core.models import LoadedModel
from bertology.core.results import TableResult
from bertology.core.stats import mean_ci
from bertology.core.viz import PALETTE, new_figure
from bertology.core.viz.style import paper_style

COMPARISONS = ("same sense", "different sense")


def pair_similarities(vectors: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Cosine of every pair of items, split into same-label and different-label pairs.

    Examples
    --------
    >>> v = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> {k: x.tolist() for k, x in pair_similarities(v, np.array([0, 0, 1])).items()}
    {'same sense': [1.0], 'different sense': [0.0, 0.0]}
    """
    sims = cosine_matrix(vectors)
    upper = np.triu_indices(len(vectors), k=1)
    same = labels[upper[0]] == labels[upper[1]]
    values = sims[upper]
    return {"same sense": values[same], "different sense": values[~same]}


class SimilarityResult(TableResult):
    """Mean cosine similarity of a word's occurrences by layer.

    Parameters
    ----------
    frame
        Columns ``layer, comparison, mean, ci_low, ci_high, n, static`` where
        ``comparison`` is ``same sense`` or ``different sense`` and ``static`` the same
        statistic for the static input embeddings (no context, no position).
    meta
        Dataset and settings.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": [0, 0], "comparison": list(COMPARISONS), "mean": [.8, .6]})
    >>> SimilarityResult(t, {"dataset": "bank"}).to_frame()["mean"].tolist()
    [0.8, 0.6]
    """

    def plot(self) -> Figure:
        """Similarity by layer for same- and different-sense pairs, with the static embedding as dashed lines.

        Examples
        --------
        >>> t = pd.DataFrame({"layer": [0, 0], "comparison": list(COMPARISONS), "mean": [.8, .6],
        ...                   "ci_low": [.7, .5], "ci_high": [.9, .7], "n": [3, 3], "static": [1., 1.]})
        >>> SimilarityResult(t).plot().axes[0].get_ylabel()
        'cosine similarity'
        """
        with paper_style():
            figure, axes = new_figure(height=2.9)
            for index, comparison in enumerate(COMPARISONS):
                rows = self.frame[self.frame["comparison"] == comparison].sort_values("layer")
                if rows.empty:
                    continue
                axes.plot(rows["layer"], rows["mean"], marker="o", color=PALETTE[index], label=comparison)
                axes.fill_between(rows["layer"], rows["ci_low"], rows["ci_high"], color=PALETTE[index], alpha=0.2,
                                  linewidth=0)
            static = self.frame.groupby("comparison")["static"].first()
            if static.notna().any():
                axes.axhline(float(static.max()), color="0.4", linestyle="--", linewidth=1,
                             label="static input embedding")
            axes.set_xticks(sorted(self.frame["layer"].unique()))
            axes.set_xlabel("layer (0 = embeddings)")
            axes.set_ylabel("cosine similarity")
            word = self.meta.get("dataset")
            if word:
                axes.set_title(f"'{word}' across contexts")
            figure.legend(loc="outside lower center", ncols=2)
            return figure


def context_similarity(model: LoadedModel, data: ProbeDataset, layers: str | int | Sequence[int] = "all",
                       level: float = 0.95, batch_size: int = 32, progress: bool = True,
                       features: Mapping[int, np.ndarray] | None = None) -> SimilarityResult:
    """Cosine similarity of one word across contexts, by layer, for same- and different-sense pairs.

    The word's vector in each sentence is the mean of its word-pieces at each layer; the
    static reference is the mean of its word-pieces' rows of the input embedding matrix,
    identical in every context (so the static similarity of one word form is 1).

    Parameters
    ----------
    model
        From :func:`bertology.load_model`.
    data
        Word-level items with senses (``data.words`` set), e.g. ``load_coarsewsd20("bank")``.
    layers
        Hidden states.
    level
        Confidence level of the Student-t intervals over pairs.
    batch_size, progress
        Extraction settings.
    features
        The word's ``word_mean`` vectors of ``data`` already extracted (an
        :class:`~bertology.ActivationStore` or ``{layer: (n, d) array}``); extracted from
        ``model`` when ``None``.

    Returns
    -------
    SimilarityResult

    Raises
    ------
    InputError
        For a dataset without target words.

    Examples
    --------
    >>> import bertology as bt
    >>> r = context_similarity(bt.load_model("minilm"), bt.data.load_coarsewsd20("bat"), layers="0,6",
    ...                        progress=False)
    >>> r.to_frame()["comparison"].unique().tolist()
    ['same sense', 'different sense']
    """
    if data.words is None:
        raise InputError(f"Dataset {data.name!r} has no target words: context_similarity needs word-level items "
                         "(e.g. load_coarsewsd20 or load_table_dataset(..., word_column=...)).")
    features, valid = layer_features(model if features is None else features, data, layers, "word_mean",
                                     batch_size, None, progress)
    labels = data.labels[valid]
    static = pair_similarities(static_embeddings(model, data.texts, data.words)[valid], labels)
    rows = []
    for layer, values in features.items():
        for comparison, sims in pair_similarities(values[valid].astype(np.float64), labels).items():
            if not len(sims):
                continue
            mean, low, high = mean_ci(sims, level)
            rows.append({"layer": layer, "comparison": comparison, "mean": mean, "ci_low": low, "ci_high": high,
                         "n": len(sims), "static": float(static[comparison].mean())})
    return SimilarityResult(pd.DataFrame(rows), {"dataset": data.name, "n_items": int(valid.sum())})
