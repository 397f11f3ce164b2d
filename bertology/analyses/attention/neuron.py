"""Each head's query and key vectors, read by forward hooks on the adapter's query and key projections."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from bertology.analyses.attention.sentence import SentenceAttention, Text, encode_text
from bertology.core.hooks import trace, unwrap_model
from bertology.core.models import LoadedModel

DISENTANGLED_NOTE = ("DeBERTa's disentangled attention: the model's score adds content-to-position and "
                     "position-to-content terms to the q·k shown here, and scales by √(d·{factor}); the q·k "
                     "softmax is therefore not the model's attention.")
RELATIVE_NOTE = ("Relative position embeddings ({kind}): the model's score adds a query-position term to the "
                 "q·k shown here; the q·k softmax is therefore not the model's attention.")


@dataclass
class QueryKey:
    """Query and key vectors of every layer and head for one input, and the score scale.

    Attributes
    ----------
    attention
        The model's attention probabilities (same forward pass).
    queries, keys
        ``(layers, heads, tokens, d_head)`` float32 arrays: the outputs of the query and key
        projections, split by head.
    scale
        The factor the model multiplies ``q·k`` by (``1/√d_head`` for scaled dot-product attention).
    note
        Empty where ``softmax(scale · q·k + mask)`` is the model's attention; otherwise what else
        enters the model's scores.
    """

    attention: SentenceAttention
    queries: np.ndarray
    keys: np.ndarray
    scale: float
    note: str


def score_scale(model: nn.Module, d_head: int) -> tuple[float, str]:
    """The factor on ``q·k`` in a model's attention scores, and a note where ``q·k`` is not the whole score.

    Parameters
    ----------
    model
        A Hugging Face model of a supported architecture.
    d_head
        Size of one head's query vector.

    Returns
    -------
    tuple
        ``(scale, note)``; ``note`` is empty for plain scaled dot-product attention
        (Vaswani et al. 2017).

    Examples
    --------
    >>> import transformers
    >>> cfg = transformers.BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
    ...                               intermediate_size=8, vocab_size=10)
    >>> score_scale(transformers.BertModel(cfg), 4)
    (0.5, '')
    """
    _, adapter = unwrap_model(model)
    config = model.config
    if adapter.scores == "disentangled":
        kinds = getattr(config, "pos_att_type", None) or []
        factor = 1 + ("c2p" in kinds) + ("p2c" in kinds)
        return 1.0 / math.sqrt(d_head * factor), DISENTANGLED_NOTE.format(factor=factor)
    kind = getattr(config, "position_embedding_type", "absolute") or "absolute"
    return 1.0 / math.sqrt(d_head), "" if kind == "absolute" else RELATIVE_NOTE.format(kind=kind)


def query_key(model: LoadedModel, text: Text) -> QueryKey:
    """Every head's query and key vectors and attention for one sentence or pair, in one forward pass.

    The vectors are the outputs of the query and key projections named by the
    architecture's adapter (``query_path``, ``key_path``), split into heads; the model code
    is not copied. This is what bertviz's neuron view shows (Vig 2019).

    Parameters
    ----------
    model
        From :func:`bertology.load_model` (any supported architecture).
    text
        A sentence, or ``(text_a, text_b)``.

    Returns
    -------
    QueryKey

    Examples
    --------
    >>> import bertology as bt
    >>> qk = query_key(bt.load_model("minilm"), "The bank is closed.")
    >>> qk.queries.shape, qk.note
    ((6, 12, 7, 32), '')
    """
    inputs, segments = encode_text(model, text)
    hf_model, adapter = unwrap_model(model)
    layers = adapter.layer_modules(hf_model)
    outputs: dict[tuple[str, int], list[torch.Tensor]] = {}
    handles = []
    sites = {role: [layer.get_submodule(path) for layer in layers]
             for role, path in (("q", adapter.query_path), ("k", adapter.key_path))}
    for role, modules in sites.items():
        for module in dict.fromkeys(modules):
            store = outputs.setdefault((role, id(module)), [])
            handles.append(module.register_forward_hook(
                lambda _module, _args, output, store=store: store.append(output.detach())))
    names = [f"layers.{i}.attn.pattern" for i in range(model.num_layers)]
    try:
        with torch.inference_mode(), trace(model, names, stop=True) as cache:
            model(**{key: value.to(model.device) for key, value in inputs.items()})
    finally:
        for handle in handles:
            handle.remove()
    heads = model.num_heads

    def per_layer(role: str) -> np.ndarray:
        taken: dict[int, int] = {}
        rows = []
        for module in sites[role]:
            count = taken.get(id(module), 0)
            taken[id(module)] = count + 1
            flat = outputs[(role, id(module))][count][0]
            rows.append(flat.view(flat.shape[0], heads, -1).transpose(0, 1))
        return torch.stack(rows).float().cpu().numpy()

    queries, keys = per_layer("q"), per_layer("k")
    patterns = torch.stack([cache[name][0] for name in names]).float().cpu().numpy()
    tokens = model.tokenizer.convert_ids_to_tokens(inputs["input_ids"][0].tolist())
    scale, note = score_scale(hf_model, queries.shape[-1])
    return QueryKey(SentenceAttention(tokens, patterns, segments), queries, keys, scale, note)
