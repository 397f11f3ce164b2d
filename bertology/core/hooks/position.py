"""``one_position``: run the rest of one layer after its attention at a single token position."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from bertology.core.errors import InputError
from bertology.core.hooks.points import unwrap_model
from bertology.core.models.loading import LoadedModel


@contextmanager
def one_position(model: LoadedModel | nn.Module, layer: int, position: int = 0) -> Iterator[None]:
    """Within the block, layer ``layer`` runs its attention output projection and feed-forward block on token
    ``position`` only.

    A reader of one position of a layer's output (a [CLS] probe, a sequence-classification
    head) needs every token's keys and values in that layer but the rest of the layer at one
    token; the output projection and the feed-forward block are three quarters of a BERT
    layer's arithmetic. The projection (the adapter's ``attn_output_path``) and the block's
    first linear map (``mlp_in_path``) get the row at ``position`` alone, the residual adds
    broadcast, and the layer's output is exact at ``position`` (other positions hold no
    meaningful values: read nothing else from that layer or above). Models that split the
    block into chunks (``chunk_size_feed_forward``) run unchanged.

    Parameters
    ----------
    model
        A :class:`~bertology.LoadedModel` or a Hugging Face model of a supported architecture.
    layer
        Layer index, 0-based; negative counts from the last layer.
    position
        The token position whose output is read.

    Examples
    --------
    >>> import bertology as bt, torch
    >>> m = bt.load_model("minilm")
    >>> batch = m.tokenizer(["The bank is closed."], return_tensors="pt")
    >>> with torch.inference_mode():
    ...     full = m.model(**batch).last_hidden_state[:, 0]
    ...     with one_position(m, -1):
    ...         fast = m.model(**batch).last_hidden_state[:, 0]
    >>> bool(torch.allclose(full, fast, atol=1e-5))
    True
    """
    hf_model, adapter = unwrap_model(model)
    layers = adapter.layer_modules(hf_model)
    if not -len(layers) <= layer < len(layers):
        raise InputError(f"layer={layer} is out of range for a model of {len(layers)} layers.")
    if getattr(hf_model.config, "chunk_size_feed_forward", 0):
        yield
        return
    chosen = layer % len(layers)
    state = {"calls": 0, "active": False}

    def start(_module: nn.Module, _args: tuple) -> None:
        state["calls"], state["active"] = 0, False

    def enter(_module: nn.Module, _args: tuple) -> None:
        state["active"] = state["calls"] == chosen
        state["calls"] += 1

    def narrow(_module: nn.Module, args: tuple) -> tuple | None:
        if not state["active"]:
            return None
        hidden: torch.Tensor = args[0]
        return (hidden[:, position:position + 1], *args[1:])

    handles = [hf_model.base_model.register_forward_pre_hook(start)]
    for module in dict.fromkeys(layers):
        handles.append(module.register_forward_pre_hook(enter))
        for path in (adapter.attn_output_path, adapter.mlp_in_path):
            handles.append(module.get_submodule(path).register_forward_pre_hook(narrow))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
