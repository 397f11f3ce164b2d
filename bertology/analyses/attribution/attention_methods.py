"""Attention as explanation: the last layer's [CLS] attention (Jain & Wallace 2019; Wiegreffe & Pinter 2019)
and attention rollout (Abnar & Zuidema 2020), read through ``bertology.core.hooks.trace``."""

from __future__ import annotations

import numpy as np
import torch

from bertology.analyses.attribution.classifier import Classifier
from bertology.analyses.attribution.gradients import gradient_result
from bertology.analyses.attribution.result import AttributionResult
from bertology.analyses.attribution.words import TokenizedText
from bertology.core.errors import InputError
from bertology.core.hooks import trace


def attention_patterns(clf: Classifier, tokenized: TokenizedText, layers: list[int]) -> torch.Tensor:
    """Attention probabilities ``(layers, heads, seq, seq)`` of the classifier's encoder for one text.

    Examples
    --------
    >>> attention_patterns(clf, tokenize_words(clf, "a fine film"), [0, 1]).shape  # doctest: +SKIP
    torch.Size([2, 2, 5, 5])
    """
    model = getattr(clf.network, "hf_model", None)
    if model is None:
        raise InputError("Attention explanations need a transformer classifier (Classifier.from_pretrained or "
                         "from_probe): this classifier has no encoder to read attention from.")
    names = [f"layers.{layer}.attn.pattern" for layer in layers]
    ids = torch.tensor([tokenized.input_ids], device=clf.device)
    with torch.inference_mode(), trace(model, names, stop=True) as cache:
        model(input_ids=ids, attention_mask=torch.ones_like(ids))
    return torch.stack([cache[name][0] for name in names]).double().cpu()


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
    n_layers = _num_layers(clf)
    if n_layers and not -n_layers <= layer < n_layers:
        raise InputError(f"layer={layer} is out of range for a model of {n_layers} layers.")
    pattern = attention_patterns(clf, tokenized, [layer % max(n_layers, 1)])[0]
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
    mixed = patterns.mean(dim=1)  # (layers, seq, seq)
    if residual:
        mixed = 0.5 * mixed + 0.5 * torch.eye(mixed.shape[-1], dtype=mixed.dtype)
    rollout = mixed[0]
    for layer in mixed[1:]:
        rollout = layer @ rollout
    return gradient_result(clf, tokenized, target, "rollout", rollout[0].numpy(),
                           {"residual": bool(residual), "row": "[CLS]", "heads": "mean"})
