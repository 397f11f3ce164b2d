"""All attention patterns of one sentence or sentence pair, with its tokens, and their figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from bertology.analyses.attention.figures import hide_frame, plot_attention_map
from bertology.core.errors import InputError
from bertology.core.hooks import trace
from bertology.core.models import LoadedModel
from bertology.core.results import Result
from bertology.core.viz import new_figure, paper_style
from bertology.core.viz.style import figure_width

Text = str | tuple[str, str]
ATTENTION_FILE = "attention.npz"


def _select(choice: Sequence[int] | Literal["all"], size: int, name: str) -> list[int]:
    """``"all"`` or indices (negative ones count from the end) as a list of non-negative indices."""
    if isinstance(choice, str):
        if choice != "all":
            raise InputError(f"{name} must be 'all' or a list of indices, got {choice!r}.")
        return list(range(size))
    try:
        return [range(size)[i] for i in choice]
    except IndexError:
        raise InputError(f"{name} {list(choice)} out of range: there are {size} (0..{size - 1}).") from None


@dataclass
class SentenceAttention(Result):
    """Attention probabilities of every layer and head for one input.

    Attributes
    ----------
    tokens
        Token strings, special tokens included.
    patterns
        ``(layers, heads, query, key)`` float32 array.
    segments
        Segment of each token: 0 for the first text (and leading specials), 1 for the second.
    """

    tokens: list[str]
    patterns: np.ndarray
    segments: np.ndarray

    @property
    def is_pair(self) -> bool:
        """Whether the input was a sentence pair."""
        return bool(self.segments.max(initial=0) > 0)

    def head_mean(self) -> np.ndarray:
        """Head-averaged maps ``(layers, query, key)``.

        Examples
        --------
        >>> SentenceAttention(["a"], np.ones((2, 3, 1, 1)), np.zeros(1, int)).head_mean().shape
        (2, 1, 1)
        """
        return self.patterns.mean(axis=1)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: layer, head, query, key (positions), query_token, key_token, weight.

        Examples
        --------
        >>> a = SentenceAttention(["a", "b"], np.full((1, 3, 2, 2), 0.5, np.float32), np.zeros(2, int))
        >>> a.to_frame().shape
        (12, 7)
        """
        layers, heads, size, _ = self.patterns.shape
        layer, head, query, key = np.meshgrid(np.arange(layers), np.arange(heads), np.arange(size), np.arange(size),
                                              indexing="ij")
        tokens = np.asarray(self.tokens, dtype=object)
        return pd.DataFrame({"layer": layer.ravel(), "head": head.ravel(), "query": query.ravel(),
                             "key": key.ravel(), "query_token": tokens[query.ravel()],
                             "key_token": tokens[key.ravel()], "weight": self.patterns.ravel()})

    def plot(self, layers: Sequence[int] | Literal["all"] = "all", heads: Sequence[int] | Literal["all"] = "all",
             width: str | float = "page") -> Figure:
        """Layer × head grid of the attention maps (rows: layers, columns: heads).

        Cells carry no token labels (see :func:`attention_head_map` for one labelled head);
        rows are labelled ``L0…``, columns ``H0…``, with one shared colour scale.

        Parameters
        ----------
        layers, heads
            ``"all"`` (default) or the indices to draw (negative ones count from the end).
        width
            ``"page"`` (default), ``"column"`` or inches.

        Returns
        -------
        matplotlib.figure.Figure

        Raises
        ------
        InputError
            If a layer or head does not exist.

        Examples
        --------
        >>> a = SentenceAttention(["a", "b"], np.full((2, 3, 2, 2), 0.5, np.float32), np.zeros(2, int))
        >>> len(a.plot().axes)  # 2 x 3 maps and the colour bar
        7
        """
        n_layers, n_heads = self.patterns.shape[:2]
        layers = _select(layers, n_layers, "layers")
        heads = _select(heads, n_heads, "heads")
        inches = figure_width(width)
        cell = (inches - 0.85) / (len(heads) + 0.06 * (len(heads) - 1))
        height = cell * (len(layers) + 0.06 * (len(layers) - 1)) + 0.22
        spacing = dict(left=0.3 / inches, right=1 - 0.55 / inches, bottom=0.02 / height, top=1 - 0.2 / height,
                       wspace=0.06, hspace=0.06)
        figure, axes = new_figure(inches, height=height, nrows=len(layers), ncols=len(heads), squeeze=False,
                                  gridspec_kw=spacing)
        figure.set_layout_engine("none")
        image = None
        with paper_style():
            for row, layer in enumerate(layers):
                for col, head in enumerate(heads):
                    ax = axes[row, col]
                    image = ax.imshow(self.patterns[layer, head], cmap="viridis", vmin=0.0, vmax=1.0,
                                      interpolation="nearest")
                    ax.set_xticks([])
                    ax.set_yticks([])
                    hide_frame(ax)
                    if row == 0:
                        ax.set_title(f"H{head}", fontsize=7, pad=2)
                    if col == 0:
                        ax.set_ylabel(f"L{layer}", fontsize=7, rotation=0, ha="right", va="center", labelpad=2)
            colorbar_axes = figure.add_axes((1 - 0.45 / inches, 0.25, 0.08 / inches, 0.5))
            figure.colorbar(image, cax=colorbar_axes, label="attention")
        return figure

    def _write(self, directory: Path) -> None:
        np.savez_compressed(directory / ATTENTION_FILE, tokens=np.asarray(self.tokens, dtype=str),
                            patterns=self.patterns, segments=self.segments)

    @classmethod
    def _read(cls, directory: Path) -> SentenceAttention:
        with np.load(directory / ATTENTION_FILE, allow_pickle=False) as data:
            return cls([str(t) for t in data["tokens"]], data["patterns"], data["segments"])


def encode_text(model: LoadedModel, text: Text) -> tuple[dict[str, torch.Tensor], np.ndarray]:
    """Model inputs for one sentence or a ``(text_a, text_b)`` pair (batch of one), and the segments.

    Parameters
    ----------
    model
        From :func:`bertology.load_model`.
    text
        A sentence, or ``(text_a, text_b)`` for a [SEP]-separated pair.

    Returns
    -------
    tuple
        ``(inputs, segments)``: the keyword arguments of the model, and per token its
        segment (0 for the first text and leading specials, 1 from the second text on).

    Raises
    ------
    InputError
        Empty text, a pair that is not two strings, or an input longer than the model accepts.

    Examples
    --------
    >>> from bertology import load_model
    >>> inputs, segments = encode_text(load_model("minilm"), ("Is it open?", "Yes."))
    >>> inputs["token_type_ids"].tolist(), segments.tolist()
    ([[0, 0, 0, 0, 0, 0, 1, 1, 1]], [0, 0, 0, 0, 0, 0, 1, 1, 1])
    """
    parts = (text,) if isinstance(text, str) else tuple(text) if isinstance(text, (tuple, list)) else ()
    if not 1 <= len(parts) <= 2 or not all(isinstance(p, str) for p in parts):
        raise InputError(f"Expected a sentence or a (text_a, text_b) pair of strings, got {text!r}.")
    if not all(p.strip() for p in parts):
        raise InputError("The text is empty: pass a sentence with at least one word.")
    encoded = model.tokenizer(*parts, return_tensors="pt", truncation=False,
                              return_token_type_ids=True, verbose=False)
    length = encoded["input_ids"].shape[1]
    if length > model.max_length:
        raise InputError(f"The input has {length} tokens but the model accepts at most {model.max_length}: "
                         "shorten the sentence.")
    inputs = {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}
    if model.adapter.uses_token_type_ids:
        inputs["token_type_ids"] = encoded["token_type_ids"]
    sequence_ids = encoded.sequence_ids(0)
    segments = np.array([0 if s is None else s for s in sequence_ids], dtype=np.int64)
    if len(parts) == 2:
        segments[sequence_ids.index(1):] = 1
    return inputs, segments


def sentence_attention(model: LoadedModel, text: Text) -> SentenceAttention:
    """Attention probabilities of every layer and head for one sentence or sentence pair.

    Parameters
    ----------
    model
        From :func:`bertology.load_model` (any supported architecture; attention runs eager).
    text
        A sentence, or ``(text_a, text_b)`` for a [SEP]-separated pair.

    Returns
    -------
    SentenceAttention

    Examples
    --------
    >>> from bertology import load_model
    >>> a = sentence_attention(load_model("minilm"), "The bank is closed.")
    >>> a.tokens[:3], a.patterns.shape
    (['[CLS]', 'the', 'bank'], (6, 12, 7, 7))
    """
    inputs, segments = encode_text(model, text)
    names = [f"layers.{i}.attn.pattern" for i in range(model.num_layers)]
    with torch.inference_mode(), trace(model, names, stop=True) as cache:
        model(**{key: value.to(model.device) for key, value in inputs.items()})
    patterns = torch.stack([cache[name][0] for name in names]).float().cpu().numpy()
    tokens = model.tokenizer.convert_ids_to_tokens(inputs["input_ids"][0].tolist())
    return SentenceAttention(tokens, patterns, segments)


def attention_grid(model: LoadedModel, text: Text, layers: Sequence[int] | Literal["all"] = "all",
                   heads: Sequence[int] | Literal["all"] = "all", width: str | float = "page") -> Figure:
    """Layer × head grid of attention maps for one sentence or pair (paper figure).

    Parameters
    ----------
    model
        From :func:`bertology.load_model`.
    text
        A sentence or a ``(text_a, text_b)`` pair.
    layers, heads
        ``"all"`` (default) or the indices to draw.
    width
        ``"page"`` (default), ``"column"`` or inches.

    Returns
    -------
    matplotlib.figure.Figure
        Save it with :func:`bertology.core.viz.save_figure` (vector PDF + PNG).

    Examples
    --------
    >>> import bertology as bt
    >>> fig = bt.attention_grid(bt.load_model("minilm"), "The bank in the city is closed")
    >>> len(fig.axes)  # 6 layers x 12 heads and the colour bar
    73
    """
    return sentence_attention(model, text).plot(layers=layers, heads=heads, width=width)


def attention_head_map(model: LoadedModel, text: Text, layer: int, head: int,
                       width: str | float = "column") -> Figure:
    """One head's attention map for one sentence or pair, with token labels.

    Parameters
    ----------
    model
        From :func:`bertology.load_model`.
    text
        A sentence or a ``(text_a, text_b)`` pair.
    layer, head
        Which head (negative indices count from the end).
    width
        ``"column"`` (default), ``"page"`` or inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        If the layer or head does not exist.

    Examples
    --------
    >>> import bertology as bt
    >>> fig = attention_head_map(bt.load_model("minilm"), "The bank is closed.", layer=2, head=5)
    >>> fig.axes[0].get_title()
    'layer 2, head 5'
    """
    if not (-model.num_layers <= layer < model.num_layers and -model.num_heads <= head < model.num_heads):
        raise InputError(f"No head ({layer}, {head}): this model has layers 0..{model.num_layers - 1} "
                         f"and heads 0..{model.num_heads - 1}.")
    attention = sentence_attention(model, text)
    layer, head = layer % model.num_layers, head % model.num_heads
    return plot_attention_map(attention.patterns[layer, head], attention.tokens,
                              title=f"layer {layer}, head {head}", width=width)
