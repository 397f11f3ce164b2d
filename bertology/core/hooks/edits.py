"""Built-in edits for :func:`~bertology.core.hooks.intervene`: ablation, patching, steering, projection.

Each edit maps the canonical tensor of one name to a tensor of the same shape. The
built-in ones subclass :class:`Edit`: :func:`intervene` calls :meth:`Edit.prepare` once
with the model and the names the edit serves (before any hook is attached, so bad input
fails before the model runs), then :meth:`Edit.apply` with each tensor and its name.
Any plain callable ``tensor -> tensor`` is an edit too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import torch
from torch import nn

from bertology.core.errors import InputError
from bertology.core.hooks.points import split_name, unwrap_model
from bertology.core.models.loading import LoadedModel

Positions = int | Sequence[int] | None


class Edit:
    """Base class of the built-in edits.

    Examples
    --------
    >>> import torch
    >>> class Double(Edit):
    ...     def apply(self, tensor, name):
    ...         return 2 * tensor
    >>> Double().apply(torch.ones(2), "layers.0.mlp_out").tolist()
    [2.0, 2.0]
    """

    def prepare(self, model: LoadedModel | nn.Module, names: list[str]) -> None:
        """Check the edit against the model and the names it serves; precompute what it needs.

        Parameters
        ----------
        model
            The model :func:`intervene` was given.
        names
            Resolved canonical names this edit is attached to.
        """

    def apply(self, tensor: torch.Tensor, name: str) -> torch.Tensor:
        """The edited activation (same shape) of ``name``."""
        raise NotImplementedError


def _check_heads_names(names: list[str], what: str) -> None:
    wrong = [name for name in names if split_name(name)[1] != "attn.heads"]
    if wrong:
        raise InputError(f"{what} works on per-head activations, but it is attached to {wrong[0]!r}: attach it to "
                         "'layers.{i}.attn.heads' (or 'layers.*.attn.heads'), or leave heads=None.")


def _head_list(heads: int | Sequence[int] | None) -> list[int] | None:
    if heads is None:
        return None
    listed = [heads] if isinstance(heads, (int, np.integer)) else list(heads)
    if not listed or not all(isinstance(h, (int, np.integer)) and not isinstance(h, bool) for h in listed):
        raise InputError(f"heads={heads!r} must be a head index or a non-empty list of head indices, e.g. [2, 7].")
    return [int(h) for h in listed]


def _check_head_range(heads: list[int] | None, model: LoadedModel | nn.Module) -> None:
    if heads is None:
        return
    num_heads = int(unwrap_model(model)[0].config.num_attention_heads)
    bad = [h for h in heads if not 0 <= h < num_heads]
    if bad:
        raise InputError(f"Head {bad[0]} is out of range: this model has heads 0..{num_heads - 1} per layer.")


def _position_list(positions: Positions) -> list[int] | None:
    if positions is None:
        return None
    listed = [positions] if isinstance(positions, (int, np.integer)) else list(positions)
    if not listed or not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in listed):
        raise InputError(f"positions={positions!r} must be a token position or a non-empty list of positions.")
    return [int(p) for p in listed]


def _selection(tensor: torch.Tensor, positions: list[int] | None, heads: list[int] | None) -> torch.Tensor | None:
    """Boolean mask broadcastable to ``tensor`` (batch, seq[, heads], d) or ``None`` for everything."""
    if positions is None and heads is None:
        return None
    shape = [1] * tensor.dim()
    mask = torch.ones(shape, dtype=torch.bool, device=tensor.device)
    if positions is not None:
        seq = tensor.shape[1]
        bad = [p for p in positions if not -seq <= p < seq]
        if bad:
            raise InputError(f"Position {bad[0]} is out of range for inputs of {seq} tokens.")
        chosen = torch.zeros(seq, dtype=torch.bool, device=tensor.device)
        chosen[positions] = True
        mask = mask & chosen.view(1, seq, *[1] * (tensor.dim() - 2))
    if heads is not None:
        chosen = torch.zeros(tensor.shape[2], dtype=torch.bool, device=tensor.device)
        chosen[heads] = True
        mask = mask & chosen.view(1, 1, -1, 1)
    return mask


class Ablate(Edit):
    """Zero or mean ablation; see :func:`ablate`."""

    def __init__(self, heads: list[int] | None, how: str, reference: object, batch_size: int) -> None:
        self.heads = heads
        self.how = how
        self.reference = reference
        self.batch_size = batch_size
        self.means: dict[tuple[int, str], torch.Tensor] = {}
        self.active: dict[str, torch.Tensor] = {}

    def prepare(self, model: LoadedModel | nn.Module, names: list[str]) -> None:
        if self.heads is not None:
            _check_heads_names(names, "ablate(heads=...)")
            _check_head_range(self.heads, model)
        if self.how == "zero":
            return
        hf_model = unwrap_model(model)[0]
        missing = [name for name in names if (id(hf_model), name) not in self.means]
        if missing:
            self._compute_means(model, hf_model, missing)
        self.active = {name: self.means[(id(hf_model), name)] for name in names}

    def _compute_means(self, model: LoadedModel | nn.Module, hf_model: nn.Module, missing: list[str]) -> None:
        if isinstance(self.reference, torch.Tensor):
            for name in missing:
                self.means[(id(hf_model), name)] = self.reference
        elif isinstance(self.reference, Mapping):
            for name in missing:
                if name not in self.reference:
                    raise InputError(f"The mean-ablation reference has no {name!r}: record it with "
                                     f"bt.trace(model, {name!r}) on the reference sentences.")
                values = self.reference[name]
                self.means[(id(hf_model), name)] = values.reshape(-1, *values.shape[2:]).float().mean(0)
        else:
            if not isinstance(model, LoadedModel):
                raise InputError("Mean ablation over reference texts needs a bertology LoadedModel (for its "
                                 "tokenizer): pass bt.load_model(...), or reference=a cache or a tensor of means.")
            for name, mean in token_means(model, self.reference, missing, self.batch_size).items():
                self.means[(id(hf_model), name)] = mean

    def apply(self, tensor: torch.Tensor, name: str) -> torch.Tensor:
        if self.how == "zero":
            replacement = torch.zeros((), dtype=tensor.dtype, device=tensor.device)
        else:
            replacement = self.active[name].to(device=tensor.device, dtype=tensor.dtype)
        mask = _selection(tensor, None, self.heads)
        if mask is None:
            return replacement.expand_as(tensor).clone()
        return torch.where(mask, replacement, tensor)


def token_means(model: LoadedModel, texts: Sequence[str], names: list[str], batch_size: int = 32
                ) -> dict[str, torch.Tensor]:
    """Mean of each named activation over every non-padding token of ``texts``.

    Parameters
    ----------
    model
        The loaded model.
    texts
        Reference sentences (cut to the model's length limit).
    names
        Canonical names (not ``attn.pattern``).
    batch_size
        Sentences per forward pass.

    Returns
    -------
    dict
        ``name -> tensor`` of the activation's trailing shape (``(hidden,)``, or
        ``(heads, d_head)`` for ``attn.heads``), float32.

    Examples
    --------
    >>> import bertology as bt
    >>> m = bt.load_model("minilm")
    >>> tuple(token_means(m, ["A short sentence."], ["layers.0.attn.heads"])["layers.0.attn.heads"].shape)
    (12, 32)
    """
    from bertology.core.extraction.align import encode_corpus, length_sorted_batches
    from bertology.core.extraction.extractor import batch_tensors
    from bertology.core.hooks.trace import trace

    if isinstance(texts, str) or len(texts) == 0 or not all(isinstance(t, str) for t in texts):
        raise InputError("The mean-ablation reference must be a non-empty list of sentences (or a cache or "
                         "a tensor of means).")
    corpus = encode_corpus(model.tokenizer, list(texts), model.max_length, truncate=True)
    sums: dict[str, torch.Tensor] = {}
    count = 0
    with torch.inference_mode(), trace(model, names) as cache:
        for rows in length_sorted_batches(corpus.lengths, batch_size):
            inputs, masks = batch_tensors(model, corpus, rows)
            model(**inputs)
            keep = masks.attention_mask.bool()
            count += int(keep.sum())
            for name in names:
                total = cache[name][keep].float().sum(0)
                sums[name] = total if name not in sums else sums[name] + total
    return {name: total / count for name, total in sums.items()}


def ablate(heads: int | Sequence[int] | None = None, how: Literal["zero", "mean"] = "zero",
           reference: Sequence[str] | Mapping[str, torch.Tensor] | torch.Tensor | None = None,
           batch_size: int = 32) -> Ablate:
    """Ablate an activation, or chosen heads of ``layers.{i}.attn.heads``.

    Zero ablation replaces the values by 0 (Michel et al., 2019, "Are Sixteen Heads Really
    Better than One?": masking a head); mean ablation by their mean over the reference
    tokens, which keeps the activation on the data distribution.

    Parameters
    ----------
    heads
        Head indices to ablate; only on ``attn.heads`` names. ``None`` ablates the whole
        activation.
    how
        ``"zero"`` or ``"mean"``.
    reference
        For ``how="mean"``: reference sentences (the mean over their non-padding tokens is
        computed once per model and name), a cache ``name -> (batch, seq, ...)`` tensor
        (mean over batch and positions), or a tensor of means of the trailing shape.
    batch_size
        Sentences per forward pass when ``reference`` holds sentences.

    Returns
    -------
    Ablate
        An edit for :func:`~bertology.core.hooks.intervene`.

    Raises
    ------
    InputError
        For an unknown ``how``, mean ablation without a reference, or bad head indices.

    Examples
    --------
    >>> import bertology as bt, torch
    >>> m = bt.load_model("minilm")
    >>> batch = m.tokenizer(["The keys are here."], return_tensors="pt")
    >>> with torch.inference_mode(), bt.intervene(m, {"layers.0.attn.heads": bt.ablate(heads=[2, 7])}), \\
    ...         bt.trace(m, "layers.0.attn.heads") as cache:
    ...     _ = m(**batch)
    >>> float(cache["layers.0.attn.heads"][:, :, [2, 7]].abs().sum())
    0.0
    """
    if how not in ("zero", "mean"):
        raise InputError(f"how={how!r} is not an ablation: use 'zero' or 'mean'.")
    if how == "mean" and reference is None:
        raise InputError("how='mean' needs reference=: sentences, a cache of activations or a tensor of means.")
    if batch_size < 1:
        raise InputError(f"batch_size={batch_size} must be at least 1.")
    return Ablate(_head_list(heads), how, reference, batch_size)


class SetFrom(Edit):
    """Patching from a cache; see :func:`set_from`."""

    def __init__(self, cache: Mapping[str, torch.Tensor], positions: list[int] | None,
                 heads: list[int] | None) -> None:
        self.cache = cache
        self.positions = positions
        self.heads = heads

    def prepare(self, model: LoadedModel | nn.Module, names: list[str]) -> None:
        missing = [name for name in names if name not in self.cache]
        if missing:
            raise InputError(f"The patching cache has no {missing[0]!r}: record it with bt.trace(model, "
                             f"{missing[0]!r}) on the source inputs.")
        if self.heads is not None:
            _check_heads_names(names, "set_from(heads=...)")
            _check_head_range(self.heads, model)

    def apply(self, tensor: torch.Tensor, name: str) -> torch.Tensor:
        source = self.cache[name]
        if source.shape != tensor.shape:
            raise InputError(f"Cannot patch {name!r}: the cache holds shape {tuple(source.shape)} but this run has "
                             f"{tuple(tensor.shape)}; run the source and the patched inputs with the same batch and "
                             "token length.")
        source = source.to(device=tensor.device, dtype=tensor.dtype)
        mask = _selection(tensor, self.positions, self.heads)
        return source.clone() if mask is None else torch.where(mask, source, tensor)


def set_from(cache: Mapping[str, torch.Tensor], positions: Positions = None,
             heads: int | Sequence[int] | None = None) -> SetFrom:
    """Overwrite activations with those recorded on other inputs (activation patching).

    The standard causal-mediation intervention (Vig et al., 2020, "Investigating Gender
    Bias in Language Models Using Causal Mediation Analysis"; Meng et al., 2022, "Locating
    and Editing Factual Associations in GPT"): run a source input once under
    :func:`~bertology.core.hooks.trace`, then rerun the base input with the chosen
    activations set from that cache.

    Parameters
    ----------
    cache
        ``name -> tensor`` of the same shape as this run's activation (an
        :class:`~bertology.core.hooks.ActivationCache`).
    positions
        Token positions to overwrite; ``None`` for all.
    heads
        Heads to overwrite (``attn.heads`` names only); ``None`` for all.

    Returns
    -------
    SetFrom
        An edit for :func:`~bertology.core.hooks.intervene`.

    Examples
    --------
    >>> import bertology as bt, torch
    >>> m = bt.load_model("minilm")
    >>> tok = lambda s: m.tokenizer([s], return_tensors="pt")
    >>> with torch.inference_mode(), bt.trace(m, ["layers.2.resid_post", "layers.5.resid_post"]) as source:
    ...     _ = m(**tok("The keys are here."))
    >>> with torch.inference_mode(), bt.intervene(m, {"layers.2.resid_post": bt.set_from(source)}), \\
    ...         bt.trace(m, "layers.5.resid_post") as patched:
    ...     _ = m(**tok("The key is here ."))
    >>> torch.allclose(patched["layers.5.resid_post"], source["layers.5.resid_post"], atol=1e-5)
    True
    """
    if not isinstance(cache, Mapping):
        raise InputError("set_from takes a cache name -> tensor, e.g. the ActivationCache of bt.trace(...).")
    return SetFrom(cache, _position_list(positions), _head_list(heads))


class Add(Edit):
    """Adding a vector; see :func:`add`."""

    def __init__(self, vector: torch.Tensor, positions: list[int] | None) -> None:
        self.vector = vector
        self.positions = positions

    def apply(self, tensor: torch.Tensor, name: str) -> torch.Tensor:
        vector = self.vector.to(device=tensor.device, dtype=tensor.dtype)
        try:
            torch.broadcast_shapes(vector.shape, tensor.shape)
        except RuntimeError:
            raise InputError(f"Cannot add a vector of shape {tuple(vector.shape)} to {name!r} of shape "
                             f"{tuple(tensor.shape)}: give the trailing shape, e.g. ({tensor.shape[-1]},).") from None
        mask = _selection(tensor, self.positions, None)
        return tensor + vector if mask is None else torch.where(mask, tensor + vector, tensor)


def add(vector: torch.Tensor | np.ndarray | Sequence[float], positions: Positions = None) -> Add:
    """Add a vector to an activation (activation steering / addition).

    Parameters
    ----------
    vector
        Broadcast against the canonical tensor, e.g. shape ``(hidden,)`` for the residual
        stream or ``(heads, d_head)`` for ``attn.heads``.
    positions
        Token positions to change; ``None`` for all.

    Returns
    -------
    Add
        An edit for :func:`~bertology.core.hooks.intervene`.

    Examples
    --------
    >>> import torch
    >>> add(torch.ones(3)).apply(torch.zeros(1, 2, 3), "layers.0.resid_post").sum().item()
    6.0
    """
    return Add(torch.as_tensor(np.asarray(vector) if not isinstance(vector, torch.Tensor) else vector),
               _position_list(positions))


class ProjectOut(Edit):
    """Projection onto the orthogonal complement of a subspace; see :func:`project_out`."""

    def __init__(self, basis: torch.Tensor) -> None:
        self.basis = basis

    def apply(self, tensor: torch.Tensor, name: str) -> torch.Tensor:
        if self.basis.shape[-1] != tensor.shape[-1]:
            raise InputError(f"The basis has dimension {self.basis.shape[-1]} but {name!r} has "
                             f"{tensor.shape[-1]} features in its last dimension: give directions of that size.")
        q = self.basis.to(device=tensor.device, dtype=tensor.dtype)
        return tensor - (tensor @ q.T) @ q


def project_out(basis: torch.Tensor | np.ndarray | Sequence[Sequence[float]]) -> ProjectOut:
    """Remove a linear subspace from an activation: ``x -> x - Q Qᵀ x``.

    The nullspace projection of INLP (Ravfogel et al., 2020, "Null It Out") applied inside
    the forward pass, as in amnesic probing (Elazar et al., 2021).

    Parameters
    ----------
    basis
        ``(k, d)`` directions spanning the subspace (one per row, over the activation's
        last dimension); they need not be orthonormal: an orthonormal basis of their span
        is taken (singular values below ``1e-6`` times the largest are dropped).

    Returns
    -------
    ProjectOut
        An edit for :func:`~bertology.core.hooks.intervene`.

    Raises
    ------
    InputError
        For an empty or non-finite basis.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[[3.0, 4.0]]])
    >>> project_out([[2.0, 0.0]]).apply(x, "layers.0.resid_post").tolist()
    [[[0.0, 4.0]]]
    """
    matrix = torch.as_tensor(np.asarray(basis, dtype=np.float64) if not isinstance(basis, torch.Tensor) else basis)
    matrix = matrix.double().reshape(-1, matrix.shape[-1]) if matrix.dim() else matrix.double().reshape(1, 1)
    if matrix.numel() == 0 or not torch.isfinite(matrix).all():
        raise InputError("project_out needs a non-empty, finite (k, d) basis: one direction per row.")
    _, singular, vh = torch.linalg.svd(matrix, full_matrices=False)
    keep = singular > singular[0] * 1e-6
    if not keep.any():
        raise InputError("project_out got only zero directions: give at least one non-zero row.")
    return ProjectOut(vh[keep].float())


class GateHeads(Edit):
    """Per-head multiplicative gates; see :func:`gate_heads`."""

    def __init__(self, gates: torch.Tensor) -> None:
        self.gates = gates

    def prepare(self, model: LoadedModel | nn.Module, names: list[str]) -> None:
        _check_heads_names(names, "gate_heads")
        config = unwrap_model(model)[0].config
        expected = (int(config.num_hidden_layers), int(config.num_attention_heads))
        if tuple(self.gates.shape[-2:]) != expected:
            raise InputError(f"Gates have shape {tuple(self.gates.shape)} but this model has {expected[0]} layers "
                             f"of {expected[1]} heads: pass a (..., {expected[0]}, {expected[1]}) tensor.")

    def apply(self, tensor: torch.Tensor, name: str) -> torch.Tensor:
        gates = self.gates[..., split_name(name)[0], :].to(device=tensor.device, dtype=tensor.dtype)
        lead = gates.shape[:-1]
        if gates.dim() == 2:
            gates = gates[:, None]
        if lead != tensor.shape[:len(lead)]:
            raise InputError(f"Gates of shape {tuple(self.gates.shape)} do not fit {name!r} of shape "
                             f"{tuple(tensor.shape)}: leading gate dimensions must be (batch,) or (batch, query).")
        return tensor * gates[..., None]


def gate_heads(gates: torch.Tensor) -> GateHeads:
    """Multiply head ``h`` of layer ``l`` by ``gates[..., l, h]`` (attach to ``"layers.*.attn.heads"``).

    The head gates ξ of Michel et al. (2019, "Are Sixteen Heads Really Better than One?"):
    1 everywhere leaves the model unchanged, 0 masks a head, and a ``gates`` tensor with
    ``requires_grad=True`` gives ``∂L/∂ξ`` for every head from one backward pass.

    Parameters
    ----------
    gates
        ``(layers, heads)`` — one gate per head; ``(batch, layers, heads)`` — one per
        example (per-example gradients from one backward pass of the summed loss); or
        ``(batch, query, layers, heads)`` — one per token.

    Returns
    -------
    GateHeads
        An edit for :func:`~bertology.core.hooks.intervene`.

    Examples
    --------
    >>> import torch
    >>> g = gate_heads(torch.tensor([[1.0, 0.0]]))
    >>> g.apply(torch.ones(1, 1, 2, 3), "layers.0.attn.heads")[0, 0].tolist()
    [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
    """
    if not isinstance(gates, torch.Tensor) or not 2 <= gates.dim() <= 4:
        raise InputError("gate_heads takes a (layers, heads), (batch, layers, heads) or (batch, query, layers, "
                         "heads) torch tensor of gates.")
    return GateHeads(gates)
