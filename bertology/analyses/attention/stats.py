"""Head statistics of Clark et al. (2019), accumulated over a corpus in length-sorted batches."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from bertology.analyses.attention.figures import hide_frame
from bertology.analyses.attention.tokens import TargetTokens, target_tokens
from bertology.core.errors import InputError
from bertology.core.extraction import batch_tensors, encode_corpus, length_sorted_batches
from bertology.core.hooks import trace
from bertology.core.io import write_json_atomic
from bertology.core.models import LoadedModel
from bertology.core.progress import progress_bar
from bertology.core.results import META_FILE, Result
from bertology.core.viz import new_figure, paper_style
from bertology.core.viz.style import figure_width

logger = logging.getLogger(__name__)

CHUNK_SENTENCES = 512
"""Sentences tokenized at a time: memory stays bounded however long the corpus is."""

STATISTICS = ("to_cls", "to_sep", "to_punct", "to_self", "to_prev", "to_next", "entropy", "mean_distance")
"""The per-head statistics, in table order."""

STATISTIC_LABELS = {
    "to_cls": "to [CLS]", "to_sep": "to [SEP]", "to_punct": "to . and ,", "to_self": "to self",
    "to_prev": "to previous", "to_next": "to next", "entropy": "entropy (nats)", "mean_distance": "distance (tokens)",
}

AVERAGES = ("sentence", "token")
"""How the statistics are averaged: per sentence then over sentences (Clark et al.'s code), or over all tokens."""

ENTROPY_SMOOTHING = 1e-4
"""Clark et al. smooth each attention row to ``(1 - ε) α + ε / n`` before its entropy (``average="sentence"``)."""

STATS_FILE = "head_stats.csv"


def check_average(average: str) -> str:
    """``average`` must be one of :data:`AVERAGES`; returns it.

    Examples
    --------
    >>> check_average("token")
    'token'
    >>> check_average("corpus")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: average='corpus' is unknown: choose "sentence" or "token".
    """
    if average not in AVERAGES:
        raise InputError(f"average={average!r} is unknown: choose \"sentence\" (per sentence, then over sentences, "
                         "as in Clark et al.'s code) or \"token\" (over all tokens of the corpus).")
    return average


@dataclass
class AttentionStats(Result):
    """Per-head attention statistics over a corpus (Clark et al. 2019).

    Attributes
    ----------
    values
        ``{statistic: array (layers, heads)}`` for every name in :data:`STATISTICS`.
    n_sentences
        Sentences the statistics were computed over.
    n_tokens
        Query tokens counted (padding excluded).
    model
        :meth:`~bertology.LoadedModel.describe` of the model, when known.
    average
        ``"sentence"`` or ``"token"``: how the values were averaged (see :class:`HeadStatsAccumulator`).
    """

    values: dict[str, np.ndarray]
    n_sentences: int
    n_tokens: int
    model: dict[str, Any] = field(default_factory=dict)
    average: str = "sentence"

    @property
    def shape(self) -> tuple[int, int]:
        """``(layers, heads)``."""
        return tuple(self.values[STATISTICS[0]].shape)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per head with columns ``layer, head`` and every statistic.

        Examples
        --------
        >>> s = AttentionStats({k: np.zeros((2, 3)) for k in STATISTICS}, n_sentences=1, n_tokens=4)
        >>> s.to_frame().shape
        (6, 10)
        """
        layers, heads = self.shape
        frame = pd.DataFrame({"layer": np.repeat(np.arange(layers), heads), "head": np.tile(np.arange(heads), layers)})
        for name in STATISTICS:
            frame[name] = self.values[name].reshape(-1)
        return frame

    def plot(self, statistics: Sequence[str] = STATISTICS, width: str | float = "page") -> Figure:
        """One heatmap per statistic, layers (rows) × heads (columns), each with its colour bar.

        Parameters
        ----------
        statistics
            Which statistics to draw; default all (see :data:`STATISTICS`).
        width
            ``"page"`` (default, four panels a row), ``"column"`` (two a row) or inches.

        Returns
        -------
        matplotlib.figure.Figure

        Raises
        ------
        InputError
            If a statistic is unknown or none is given.

        Examples
        --------
        >>> s = AttentionStats({k: np.random.rand(6, 12) for k in STATISTICS}, n_sentences=1, n_tokens=9)
        >>> [ax.get_title() for ax in s.plot(["to_cls"]).axes[:1]]
        ['to [CLS]']
        """
        names = list(statistics)
        unknown = [name for name in names if name not in STATISTICS]
        if unknown or not names:
            raise InputError(f"Unknown statistics {unknown}: choose from {', '.join(STATISTICS)}.")
        inches = figure_width(width)
        ncols = min(len(names), 4 if inches >= 5 else 2)
        nrows = math.ceil(len(names) / ncols)
        n_layers, n_heads = self.shape
        panel = inches / ncols
        cell = panel * 0.7 / n_heads
        figure, axes = new_figure(inches, height=nrows * (cell * max(n_layers, 4) + 0.5), nrows=nrows, ncols=ncols,
                                  squeeze=False)
        with paper_style():
            for index, ax in enumerate(axes.ravel()):
                if index >= len(names):
                    ax.set_visible(False)
                    continue
                name = names[index]
                bounded = name.startswith("to_")
                image = ax.imshow(self.values[name], cmap="viridis", vmin=0.0, vmax=1.0 if bounded else None,
                                  aspect="auto", interpolation="nearest")
                ax.set_title(STATISTIC_LABELS[name])
                ax.set_xticks(np.arange(0, n_heads, max(1, math.ceil(n_heads / 6))))
                ax.set_yticks(np.arange(0, n_layers, max(1, math.ceil(n_layers / 6))))
                ax.tick_params(length=2, pad=1)
                if index % ncols == 0:
                    ax.set_ylabel("layer")
                if index // ncols == nrows - 1 or index + ncols >= len(names):
                    ax.set_xlabel("head")
                hide_frame(ax)
                colorbar = figure.colorbar(image, ax=ax, aspect=12, pad=0.02)
                colorbar.ax.tick_params(labelsize=6, length=2)
        return figure

    def _write(self, directory: Path) -> None:
        self.to_frame().to_csv(directory / STATS_FILE, index=False)
        write_json_atomic(directory / META_FILE, {"n_sentences": self.n_sentences, "n_tokens": self.n_tokens,
                                                  "average": self.average, "model": self.model})

    @classmethod
    def _read(cls, directory: Path) -> AttentionStats:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        frame = pd.read_csv(directory / STATS_FILE, float_precision="round_trip")
        layers, heads = frame["layer"].to_numpy(), frame["head"].to_numpy()
        values = {}
        for name in STATISTICS:
            values[name] = np.full((layers.max() + 1, heads.max() + 1), np.nan)
            values[name][layers, heads] = frame[name].to_numpy(dtype=np.float64)
        return cls(values, int(meta["n_sentences"]), int(meta["n_tokens"]), meta["model"],
                   check_average(meta.get("average", "token")))


class HeadStatsAccumulator:
    """Running sums of the Clark et al. (2019) head statistics; memory independent of corpus size.

    A sentence ``s`` (one item of the corpus, one row of a batch) has ``n_s`` tokens, its
    special tokens ([CLS], [SEP]) included and padding excluded; ``α_ij`` is one head's
    attention from query ``i`` to key ``j`` (``i, j = 1..n_s``); the corpus has ``S``
    sentences and ``N = Σ_s n_s`` tokens. Padding never counts, as query or as key. The
    statistics of one query ``i`` are

    - ``to_cls``, ``to_sep``, ``to_punct``: ``Σ_{j ∈ T} α_ij`` over the keys ``T`` that are
      [CLS], [SEP], or ``.`` and ``,``;
    - ``to_self``: ``α_ii``; ``to_prev``: ``α_i,i-1`` (queries ``i ≥ 2``); ``to_next``:
      ``α_i,i+1`` (queries ``i ≤ n_s - 1``);
    - ``entropy``: ``-Σ_j α_ij log α_ij`` in nats (``0 log 0 = 0``);
    - ``mean_distance``: ``Σ_j α_ij |i - j|`` in tokens.

    ``average="sentence"`` (the default) is the procedure of Clark et al.'s released
    analysis (``General_Analysis.ipynb`` of github.com/clarkkev/attention-analysis): a
    statistic is summed over the queries of a sentence, divided by ``n_s`` and averaged
    over sentences, ``(1/S) Σ_s (1/n_s) Σ_i x_i``. ``to_prev`` and ``to_next`` are divided
    by ``n_s`` as well, though only ``n_s - 1`` queries have that neighbour, and the
    entropy is taken of the smoothed row ``α̃_ij = 0.9999 α_ij + 0.0001 / n_s`` (see
    :data:`ENTROPY_SMOOTHING`). ``mean_distance``, not in their code, is averaged the same way.

    ``average="token"`` averages over all tokens of the corpus, ``(1/N) Σ_s Σ_i x_i``, so
    long sentences weigh more; ``to_prev`` and ``to_next`` are divided by
    ``Σ_s (n_s - 1)``, the queries that have that neighbour, and the entropy is not smoothed.

    The float64 sums stay on the device of the patterns and move to the CPU once, in
    :meth:`result`.

    Parameters
    ----------
    num_layers, num_heads
        Shape of the model.
    average
        ``"sentence"`` or ``"token"`` (see :data:`AVERAGES`).

    Raises
    ------
    InputError
        For an unknown ``average``.

    Examples
    --------
    A previous-token head on one sentence of three tokens; the first query attends to itself:

    >>> prev = torch.tensor([[1.0, 0, 0], [1, 0, 0], [0, 1, 0]])[None, None, None]  # (layer, batch, head, q, k)
    >>> valid, targets = torch.ones(1, 3, dtype=torch.bool), torch.zeros(1, 3, 3, dtype=torch.bool)
    >>> for average in AVERAGES:
    ...     acc = HeadStatsAccumulator(1, 1, average=average)
    ...     acc.update(prev, valid, targets)
    ...     print(average, round(float(acc.result().values["to_prev"][0, 0]), 4))
    sentence 0.6667
    token 1.0
    """

    def __init__(self, num_layers: int, num_heads: int, average: str = "sentence") -> None:
        self.average = check_average(average)
        self.sums = {name: torch.zeros(num_layers, num_heads, dtype=torch.float64) for name in STATISTICS}
        self.n_queries = 0
        self.n_prev = 0
        self.n_sentences = 0

    @torch.inference_mode()
    def update(self, patterns: torch.Tensor, valid: torch.Tensor, targets: torch.Tensor) -> None:
        """Add one batch.

        Parameters
        ----------
        patterns
            Attention probabilities ``(layers, batch, heads, query, key)``.
        valid
            ``(batch, seq)`` bool, ``True`` for real tokens, ``False`` for padding.
        targets
            ``(batch, seq, 3)`` bool: the token is [CLS], [SEP], punctuation
            (:meth:`~bertology.analyses.attention.tokens.TargetTokens.masks`).
        """
        seq = patterns.shape[-1]
        valid = valid.to(patterns.device)
        keys = valid[None, :, None, None, :].to(patterns.dtype)       # (1, batch, 1, 1, key)
        queries = valid[None, :, None, :].to(patterns.dtype)          # (1, batch, 1, query)
        neighbour = valid[:, 1:].to(patterns.dtype)[None, :, None, :]  # query i and i-1 (or i+1) both real
        probs = patterns * keys
        rows = probs
        if self.average == "sentence":
            lengths = valid.sum(-1).clamp(min=1).to(patterns.dtype)[None, :, None, None]  # n_s: (1, batch, 1, 1)
            rows = ((1 - ENTROPY_SMOOTHING) * probs + ENTROPY_SMOOTHING / lengths[..., None]) * keys
            queries, neighbour = queries / lengths, neighbour / lengths
        to_targets = torch.einsum("lbhqk,bkc->lbhqc", probs, targets.to(patterns.device, patterns.dtype))
        positions = torch.arange(seq, device=patterns.device, dtype=patterns.dtype)
        distance = (positions[:, None] - positions[None, :]).abs()   # (query, key)
        per_query = {
            "to_cls": to_targets[..., 0], "to_sep": to_targets[..., 1], "to_punct": to_targets[..., 2],
            "to_self": probs.diagonal(dim1=-2, dim2=-1),
            "entropy": -torch.special.xlogy(rows, rows).sum(-1),
            "mean_distance": (probs * distance).sum(-1),
        }
        for name, value in per_query.items():
            self._add(name, (value * queries).sum(dim=(1, 3)))
        self._add("to_prev", (probs.diagonal(offset=-1, dim1=-2, dim2=-1) * neighbour).sum(dim=(1, 3)))
        self._add("to_next", (probs.diagonal(offset=1, dim1=-2, dim2=-1) * neighbour).sum(dim=(1, 3)))
        self.n_queries += int(valid.sum())
        self.n_prev += int(valid[:, 1:].sum())
        self.n_sentences += int(valid.any(-1).sum())

    def _add(self, name: str, total: torch.Tensor) -> None:
        """Add ``total`` ``(layers, heads)`` to the float64 running sum of ``name``, kept on ``total``'s device."""
        self.sums[name] = self.sums[name].to(total.device) + total.double()

    def result(self, model: dict[str, Any] | None = None) -> AttentionStats:
        """The averages so far as an :class:`AttentionStats`.

        Raises
        ------
        InputError
            If no token was added yet.
        """
        if self.n_queries == 0:
            raise InputError("No tokens were counted: pass at least one non-empty sentence.")
        values = {}
        for name, total in self.sums.items():
            if self.average == "sentence":
                count = self.n_sentences
            else:
                count = self.n_prev if name in ("to_prev", "to_next") else self.n_queries
            values[name] = (total.cpu() / max(count, 1)).numpy()
        return AttentionStats(values, self.n_sentences, self.n_queries, model or {}, self.average)


def attention_stats(model: LoadedModel, texts: Sequence[str], batch_size: int = 32,
                    truncate: bool = False, average: str = "sentence", progress: bool = True) -> AttentionStats:
    """Per-head attention statistics over a corpus, as defined by Clark et al. (2019).

    "What Does BERT Look At? An Analysis of BERT's Attention" (BlackboxNLP 2019): for
    every head, the mean attention to [CLS], to [SEP], to ``.``/``,``, to the token itself,
    to the previous and to the next token, the mean entropy of the attention distribution
    of a query token, and the mean attention distance. Sentences are run in length-sorted
    batches under ``torch.inference_mode`` with eager attention; the corpus is tokenized
    :data:`CHUNK_SENTENCES` sentences at a time and sums are accumulated on the fly, so
    memory does not grow with the corpus. Padding is never counted, neither
    as query nor as key; [CLS]/[SEP] are found from the tokenizer's special-token ids.
    Each sentence is encoded with the model's special tokens, which count as tokens of the
    sentence. The exact formulas of both ways to average are in :class:`HeadStatsAccumulator`.

    Parameters
    ----------
    model
        From :func:`bertology.load_model`.
    texts
        The corpus, one sentence per item.
    batch_size
        Sentences per forward pass.
    truncate
        Cut sentences longer than the model allows instead of raising.
    average
        ``"sentence"`` (default): average each statistic within a sentence, then over
        sentences, dividing to-previous/to-next by the sentence length and smoothing the
        entropy, as Clark et al.'s released code does; ``"token"``: average over all
        tokens of the corpus.
    progress
        Show a progress bar.

    Returns
    -------
    AttentionStats
        ``to_frame()`` gives columns layer, head, to_cls, to_sep, to_punct, to_self,
        to_prev, to_next, entropy, mean_distance.

    Raises
    ------
    InputError
        Empty corpus, an empty sentence, a sentence longer than the model accepts, or an
        unknown ``average``.

    Examples
    --------
    >>> import bertology as bt
    >>> m = bt.load_model("minilm")
    >>> stats = bt.attention_stats(m, ["The bank is closed.", "It rained, so we stayed in."], progress=False)
    >>> stats.to_frame().shape
    (72, 10)
    """
    if isinstance(texts, str):
        raise InputError("texts must be a list of strings, not one string: wrap it as [text].")
    if len(texts) == 0:
        raise InputError("The input is empty: pass at least one sentence.")
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}.")
    targets: TargetTokens = target_tokens(model.tokenizer)
    accumulator = HeadStatsAccumulator(model.num_layers, model.num_heads, average=average)
    names = [f"layers.{i}.attn.pattern" for i in range(model.num_layers)]
    chunk = batch_size * max(1, CHUNK_SENTENCES // batch_size)
    starts = range(0, len(texts), chunk)
    total = math.ceil(len(texts) / batch_size)

    def batches() -> Iterator[tuple[dict[str, torch.Tensor], torch.Tensor]]:
        for start in starts:
            try:
                corpus = encode_corpus(model.tokenizer, texts[start:start + chunk], model.max_length,
                                       truncate=truncate)
            except InputError as error:
                raise InputError(f"In the sentences from {start} on (add {start} to the item number): "
                                 f"{error}") from None
            for rows in length_sorted_batches(corpus.lengths, batch_size):
                inputs, masks = batch_tensors(model, corpus, rows)
                yield inputs, masks.attention_mask

    with torch.inference_mode():
        for inputs, valid in progress_bar(batches(), total=total, desc="attention", unit="batch", progress=progress):
            with trace(model, names, stop=True) as cache:
                model(**inputs)
            patterns = torch.stack([cache[name] for name in names]).float()
            accumulator.update(patterns, valid, targets.masks(inputs["input_ids"]))
    logger.info("Attention statistics over %d sentences (%d tokens).", len(texts), accumulator.n_queries)
    return accumulator.result(model.describe())
