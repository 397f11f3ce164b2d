"""Integrated gradients (Sundararajan et al. 2017) on the token-embedding layer, through captum."""

from __future__ import annotations

import torch
from captum.attr import LayerIntegratedGradients

from bertology.analyses.attribution.classifier import Classifier
from bertology.analyses.attribution.gradients import embedding_forward, text_probabilities
from bertology.analyses.attribution.result import AttributionResult
from bertology.analyses.attribution.words import (
    TokenizedText,
    baseline_ids,
    model_inputs,
    pair_parameters,
    word_sums,
)
from bertology.core.errors import InputError


def integrated_gradients(clf: Classifier, tokenized: TokenizedText, target: int, n_steps: int = 50,
                         baseline: str = "pad", internal_batch_size: int | None = None,
                         method: str = "gausslegendre") -> AttributionResult:
    """Integrated gradients of ``p(target | x)`` with respect to the token embeddings.

    captum's ``LayerIntegratedGradients`` interpolates the output of the token-embedding
    table between the baseline's and the input's embeddings (Sundararajan et al. 2017,
    "Axiomatic Attribution for Deep Networks"). A token's score is its attribution summed
    over the hidden dimension; a word's score is the **sum** of its tokens' scores (so word
    scores still add up to f(x) − f(baseline) minus the special tokens' share). The
    convergence delta, Σ attributions − (f(x) − f(baseline)), is always recorded; f(baseline)
    is taken at the start of the integration path (the input with the baseline's token
    embeddings), which equals captum's forward pass on the baseline ids except for models
    such as RoBERTa whose position ids depend on padding. A sentence pair keeps its segment
    ids along the whole path.

    Parameters
    ----------
    clf
        The classifier.
    tokenized
        From :func:`~bertology.analyses.attribution.words.tokenize_words`.
    target
        Output index to explain.
    n_steps
        Riemann/Gauss–Legendre steps of the path integral.
    baseline
        ``"pad"``, ``"mask"`` or ``"unk"`` (see :func:`baseline_ids`).
    internal_batch_size
        Interpolation points per forward pass (``None``: all ``n_steps`` at once).
    method
        captum's integration rule.

    Returns
    -------
    AttributionResult

    Examples
    --------
    >>> r = integrated_gradients(clf, tokenize_words(clf, "a fine film"), target=1)  # doctest: +SKIP
    >>> abs(r.delta) < 0.05  # doctest: +SKIP
    True
    """
    if n_steps < 1:
        raise InputError(f"n_steps must be at least 1, got {n_steps}.")
    ids, forward_args = model_inputs(clf, tokenized)
    reference = baseline_ids(clf, ids, baseline)
    explainer = LayerIntegratedGradients(clf.probabilities, clf.embeddings)
    attributions = explainer.attribute(ids, baselines=reference, additional_forward_args=forward_args, target=target,
                                       n_steps=n_steps, method=method, internal_batch_size=internal_batch_size)
    token_scores = attributions.sum(dim=-1)[0].detach().double().cpu().numpy()  # (seq,)
    with torch.inference_mode():
        at_baseline = float(embedding_forward(clf)(clf.embeddings(reference), ids, *forward_args)[0, target])
    at_input = float(text_probabilities(clf, tokenized)[target])
    delta = float(attributions.double().sum()) - (at_input - at_baseline)
    return AttributionResult(
        text=tokenized.text, tokens=tokenized.tokens, token_words=tokenized.token_words.tolist(),
        token_scores=token_scores.tolist(),
        words=tokenized.words,
        word_scores=word_sums(token_scores, tokenized.token_words, len(tokenized.words)).tolist(),
        target=clf.labels[target], target_index=int(target), method="integrated_gradients",
        probability=at_input,
        parameters={"n_steps": int(n_steps), "baseline": baseline, "internal_batch_size": internal_batch_size,
                    "integration": method, "output": clf.output, "baseline_probability": at_baseline,
                    "word_rule": "sum of token scores", "classifier": clf.description,
                    **pair_parameters(tokenized)},
        delta=delta,
        truncated=tokenized.truncated,
    )
