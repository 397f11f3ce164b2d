"""Pooling strategies: named functions that turn token vectors into one vector per item.

Each strategy returns token *weights* of shape ``(batch, seq)``; pooling every layer at
once is then one ``einsum`` (no per-token Python loops).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from bertology.core.errors import InputError


@dataclass
class PoolingInputs:
    """Masks a pooling strategy may use; every tensor is ``(batch, seq)`` bool.

    Attributes
    ----------
    attention_mask
        Real tokens (special tokens included), padding excluded.
    content_mask
        Real tokens that are not special tokens.
    word_mask
        Tokens of the target word, or ``None`` when no words were given.
    sequence
        ``(items,)`` long: the batch row (encoded sentence) of each item, when several
        items share one sentence (several target words of one forward pass); then every
        mask has one row per item. ``None``: item ``i`` is batch row ``i``.
    """

    attention_mask: torch.Tensor
    content_mask: torch.Tensor
    word_mask: torch.Tensor | None = None
    sequence: torch.Tensor | None = None


def _normalise(mask: torch.Tensor) -> torch.Tensor:
    mask = mask.float()
    return mask / mask.sum(dim=1, keepdim=True).clamp_min(1.0)


def _first(mask: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.one_hot(mask.int().argmax(dim=1), mask.shape[1]).float()


def _last(mask: torch.Tensor) -> torch.Tensor:
    flipped = mask.int().flip(dims=[1]).argmax(dim=1)
    return torch.nn.functional.one_hot(mask.shape[1] - 1 - flipped, mask.shape[1]).float()


def _word_mask(inputs: PoolingInputs) -> torch.Tensor:
    if inputs.word_mask is None:
        raise InputError("Word pooling needs target words: pass words= (word indices) or spans= (character spans).")
    return inputs.word_mask


def cls_pool(inputs: PoolingInputs) -> torch.Tensor:
    """Weights selecting the first token ([CLS] / <s>)."""
    weights = torch.zeros_like(inputs.attention_mask, dtype=torch.float)
    weights[:, 0] = 1.0
    return weights


def mean_pool(inputs: PoolingInputs) -> torch.Tensor:
    """Mean over all real tokens, special tokens included, padding excluded (sentence-transformers' rule)."""
    return _normalise(inputs.attention_mask)


def first_pool(inputs: PoolingInputs) -> torch.Tensor:
    """The first non-special token."""
    return _first(inputs.content_mask)


def last_pool(inputs: PoolingInputs) -> torch.Tensor:
    """The last non-special token."""
    return _last(inputs.content_mask)


def word_mean_pool(inputs: PoolingInputs) -> torch.Tensor:
    """Mean of the target word's word-pieces (the CoarseWSD-20 word vector)."""
    return _normalise(_word_mask(inputs))


def word_first_pool(inputs: PoolingInputs) -> torch.Tensor:
    """The target word's first word-piece."""
    return _first(_word_mask(inputs))


POOLINGS: dict[str, Callable[[PoolingInputs], torch.Tensor]] = {
    "cls": cls_pool,
    "mean": mean_pool,
    "first": first_pool,
    "last": last_pool,
    "word_mean": word_mean_pool,
    "word_first": word_first_pool,
}
_ALIASES = {"word": "word_mean"}
WORD_POOLINGS = frozenset({"word_mean", "word_first"})


def resolve_pooling(name: str) -> str:
    """Canonical pooling name (``"word"`` means ``"word_mean"``).

    Raises
    ------
    InputError
        For an unknown strategy; the message lists the known ones.

    Examples
    --------
    >>> resolve_pooling("word")
    'word_mean'
    """
    name = _ALIASES.get(name, name)
    if name not in POOLINGS:
        raise InputError(f"Unknown pooling {name!r}: choose one of {', '.join(POOLINGS)} (or 'word' = 'word_mean').")
    return name


def pool_layers(hidden: torch.Tensor | Sequence[torch.Tensor], inputs: PoolingInputs, pooling: str) -> torch.Tensor:
    """Pool several layers with one strategy.

    Parameters
    ----------
    hidden
        ``(layers, batch, seq, hidden)``, or a sequence of ``(batch, seq, hidden)`` tensors
        (pooled one by one, never copied into one stacked tensor).
    inputs
        The batch's masks.
    pooling
        A name from :data:`POOLINGS` (or alias).

    Returns
    -------
    torch.Tensor
        ``(layers, items, hidden)``: one vector per batch row, or per item when
        ``inputs.sequence`` maps several items to one row.

    Examples
    --------
    >>> h = torch.arange(12.).reshape(1, 1, 3, 4)
    >>> m = torch.tensor([[True, True, False]])
    >>> pool_layers(h, PoolingInputs(m, m), "mean")
    tensor([[[2., 3., 4., 5.]]])
    >>> words = torch.tensor([[False, True, False], [False, False, True]])
    >>> pool_layers(h, PoolingInputs(m.repeat(2, 1), m.repeat(2, 1), words, torch.tensor([0, 0])), "word_mean")
    tensor([[[ 4.,  5.,  6.,  7.],
             [ 8.,  9., 10., 11.]]])
    """
    weights = POOLINGS[resolve_pooling(pooling)](inputs).to(hidden[0].dtype)
    if inputs.sequence is None:
        return torch.stack([torch.bmm(weights.unsqueeze(1), layer).squeeze(1) for layer in hidden])
    sequence = inputs.sequence.to(weights.device)
    order = torch.argsort(sequence, stable=True)
    counts = torch.bincount(sequence, minlength=hidden[0].shape[0])
    starts = torch.cumsum(counts, 0) - counts
    slot = torch.empty_like(sequence)
    slot[order] = torch.arange(len(sequence), device=sequence.device) - starts[sequence[order]]
    grouped = weights.new_zeros(hidden[0].shape[0], int(counts.max()), weights.shape[1])
    grouped[sequence, slot] = weights
    return torch.stack([torch.bmm(grouped, layer)[sequence, slot] for layer in hidden])
