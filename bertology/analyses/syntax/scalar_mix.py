"""Scalar mixing of layers and the layer statistics of Tenney et al. (2019b).

A scalar mix (Peters et al. 2018; allennlp's ``ScalarMix``, which jiant uses for edge
probing) combines the hidden states of several layers as ``γ · Σ_ℓ softmax(w)_ℓ · h_ℓ``.
Tenney et al. (2019b, "BERT Rediscovers the Classical NLP Pipeline") summarise where a
task is solved by two statistics over layers: the centre of gravity of the mixing weights
``E_s[ℓ] = Σ_ℓ ℓ · s_ℓ``, and the expected layer of cumulative scoring
``E_Δ[ℓ] = Σ_ℓ ℓ · Δ(ℓ) / Σ_ℓ Δ(ℓ)``, where ``Δ(ℓ)`` is the gain in score from adding
layer ``ℓ`` to a mix of the layers below it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from bertology.core.errors import InputError


class ScalarMix(nn.Module):
    """One or several learned scalar mixes of stacked layers: ``γ_m · Σ_ℓ softmax(w_m)_ℓ · h_ℓ``.

    With ``allowed``, mix ``m`` uses only the layers ``allowed[m]`` marks (the others get
    weight 0): several probes over different sets of layers train in one batch.

    Parameters
    ----------
    n_layers
        Layers stacked along the input's layer axis.
    allowed
        ``(n_mixes, n_layers)`` bool; default one mix over all layers.
    layer_norm
        Normalise each layer before mixing by the mean and variance over all its
        (unmasked) elements, as allennlp's ``do_layer_norm=True`` does.

    Examples
    --------
    >>> mix = ScalarMix(3)
    >>> h = torch.arange(6.).reshape(3, 1, 2)                      # (layers, batch, hidden)
    >>> mix(h, layer_axis=0)                                       # uniform weights, γ = 1
    tensor([[[2., 3.]]], grad_fn=<MulBackward0>)
    """

    def __init__(self, n_layers: int, allowed: torch.Tensor | np.ndarray | None = None,
                 layer_norm: bool = False) -> None:
        super().__init__()
        if n_layers < 1:
            raise InputError(f"A scalar mix needs at least one layer, got n_layers={n_layers}.")
        mask = torch.ones(1, n_layers, dtype=torch.bool) if allowed is None else torch.as_tensor(allowed, dtype=torch.bool)
        if mask.ndim != 2 or mask.shape[1] != n_layers or not bool(mask.any(dim=1).all()):
            raise InputError(f"allowed must be (n_mixes, {n_layers}) with at least one layer per mix, "
                             f"got shape {tuple(mask.shape)}.")
        self.register_buffer("allowed", mask)
        self.scalar_parameters = nn.Parameter(torch.zeros(mask.shape, dtype=torch.float32))
        self.gamma = nn.Parameter(torch.ones(mask.shape[0], dtype=torch.float32))
        self.layer_norm = layer_norm

    @property
    def n_mixes(self) -> int:
        """Number of mixes."""
        return int(self.allowed.shape[0])

    def weights(self) -> torch.Tensor:
        """``(n_mixes, n_layers)`` mixing weights ``s = softmax(w)`` over each mix's allowed layers.

        Examples
        --------
        >>> ScalarMix(3, allowed=[[True, True, False]]).weights().tolist()
        [[0.5, 0.5, 0.0]]
        """
        logits = self.scalar_parameters.masked_fill(~self.allowed, float("-inf"))
        return torch.softmax(logits, dim=-1)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None = None, layer_axis: int = -2) -> torch.Tensor:
        """Mix the layers of ``hidden``.

        Parameters
        ----------
        hidden
            Stacked layers, the layer axis at ``layer_axis``, features last.
        mask
            For ``layer_norm``: bool, ``hidden``'s shape without the layer and feature axes (real positions).
        layer_axis
            The axis that holds the layers.

        Returns
        -------
        torch.Tensor
            ``(n_mixes, *rest, features)``: ``hidden`` without its layer axis, one mix per leading row.
        """
        hidden = hidden.movedim(layer_axis, 0)
        if hidden.shape[0] != self.allowed.shape[1]:
            raise InputError(f"The mix expects {self.allowed.shape[1]} layers, got {hidden.shape[0]}.")
        if self.layer_norm:
            hidden = _layer_norm(hidden, mask)
        mixed = torch.einsum("ml,l...->m...", self.weights().to(hidden.dtype), hidden)
        return self.gamma.to(hidden.dtype).view(-1, *([1] * (mixed.ndim - 1))) * mixed


def _layer_norm(hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Each layer of ``(layers, *rest, features)`` normalised by its mean and variance over unmasked elements."""
    keep = torch.ones(hidden.shape[1:-1], dtype=hidden.dtype, device=hidden.device) if mask is None else mask.to(
        hidden.dtype)
    keep = keep.unsqueeze(-1)
    axes = tuple(range(1, hidden.ndim))
    count = keep.sum() * hidden.shape[-1]
    mean = (hidden * keep).sum(dim=axes, keepdim=True) / count
    variance = (((hidden - mean) * keep) ** 2).sum(dim=axes, keepdim=True) / count
    return (hidden - mean) / torch.sqrt(variance + 1e-12)


def cumulative_layers(n_layers: int) -> np.ndarray:
    """``(n_layers, n_layers)`` bool: row ``k`` allows layers ``0..k`` (the mixes of cumulative scoring).

    Examples
    --------
    >>> cumulative_layers(3).astype(int).tolist()
    [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    """
    return np.tril(np.ones((n_layers, n_layers), dtype=bool))


def score_deltas(cumulative_scores: Sequence[float] | np.ndarray) -> np.ndarray:
    """``Δ(ℓ) = P(ℓ) − P(ℓ−1)`` from cumulative scores ``P(ℓ)`` (the score of a mix of layers ``0..ℓ``).

    ``Δ`` is undefined for the first layer (NaN): it has no mix below it.

    Examples
    --------
    >>> score_deltas([0.5, 0.7, 0.75]).round(2).tolist()
    [nan, 0.2, 0.05]
    """
    scores = np.asarray(cumulative_scores, dtype=np.float64)
    return np.concatenate([[np.nan], np.diff(scores)])


def expected_layer(cumulative_scores: Sequence[float] | np.ndarray,
                   layers: Sequence[int] | np.ndarray | None = None) -> float:
    """Tenney et al.'s (2019b) expected layer ``E_Δ[ℓ] = Σ_{ℓ≥1} ℓ · Δ(ℓ) / Σ_{ℓ≥1} Δ(ℓ)``.

    Parameters
    ----------
    cumulative_scores
        ``P(ℓ)``: the score of a probe on a mix of the first ``ℓ + 1`` layers, one per layer.
    layers
        The layer index of each score (default ``0, 1, ...``).

    Returns
    -------
    float
        NaN when the gains sum to zero.

    Examples
    --------
    >>> round(expected_layer([0.5, 0.7, 0.8]), 4)          # (1·0.2 + 2·0.1) / 0.3
    1.3333
    """
    deltas = score_deltas(cumulative_scores)[1:]
    index = np.arange(len(deltas) + 1) if layers is None else np.asarray(layers, dtype=np.float64)
    if len(index) != len(deltas) + 1:
        raise InputError(f"Got {len(deltas) + 1} scores but {len(index)} layer indices: give one index per score.")
    total = deltas.sum()
    if len(deltas) == 0 or total == 0:
        return float("nan")
    return float((index[1:] * deltas).sum() / total)


def center_of_gravity(weights: Sequence[float] | np.ndarray, layers: Sequence[int] | np.ndarray | None = None) -> float:
    """Centre of gravity of scalar-mix weights, ``E_s[ℓ] = Σ_ℓ ℓ · s_ℓ`` (Tenney et al. 2019b).

    Parameters
    ----------
    weights
        Mixing weights ``s_ℓ`` (normalised to sum to 1 here).
    layers
        The layer index of each weight (default ``0, 1, ...``).

    Examples
    --------
    >>> center_of_gravity([0.25, 0.25, 0.5])
    1.25
    """
    s = np.asarray(weights, dtype=np.float64)
    index = np.arange(len(s)) if layers is None else np.asarray(layers, dtype=np.float64)
    if len(index) != len(s) or s.sum() <= 0:
        raise InputError(f"Give one layer index per weight and weights with a positive sum (got {len(s)} weights, "
                         f"{len(index)} indices, sum {s.sum()}).")
    return float((index * s).sum() / s.sum())
