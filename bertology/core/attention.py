"""Attention maps across layers and units: rollout (Abnar & Zuidema 2020) and word-level attention
(Clark et al. 2019), shared by the attention, attribution and syntax analyses."""

from __future__ import annotations

import numpy as np
import torch

from bertology.core.errors import InputError

FROM_SPLIT = ("mean", "first", "max")
"""How the attention rows of a word split into several pieces are merged: their mean (the paper), the
first piece's row (the default of the released ``make_attn_word_level``), or their maximum renormalised."""


def check_from_split(from_split: str) -> str:
    """``from_split`` must be one of :data:`FROM_SPLIT`; returns it.

    Examples
    --------
    >>> check_from_split("mean")
    'mean'
    >>> check_from_split("sum")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: from_split='sum' is unknown: ...
    """
    if from_split not in FROM_SPLIT:
        raise InputError(f"from_split={from_split!r} is unknown: choose \"mean\" (the paper), \"first\" or \"max\".")
    return from_split


def word_attention(patterns: torch.Tensor, token_units: torch.Tensor, n_units: int,
                   from_split: str = "mean") -> torch.Tensor:
    """Token-to-token attention as unit-to-unit attention (``bpe_utils.get_word_word_attention``).

    A unit is a word or one special token. The attention *to* a split word is the sum of
    the attention to its pieces; the attention *from* a split word is the mean of its
    pieces' rows (``from_split="mean"``, the paper), the first piece's row (``"first"``)
    or the element-wise maximum of the rows divided by its sum (``"max"``).

    Parameters
    ----------
    patterns
        ``(..., batch, heads, tokens, tokens)`` attention probabilities.
    token_units
        ``(batch, tokens)`` long: the unit of each token, or ``n_units`` for a token of
        no unit (padding).
    n_units
        Units per sentence of the batch (the largest count; missing units stay zero).
    from_split
        One of :data:`FROM_SPLIT`.

    Returns
    -------
    torch.Tensor
        ``(..., batch, heads, n_units, n_units)``.

    Examples
    --------
    ``[CLS] a b ##c [SEP]``: the word ``bc`` has two pieces (units: a, bc, [CLS], [SEP]).

    >>> a = torch.tensor([[.1, .2, .3, .4, 0], [0, 0, .5, .5, 0], [0, .2, .2, .2, .4],
    ...                   [.1, .1, .1, .1, .6], [1, 0, 0, 0, 0]])[None, None]
    >>> units = torch.tensor([[2, 0, 1, 1, 3]])
    >>> word_attention(a, units, 4)[0, 0]
    tensor([[0.0000, 1.0000, 0.0000, 0.0000],
            [0.1500, 0.3000, 0.0500, 0.5000],
            [0.2000, 0.7000, 0.1000, 0.0000],
            [0.0000, 0.0000, 1.0000, 0.0000]])
    """
    check_from_split(from_split)
    members = torch.nn.functional.one_hot(token_units, n_units + 1)[..., :n_units].to(patterns.dtype)  # (b, t, u)
    to_units = patterns @ members[:, None]                                     # (..., b, h, t, u)
    if from_split == "max":
        index = token_units[:, None, :, None].expand(to_units.shape)
        rows = torch.zeros(*to_units.shape[:-2], n_units + 1, n_units, dtype=to_units.dtype, device=to_units.device)
        rows = rows.scatter_reduce(-2, index, to_units, reduce="amax", include_self=False)[..., :n_units, :]
        return rows / rows.sum(-1, keepdim=True).clamp(min=torch.finfo(rows.dtype).tiny)
    if from_split == "first":
        weights = members * (members.cumsum(1) == 1)
    else:
        weights = members / members.sum(1, keepdim=True).clamp(min=1)
    return weights.transpose(1, 2)[:, None] @ to_units


def rollout(patterns: np.ndarray, residual: bool = True) -> np.ndarray:
    """Attention rollout of Abnar & Zuidema (2020) from raw patterns.

    "Quantifying Attention Flow in Transformers" (ACL 2020): per layer
    ``A' = 0.5 · mean_heads(A) + 0.5 · I``, rows renormalised to sum to one, and
    ``R_l = A'_l · R_{l-1}`` with ``R_0 = A'_0``.

    Parameters
    ----------
    patterns
        ``(layers, heads, query, key)`` attention probabilities.
    residual
        Add the identity for the residual connection (see :func:`residual_attention`).

    Returns
    -------
    numpy.ndarray
        ``(layers, query, key)``: ``R_l`` for every layer ``l`` (the last is the rollout
        of the whole model).

    Examples
    --------
    >>> rollout(np.full((2, 1, 2, 2), 0.5))[-1]  # A' = [[.75, .25], [.25, .75]], squared
    array([[0.625, 0.375],
           [0.375, 0.625]])
    """
    augmented = residual_attention(patterns, residual)
    joint = np.empty_like(augmented)
    joint[0] = augmented[0]
    for layer in range(1, len(augmented)):
        joint[layer] = augmented[layer] @ joint[layer - 1]
    return joint


def residual_attention(patterns: np.ndarray, residual: bool = True) -> np.ndarray:
    """Per layer the head-mean attention, with the residual connection ``0.5·A + 0.5·I`` (Abnar & Zuidema 2020).

    Parameters
    ----------
    patterns
        ``(layers, heads, query, key)`` attention probabilities.
    residual
        Add the identity for the residual connection.

    Returns
    -------
    numpy.ndarray
        ``(layers, query, key)`` float64, rows renormalised to sum to one.

    Examples
    --------
    >>> residual_attention(np.full((1, 2, 2, 2), 0.5))[0].tolist()
    [[0.75, 0.25], [0.25, 0.75]]
    """
    if patterns.ndim != 4 or patterns.shape[-1] != patterns.shape[-2]:
        raise InputError(f"patterns must be (layers, heads, query, key) with query == key, got {patterns.shape}.")
    mixed = patterns.mean(axis=1, dtype=np.float64)
    if residual:
        mixed = 0.5 * mixed + 0.5 * np.eye(patterns.shape[-1])
    return mixed / mixed.sum(axis=-1, keepdims=True)
