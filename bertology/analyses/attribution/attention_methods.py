"""Attention as explanation: the last layer's [CLS] attention (Jain & Wallace 2019; Wiegreffe & Pinter 2019),
attention rollout and attention flow (Abnar & Zuidema 2020), norm-based attention (Kobayashi et al. 2020) and
value zeroing (Mohebbi et al. 2023), read through ``bertology.core.hooks``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from bertology.analyses.attribution.classifier import Classifier, segment_kwargs
from bertology.analyses.attribution.gradients import gradient_result
from bertology.analyses.attribution.result import AttributionResult
from bertology.analyses.attribution.words import TokenizedText, model_inputs
from bertology.core.attention import residual_attention, rollout
from bertology.core.errors import InputError
from bertology.core.extraction import length_sorted_batches
from bertology.core.hooks import HookPoints, trace, unwrap_model


def encoder_inputs(clf: Classifier, tokenized: TokenizedText) -> dict[str, torch.Tensor]:
    """The encoder's keyword inputs for one text: ``input_ids``, ``attention_mask`` and, for a sentence pair, its
    segment ids ``token_type_ids``.

    Examples
    --------
    >>> sorted(encoder_inputs(clf, tokenize_input(clf, ("a man", "someone"))))  # doctest: +SKIP
    ['attention_mask', 'input_ids', 'token_type_ids']
    """
    ids, (mask, *types) = model_inputs(clf, tokenized)
    return {"input_ids": ids, "attention_mask": mask, **segment_kwargs(types[0] if types else None)}


def attention_patterns(clf: Classifier, tokenized: TokenizedText, layers: list[int]) -> torch.Tensor:
    """Attention probabilities ``(layers, heads, seq, seq)`` of the classifier's encoder for one text (a pair's
    segment ids passed to the model), float64, read by :func:`attention_values`.

    Examples
    --------
    >>> attention_patterns(clf, tokenize_words(clf, "a fine film"), [0, 1]).shape  # doctest: +SKIP
    torch.Size([2, 2, 5, 5])
    """
    return attention_values(clf, tokenized)[0][layers].double().cpu()


def attention_values(clf: Classifier, tokenized: TokenizedText,
                     hidden: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Every layer's attention probabilities and value vectors for one text (a pair's segment ids passed to the
    model), in one forward pass; inside :meth:`Classifier.memoized
    <bertology.analyses.attribution.classifier.Classifier.memoized>` once per text.

    The values are the outputs of the value projection named by the architecture's adapter
    (``value_path``, bias included), split by head.

    Returns
    -------
    tuple
        ``(patterns, values, outputs)``: ``(layers, heads, seq, seq)``, ``(layers, heads, seq, d_head)`` and,
        with ``hidden=True``, each layer's output ``(layers, seq, hidden)`` (else ``None``).

    Examples
    --------
    >>> patterns, values, _ = attention_values(clf, tokenize_words(clf, "a fine film"))  # doctest: +SKIP
    >>> values.shape  # doctest: +SKIP
    torch.Size([3, 4, 5, 8])
    """
    patterns, values, states = clf.remembered(_reading_key(tokenized), lambda: _read_attention(clf, [tokenized])[0])
    return patterns, values, states if hidden else None


def remember_attention(clf: Classifier, texts: Sequence[TokenizedText], batch_size: int = 32) -> None:
    """Inside :meth:`Classifier.memoized <bertology.analyses.attribution.classifier.Classifier.memoized>`, read
    every text's attention, values and layer outputs (:func:`attention_values`) in length-sorted padded batches,
    so that the attention-based methods find them read (padding keys get attention 0; each text's reading is
    the one-text reading up to float32 rounding).

    Examples
    --------
    >>> with clf.memoized():  # doctest: +SKIP
    ...     remember_attention(clf, [tokenize_words(clf, t) for t in ["a fine film", "dull"]])
    ...     rollout(clf, tokenize_words(clf, "dull"), 0)  # no forward pass
    """
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}.")
    for rows in length_sorted_batches(np.array([len(t.input_ids) for t in texts]), batch_size):
        batch = [texts[row] for row in rows]
        for tokenized, reading in zip(batch, _read_attention(clf, batch)):
            clf.remembered(_reading_key(tokenized), lambda reading=reading: reading)


def _reading_key(tokenized: TokenizedText) -> tuple:
    types = None if tokenized.token_type_ids is None else tuple(tokenized.token_type_ids)
    return "attention", tuple(tokenized.input_ids), types


def _read_attention(clf: Classifier, batch: Sequence[TokenizedText]) -> list[tuple[torch.Tensor, ...]]:
    """Patterns, value vectors and layer outputs of each text, from one forward pass over the padded batch."""
    model = _encoder(clf)
    hf_model, adapter = unwrap_model(model)
    n_layers = _num_layers(clf)
    heads = int(hf_model.config.num_attention_heads)
    seen: list[torch.Tensor] = []
    modules = [layer.get_submodule(adapter.value_path) for layer in adapter.layer_modules(hf_model)]
    handles = [module.register_forward_hook(lambda _module, _args, output: seen.append(output.detach()))
               for module in dict.fromkeys(modules)]
    names = [f"layers.{i}.attn.pattern" for i in range(n_layers)]
    outputs = [f"layers.{i}.resid_post" for i in range(n_layers)]
    segments = None
    if any(t.token_type_ids is not None for t in batch):
        segments = [[0] * len(t.input_ids) if t.token_type_ids is None else t.token_type_ids for t in batch]
    ids, mask, types = clf.padded([t.input_ids for t in batch], segments)
    inputs = {"input_ids": ids, "attention_mask": mask, **segment_kwargs(types)}
    try:
        with torch.inference_mode(), trace(model, names + outputs, stop=True) as cache:
            model(**inputs)
    finally:
        for handle in handles:
            handle.remove()
    patterns = torch.stack([cache[name] for name in names], dim=1)  # (batch, layers, heads, seq, seq)
    values = torch.stack([flat.view(*flat.shape[:2], heads, -1).transpose(1, 2) for flat in seen[:n_layers]], dim=1)
    states = torch.stack([cache[name] for name in outputs], dim=1)  # (batch, layers, seq, hidden)
    return [(patterns[row, :, :, :n, :n], values[row, :, :, :n], states[row, :, :n])
            for row, n in enumerate(len(t.input_ids) for t in batch)]


def _encoder(clf: Classifier) -> torch.nn.Module:
    model = getattr(clf.network, "hf_model", None)
    if model is None:
        raise InputError("Attention explanations need a transformer classifier (Classifier.from_pretrained or "
                         "from_probe): this classifier has no encoder to read attention from.")
    return model


def _layer_index(clf: Classifier, layer: int) -> int:
    n_layers = _num_layers(clf)
    if n_layers and not -n_layers <= layer < n_layers:
        raise InputError(f"layer={layer} is out of range for a model of {n_layers} layers.")
    return layer % max(n_layers, 1)


def _num_layers(clf: Classifier) -> int:
    model = getattr(clf.network, "hf_model", None)
    return int(model.config.num_hidden_layers) if model is not None else 0


def attention(clf: Classifier, tokenized: TokenizedText, target: int, layer: int = -1) -> AttributionResult:
    """Raw attention from ``[CLS]``: row 0 of one layer's attention, averaged over heads.

    The classic "attention as explanation" baseline (Jain & Wallace 2019, "Attention is not
    Explanation"; Wiegreffe & Pinter 2019, "Attention is not not Explanation"). It does not
    depend on ``target``. A word's score is the sum of its tokens' scores.

    Parameters
    ----------
    clf
        A transformer classifier.
    tokenized
        From :func:`~bertology.analyses.attribution.words.tokenize_words`.
    target
        Output index (recorded; the scores do not depend on it).
    layer
        Which layer (default the last).

    Returns
    -------
    AttributionResult

    Examples
    --------
    >>> r = attention(clf, tokenize_words(clf, "a fine film"), target=1)  # doctest: +SKIP
    >>> round(sum(r.token_scores), 6)  # doctest: +SKIP
    1.0
    """
    pattern = attention_patterns(clf, tokenized, [_layer_index(clf, layer)])[0]
    scores = pattern.mean(dim=0)[0].numpy()
    return gradient_result(clf, tokenized, target, "attention", np.asarray(scores, dtype=np.float64),
                           {"layer": int(layer), "row": "[CLS]", "heads": "mean"})


def attention_rollout(clf: Classifier, tokenized: TokenizedText, target: int,
                      residual: bool = True) -> AttributionResult:
    """Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers") from ``[CLS]``.

    Per layer the head-mean attention ``A``, with the residual connection as
    ``0.5·A + 0.5·I`` (``residual=True``; rows still sum to 1), multiplied from the first
    layer up: ``R = Â_L ⋯ Â_1``; a token's score is ``R[CLS, token]``, a word's the sum of
    its tokens'. It does not depend on ``target``.

    Parameters
    ----------
    clf
        A transformer classifier.
    tokenized
        From :func:`~bertology.analyses.attribution.words.tokenize_words`.
    target
        Output index (recorded; the scores do not depend on it).
    residual
        Add the identity for the residual connection.

    Returns
    -------
    AttributionResult

    Examples
    --------
    >>> r = attention_rollout(clf, tokenize_words(clf, "a fine film"), target=1)  # doctest: +SKIP
    """
    patterns = attention_patterns(clf, tokenized, list(range(_num_layers(clf))))
    joint = rollout(patterns.numpy(), residual)[-1]  # (seq, seq)
    return gradient_result(clf, tokenized, target, "rollout", joint[0],
                           {"residual": bool(residual), "row": "[CLS]", "heads": "mean"})


def attention_flow(clf: Classifier, tokenized: TokenizedText, target: int,
                   residual: bool = True) -> AttributionResult:
    """Attention flow (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers") from ``[CLS]``.

    The layers form a graph: node ``(l, i)`` (token ``i`` after layer ``l``; ``l = 0`` the
    input) has an edge to every ``(l - 1, j)`` with capacity ``Â_l[i, j]``, the head-mean
    attention with the residual connection as ``0.5·A + 0.5·I`` (``residual=True``). A
    token's score is the maximum flow from the last layer's ``[CLS]`` node to its input node
    (the value of the authors' ``compute_flows``, which runs networkx's Edmonds–Karp; here
    networkx's shortest augmenting path on one residual network reused for every input node,
    the same maximum), normalised to sum to 1; a word's score is the sum of its tokens'. It
    does not depend on ``target``.

    Parameters
    ----------
    clf
        A transformer classifier.
    tokenized
        From :func:`~bertology.analyses.attribution.words.tokenize_words`.
    target
        Output index (recorded; the scores do not depend on it).
    residual
        Add the identity for the residual connection.

    Returns
    -------
    AttributionResult

    Examples
    --------
    >>> r = attention_flow(clf, tokenize_words(clf, "a fine film"), target=1)  # doctest: +SKIP
    >>> round(sum(r.token_scores), 6)  # doctest: +SKIP
    1.0
    """
    patterns = attention_patterns(clf, tokenized, list(range(_num_layers(clf))))
    flows = _max_flows(residual_attention(patterns.numpy(), residual))
    return gradient_result(clf, tokenized, target, "attention_flow", flows / flows.sum(),
                           {"residual": bool(residual), "row": "[CLS]", "heads": "mean"})


def _max_flows(mixed: np.ndarray) -> np.ndarray:
    """Maximum flow from the top ``[CLS]`` node to each input node of the layered graph of ``mixed``
    ``(layers, seq, seq)``; the top layer's other nodes, which the source never reaches, are left out."""
    import networkx as nx
    from networkx.algorithms.flow import (
        build_residual_network,
        shortest_augmenting_path,
    )

    n_layers, n, _ = mixed.shape
    graph = nx.DiGraph()
    for layer in range(n_layers):
        rows, cols = np.nonzero(mixed[layer, :1] if layer == n_layers - 1 else mixed[layer])
        graph.add_edges_from(((layer + 1) * n + i, layer * n + j, {"capacity": float(mixed[layer, i, j])})
                             for i, j in zip(rows.tolist(), cols.tolist()))
    graph.add_nodes_from(range(n))
    residual = build_residual_network(graph, "capacity")
    return np.array([nx.maximum_flow_value(graph, n_layers * n, j, flow_func=shortest_augmenting_path,
                                           residual=residual) for j in range(n)])


def norm_attention(clf: Classifier, tokenized: TokenizedText, target: int, layer: int = -1) -> AttributionResult:
    """Norm-based attention (Kobayashi et al. 2020, "Attention is Not Only a Weight") from ``[CLS]``.

    A token ``j``'s score is ``‖Σ_h α_{h,0j} f_h(x_j)‖`` in one layer, with
    ``f_h(x) = (x W_V,h + b_V,h) W_O,h`` the head's value vector (bias included) through its
    slice of the attention output projection (no output bias), as the authors' released
    ``BertNormOutput`` (``summed_weighted_norm``); a word's score is the sum of its tokens'.
    It does not depend on ``target``.

    Parameters
    ----------
    clf
        A transformer classifier.
    tokenized
        From :func:`~bertology.analyses.attribution.words.tokenize_words`.
    target
        Output index (recorded; the scores do not depend on it).
    layer
        Which layer (default the last).

    Returns
    -------
    AttributionResult

    Examples
    --------
    >>> r = norm_attention(clf, tokenize_words(clf, "a fine film"), target=1)  # doctest: +SKIP
    """
    index = _layer_index(clf, layer)
    hf_model, adapter = unwrap_model(_encoder(clf))
    patterns, values, _ = attention_values(clf, tokenized)
    weight = adapter.layer_modules(hf_model)[index].get_submodule(adapter.attn_output_path).weight
    per_head = weight.detach().T.reshape(values.shape[1], values.shape[-1], -1).to(values.dtype)
    transformed = torch.einsum("hjd,hdo->hjo", values[index], per_head)
    summed = torch.einsum("hj,hjo->jo", patterns[index, :, 0].to(values.dtype), transformed)
    scores = summed.double().norm(dim=-1).cpu().numpy()
    return gradient_result(clf, tokenized, target, "norm", scores,
                           {"layer": int(layer), "row": "[CLS]", "heads": "sum"})


def value_zeroing(clf: Classifier, tokenized: TokenizedText, target: int) -> AttributionResult:
    """Value zeroing (Mohebbi et al. 2023, "Quantifying Context Mixing in Transformers") from ``[CLS]``.

    In layer ``l``, token ``j``'s value vectors are zeroed in every head and ``S_l[i, j]``
    is the cosine distance between token ``i``'s output of that layer and its original
    output; rows are normalised to sum to 1 and the layers are combined by rollout without
    residual, ``R = S_L ⋯ S_1``, as the authors' released code. A token's score is
    ``R[CLS, token]``, a word's the sum of its tokens'. The ``n`` zeroings of a layer run as
    one batch: the text passes the layers below and the layer's attention once (the authors
    feed the layer its original input; zeroing a value changes no query, key or attention
    weight), and at the attention output projection the heads' context becomes ``n`` copies,
    copy ``j`` without ``α_{h,ij} v_{h,j}``; the rest of the layer runs on the copies. It does
    not depend on ``target``.

    Parameters
    ----------
    clf
        A transformer classifier.
    tokenized
        From :func:`~bertology.analyses.attribution.words.tokenize_words`.
    target
        Output index (recorded; the scores do not depend on it).

    Returns
    -------
    AttributionResult

    Examples
    --------
    >>> r = value_zeroing(clf, tokenize_words(clf, "a fine film"), target=1)  # doctest: +SKIP
    """
    hf_model, adapter = unwrap_model(_encoder(clf))
    patterns, values, states = attention_values(clf, tokenized, hidden=True)
    n_layers, _, n, _ = patterns.shape
    inputs = encoder_inputs(clf, tokenized)
    mixing = torch.zeros(n_layers, n, n, dtype=torch.float64)
    for layer in range(n_layers):
        removed = torch.einsum("hij,hjd->jihd", patterns[layer].to(values.dtype), values[layer])
        name, heads = f"layers.{layer}.resid_post", f"layers.{layer}.attn.heads"
        copies = HookPoints(hf_model, adapter, [heads], lambda _name, context, removed=removed: context - removed)
        try:
            copies.install()
            with torch.inference_mode(), trace(hf_model, [name], stop=True) as cache:
                hf_model(**inputs)
        finally:
            copies.remove()
        distance = 1 - torch.nn.functional.cosine_similarity(cache[name].double(), states[layer].double()[None], dim=-1)
        mixing[layer] = distance.T.cpu()
    mixing = mixing / mixing.sum(dim=-1, keepdim=True)
    rollout = mixing[0]
    for layer in mixing[1:]:
        rollout = layer @ rollout
    return gradient_result(clf, tokenized, target, "value_zeroing", rollout[0].numpy(),
                           {"distance": "cosine", "row": "[CLS]", "heads": "all", "rollout": "no residual"})
