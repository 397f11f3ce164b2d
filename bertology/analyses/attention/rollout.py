"""Attention rollout (Abnar & Zuidema 2020) and head-averaged attention maps for one input."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bertology.analyses.attention.figures import plot_attention_map
from bertology.analyses.attention.sentence import Text, sentence_attention
from bertology.core.attention import rollout
from bertology.core.models import LoadedModel
from bertology.core.results import Result

MAPS_FILE = "maps.npz"


@dataclass
class AttentionMaps(Result):
    """Token-to-token maps of one input, one per layer: rollout or head-averaged attention.

    Attributes
    ----------
    tokens
        Token strings, special tokens included.
    maps
        ``(layers, query, key)``.
    kind
        ``"rollout"`` or ``"mean"``.
    """

    tokens: list[str]
    maps: np.ndarray
    kind: Literal["rollout", "mean"]

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: layer, query, key (positions), query_token, key_token, weight.

        Examples
        --------
        >>> AttentionMaps(["a", "b"], np.eye(2)[None], "mean").to_frame().shape
        (4, 6)
        """
        layers, size, _ = self.maps.shape
        layer, query, key = np.meshgrid(np.arange(layers), np.arange(size), np.arange(size), indexing="ij")
        tokens = np.asarray(self.tokens, dtype=object)
        return pd.DataFrame({"layer": layer.ravel(), "query": query.ravel(), "key": key.ravel(),
                             "query_token": tokens[query.ravel()], "key_token": tokens[key.ravel()],
                             "weight": self.maps.ravel()})

    def plot(self, layer: int = -1, width: str | float = "column") -> Figure:
        """The map of one layer with token labels (see :func:`~bertology.analyses.attention.plot_attention_map`).

        Examples
        --------
        >>> AttentionMaps(["a", "b"], np.eye(2)[None], "mean").plot().axes[0].get_title()
        'mean attention, layer 0'
        """
        index = range(len(self.maps))[layer]
        title = f"{'rollout' if self.kind == 'rollout' else 'mean attention'}, layer {index}"
        return plot_attention_map(self.maps[index], self.tokens, title=title, width=width)

    def _write(self, directory: Path) -> None:
        np.savez_compressed(directory / MAPS_FILE, tokens=np.asarray(self.tokens, dtype=str), maps=self.maps,
                            kind=np.asarray(self.kind))

    @classmethod
    def _read(cls, directory: Path) -> AttentionMaps:
        with np.load(directory / MAPS_FILE, allow_pickle=False) as data:
            return cls([str(t) for t in data["tokens"]], data["maps"], str(data["kind"]))


def attention_rollout(model: LoadedModel, text: Text) -> AttentionMaps:
    """Attention rollout of one sentence or pair (Abnar & Zuidema 2020).

    Parameters
    ----------
    model
        From :func:`bertology.load_model`.
    text
        A sentence or a ``(text_a, text_b)`` pair.

    Returns
    -------
    AttentionMaps
        ``maps[l]`` is the rollout up to and including layer ``l`` (see :func:`rollout`).

    Examples
    --------
    >>> import bertology as bt
    >>> r = bt.attention_rollout(bt.load_model("minilm"), "The bank is closed.")
    >>> r.maps.shape, bool(np.allclose(r.maps.sum(-1), 1))
    ((6, 7, 7), True)
    """
    attention = sentence_attention(model, text)
    return AttentionMaps(attention.tokens, rollout(attention.patterns), "rollout")


def head_mean_attention(model: LoadedModel, text: Text) -> AttentionMaps:
    """Head-averaged attention maps of one sentence or pair, one per layer.

    Parameters
    ----------
    model
        From :func:`bertology.load_model`.
    text
        A sentence or a ``(text_a, text_b)`` pair.

    Returns
    -------
    AttentionMaps
        ``maps[l]`` is the mean over heads of layer ``l``'s attention probabilities.

    Examples
    --------
    >>> import bertology as bt
    >>> head_mean_attention(bt.load_model("minilm"), "The bank is closed.").maps.shape
    (6, 7, 7)
    """
    attention = sentence_attention(model, text)
    return AttentionMaps(attention.tokens, attention.head_mean().astype(np.float64), "mean")
