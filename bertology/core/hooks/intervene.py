"""Writable hooks: edit activations by canonical name during forward passes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import torch
from torch import nn

from bertology.core.errors import InputError
from bertology.core.hooks.edits import Edit
from bertology.core.hooks.names import resolve_names
from bertology.core.hooks.points import READ_ONLY, HookPoints, split_name, unwrap_model
from bertology.core.models.loading import LoadedModel

EditFn = Callable[[torch.Tensor], torch.Tensor]


class _Editor:
    """The intervene callback: run each name's edits in order and check what they return."""

    def __init__(self, edits: dict[str, list[Edit | EditFn]]) -> None:
        self.edits = edits

    def __call__(self, name: str, tensor: torch.Tensor) -> torch.Tensor:
        for edit in self.edits[name]:
            result = edit.apply(tensor, name) if isinstance(edit, Edit) else edit(tensor)
            if not isinstance(result, torch.Tensor) or result.shape != tensor.shape:
                got = tuple(result.shape) if isinstance(result, torch.Tensor) else type(result).__name__
                raise InputError(f"The edit of {name!r} returned {got}; an edit must return a tensor of the "
                                 f"activation's shape {tuple(tensor.shape)}.")
            tensor = result if result.dtype == tensor.dtype else result.to(tensor.dtype)
        return tensor


def _resolve_edits(edits: Mapping[str, Edit | EditFn], num_layers: int) -> dict[str, list[Edit | EditFn]]:
    if not isinstance(edits, Mapping) or not edits:
        raise InputError("intervene takes a non-empty mapping {canonical name: edit}, e.g. "
                         "{'layers.3.attn.heads': bt.ablate(heads=[2])}.")
    by_name: dict[str, list[Edit | EditFn]] = {}
    for pattern, edit in edits.items():
        if not callable(edit) and not isinstance(edit, Edit):
            raise InputError(f"The edit for {pattern!r} is a {type(edit).__name__}, not a function tensor -> tensor "
                             "or a built-in edit such as bt.ablate(...).")
        matched = resolve_names(pattern, num_layers)
        writable = [name for name in matched if split_name(name)[1] not in READ_ONLY]
        if not writable:
            raise InputError(f"{matched[0]!r} cannot be edited: attention probabilities are read after they are "
                             "used. Edit 'layers.{i}.attn.heads' (each head's output) instead.")
        for name in writable:
            by_name.setdefault(name, []).append(edit)
    order = resolve_names(list(by_name), num_layers)
    return {name: by_name[name] for name in order}


@contextmanager
def intervene(model: LoadedModel | nn.Module, edits: Mapping[str, Edit | EditFn]) -> Iterator[None]:
    """Edit activations by canonical name during forward passes inside the block.

    Each edit receives the canonical tensor (shapes as in
    :class:`~bertology.core.hooks.ActivationCache`; ``layers.{i}.attn.heads`` is
    ``(batch, query, heads, d_head)``, the input of the attention output projection split
    by head) and returns a tensor of the same shape that replaces it downstream. Edits run
    before any recording hook, so a :func:`~bertology.core.hooks.trace` block — inside or
    outside this one — sees edited values. Gradients flow through edits. Hooks are removed
    when the block exits, whatever happens inside.

    Parameters
    ----------
    model
        A :class:`~bertology.LoadedModel` or a Hugging Face model of a supported architecture.
    edits
        ``{name: edit}``: a canonical name or a glob (``"layers.*.attn.heads"``) mapped to
        a function ``tensor -> tensor`` or a built-in edit (:func:`ablate`,
        :func:`set_from`, :func:`add`, :func:`project_out`, :func:`gate_heads`). Several
        edits reaching one name run in the mapping's order. ``attn.pattern`` is read only
        (globs skip it).

    Yields
    ------
    None

    Raises
    ------
    InputError
        Before any hook is attached, for an unknown name (the message lists the canonical
        names), an ``attn.pattern`` name, or an edit that does not fit the model; during
        the forward pass, for an edit returning the wrong shape.

    Examples
    --------
    >>> import bertology as bt, torch
    >>> m = bt.load_model("minilm")
    >>> batch = m.tokenizer(["The keys to the cabinet are here."], return_tensors="pt")
    >>> with torch.inference_mode():
    ...     plain = m(**batch).last_hidden_state
    ...     with bt.intervene(m, {"layers.3.attn.heads": bt.ablate(heads=[2, 7])}):
    ...         ablated = m(**batch).last_hidden_state
    >>> bool((plain - ablated).abs().max() > 0)
    True
    """
    hf_model, adapter = unwrap_model(model)
    resolved = _resolve_edits(edits, int(hf_model.config.num_hidden_layers))
    served: dict[int, tuple[Edit, list[str]]] = {}
    for name, chain in resolved.items():
        for edit in chain:
            if isinstance(edit, Edit):
                served.setdefault(id(edit), (edit, []))[1].append(name)
    for edit, names in served.values():
        edit.prepare(model, names)
    points = HookPoints(hf_model, adapter, list(resolved), _Editor(resolved), prepend=True)
    try:
        points.install()
        yield
    finally:
        points.remove()
