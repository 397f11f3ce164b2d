"""Ethayarajh (2019): self-similarity, intra-sentence similarity and the anisotropy baseline."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bertology.analyses.geometry.vectors import cosine_matrix, unit_rows, word_vectors
from bertology.core.errors import InputError
from bertology.core.models import LoadedModel
from bertology.core.results import TableResult
from bertology.core.viz import PALETTE, new_figure
from bertology.core.viz.style import paper_style


def self_similarity(vectors: np.ndarray, types: Sequence[str], min_count: int = 2) -> float:
    """Mean over word types of the average cosine between a type's occurrences in different contexts.

    SelfSim(w) = 1/(n² − n) Σ_{j≠k} cos(f(s_j, i_j), f(s_k, i_k)) for the ``n`` occurrences of
    ``w`` (Ethayarajh 2019, Eq. 1); types seen fewer than ``min_count`` times are skipped.

    Examples
    --------
    >>> v = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> round(self_similarity(v, ["a", "a", "b"]), 3)
    0.0
    """
    types = np.asarray(types, dtype=object)
    values = []
    for word in np.unique(types):
        rows = np.flatnonzero(types == word)
        if len(rows) >= max(2, min_count):
            sims = cosine_matrix(vectors[rows])
            values.append((sims.sum() - np.trace(sims)) / (len(rows) ** 2 - len(rows)))
    if not values:
        raise InputError(f"No word occurs at least {max(2, min_count)} times: self-similarity needs repeated words; "
                         "add sentences that share words or lower min_count.")
    return float(np.mean(values))


def intra_sentence_similarity(vectors: np.ndarray, sentence: np.ndarray) -> float:
    """Mean over sentences of the average cosine between each word and the sentence's mean vector.

    IntraSim(s) = 1/n Σ_i cos(s⃗, f(s, i)) with s⃗ = 1/n Σ_i f(s, i) (Ethayarajh 2019, Eq. 2).

    Examples
    --------
    >>> v = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> round(intra_sentence_similarity(v, np.array([0, 0])), 3)
    0.707
    """
    values = []
    for index in np.unique(sentence):
        rows = vectors[sentence == index]
        centre = unit_rows(rows.mean(axis=0, keepdims=True))[0]
        values.append(float((unit_rows(rows) @ centre).mean()))
    return float(np.mean(values))


def anisotropy_baseline(vectors: np.ndarray, n_pairs: int = 1000, seed: int = 0) -> float:
    """Mean cosine similarity of randomly drawn pairs of distinct word occurrences (Ethayarajh 2019).

    Examples
    --------
    >>> round(anisotropy_baseline(np.array([[1.0, 0.0], [1.0, 0.0]])), 3)
    1.0
    """
    if len(vectors) < 2:
        raise InputError("The anisotropy baseline needs at least 2 word occurrences: pass more text.")
    rng = np.random.default_rng(seed)
    first = rng.integers(0, len(vectors), n_pairs)
    second = (first + rng.integers(1, len(vectors), n_pairs)) % len(vectors)
    unit = unit_rows(vectors)
    return float(np.einsum("ij,ij->i", unit[first], unit[second]).mean())


class EthayarajhResult(TableResult):
    """Self-similarity, intra-sentence similarity and anisotropy by layer.

    Parameters
    ----------
    frame
        Columns ``layer, measure, raw, baseline, adjusted`` with ``measure`` in
        ``self_similarity``, ``intra_sentence`` and ``anisotropy``; ``adjusted = raw − baseline``.
    meta
        Corpus size and settings.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": [0], "measure": ["anisotropy"], "raw": [.3], "baseline": [.3], "adjusted": [0.]})
    >>> EthayarajhResult(t, {"n_pairs": 1000}).to_frame()["measure"].tolist()
    ['anisotropy']
    """

    def plot(self) -> Figure:
        """Raw (solid) and anisotropy-adjusted (dashed) measures by layer.

        Examples
        --------
        >>> t = pd.DataFrame({"layer": [0, 0], "measure": ["self_similarity", "anisotropy"], "raw": [.5, .3],
        ...                   "baseline": [.3, .3], "adjusted": [.2, 0.]})
        >>> len(EthayarajhResult(t).plot().axes)
        2
        """
        with paper_style():
            figure, axes = new_figure("page", height=2.4, ncols=2)
            names = {"self_similarity": "self-similarity", "intra_sentence": "intra-sentence", "anisotropy": "anisotropy"}
            for index, (measure, label) in enumerate(names.items()):
                rows = self.frame[self.frame["measure"] == measure].sort_values("layer")
                if rows.empty:
                    continue
                axes[0].plot(rows["layer"], rows["raw"], marker="o", color=PALETTE[index], label=label)
                if measure != "anisotropy":
                    axes[1].plot(rows["layer"], rows["adjusted"], marker="o", color=PALETTE[index], label=label)
            for axis, title in zip(axes, ("raw cosine", "adjusted for anisotropy")):
                axis.set_xlabel("layer (0 = embeddings)")
                axis.set_title(title)
                axis.set_xticks(sorted(self.frame["layer"].unique()))
            axes[0].set_ylabel("mean cosine similarity")
            axes[0].legend(loc="best")
            axes[1].legend(loc="best")
            return figure


def ethayarajh_measures(model: LoadedModel, texts: Sequence[str], layers: str | int | Sequence[int] = "all",
                        min_count: int = 2, n_pairs: int = 1000, seed: int = 0, batch_size: int = 32,
                        progress: bool = True) -> EthayarajhResult:
    """How contextual are a model's word vectors? Ethayarajh's (2019) three measures by layer.

    Self-similarity (same word, different contexts), intra-sentence similarity (words of
    one sentence vs the sentence mean) and the anisotropy baseline (random word pairs);
    the first two are also reported minus the baseline.

    Parameters
    ----------
    model
        From :func:`bertology.load_model`.
    texts
        Sentences whose words repeat across sentences.
    layers
        Hidden states.
    min_count
        Minimum occurrences of a word type for self-similarity.
    n_pairs
        Random pairs for the anisotropy baseline.
    seed
        Seed of the random pairs.
    batch_size, progress
        Extraction settings.

    Returns
    -------
    EthayarajhResult

    Examples
    --------
    >>> import bertology as bt
    >>> r = ethayarajh_measures(bt.load_model("minilm"), ["the bank is open", "the river bank is wet"],
    ...                         layers="0,6", progress=False)
    >>> sorted(r.to_frame()["measure"].unique())
    ['anisotropy', 'intra_sentence', 'self_similarity']
    """
    occurrences = word_vectors(model, texts, layers, batch_size, progress)
    rows = []
    for layer, vectors in occurrences.vectors.items():
        baseline = anisotropy_baseline(vectors, n_pairs, seed)
        for measure, raw in (("self_similarity", self_similarity(vectors, occurrences.types, min_count)),
                             ("intra_sentence", intra_sentence_similarity(vectors, occurrences.sentence)),
                             ("anisotropy", baseline)):
            rows.append({"layer": layer, "measure": measure, "raw": raw, "baseline": baseline,
                         "adjusted": raw - baseline})
    return EthayarajhResult(pd.DataFrame(rows), {"n_sentences": len(texts), "n_words": len(occurrences.types),
                                                 "min_count": min_count, "n_pairs": n_pairs, "seed": seed})
