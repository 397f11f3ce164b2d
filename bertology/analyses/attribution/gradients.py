"""Gradient methods on the token-embedding layer, through captum's layer attributions: saliency
(Simonyan et al. 2014), input × gradient (Shrikumar et al. 2016), DeepLift (Shrikumar et al. 2017)
and GradientSHAP (Lundberg & Lee 2017)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from captum.attr import GradientShap, LayerDeepLift, LayerGradientXActivation
from torch import nn

from bertology.analyses.attribution.classifier import Classifier
from bertology.analyses.attribution.result import AttributionResult
from bertology.analyses.attribution.words import (
    TokenizedText,
    baseline_ids,
    model_inputs,
    pair_parameters,
    word_sums,
)
from bertology.core.errors import InputError


def embedding_forward(clf: Classifier) -> Callable[..., torch.Tensor]:
    """``(embeddings, input_ids, attention_mask[, token_type_ids]) -> probabilities`` with the token-embedding
    output replaced.

    The classifier runs on ``input_ids`` (so position and segment embeddings follow the
    input) while its token-embedding table returns ``embeddings``; captum's input-space
    methods then attribute to the token embeddings.

    Examples
    --------
    >>> forward = embedding_forward(clf)  # doctest: +SKIP
    >>> forward(clf.embeddings(ids), ids, torch.ones_like(ids)).shape  # doctest: +SKIP
    torch.Size([1, 2])
    """
    def forward(embeddings: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        handle = clf.embeddings.register_forward_hook(lambda module, args, output: embeddings)
        try:
            return clf.probabilities(input_ids, attention_mask, token_type_ids)
        finally:
            handle.remove()
    return forward


class ProbabilityModule(nn.Module):
    """The classifier's softmax output as a module (DeepLift hooks the module it explains)."""

    def __init__(self, clf: Classifier) -> None:
        super().__init__()
        self.clf = clf

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        return self.clf.probabilities(input_ids, attention_mask, token_type_ids)


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's and numpy's global generators (captum draws from both) and restore them afterwards.

    Examples
    --------
    >>> with seeded(0):
    ...     a = torch.rand(1)
    >>> with seeded(0):
    ...     b = torch.rand(1)
    >>> bool(a == b)
    True
    """
    state = np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        np.random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(state)


def text_probabilities(clf: Classifier, tokenized: TokenizedText) -> np.ndarray:
    """The classifier's output ``(classes,)`` on a tokenized text (segment ids kept), through
    :meth:`~bertology.analyses.attribution.classifier.Classifier.probabilities_of_ids`, so that inside
    :meth:`~bertology.analyses.attribution.classifier.Classifier.memoized` the text runs once for all methods.

    Examples
    --------
    >>> text_probabilities(clf, tokenize_words(clf, "a fine film")).shape  # doctest: +SKIP
    (2,)
    """
    segments = None if tokenized.token_type_ids is None else [tokenized.token_type_ids]
    return clf.probabilities_of_ids([tokenized.input_ids], segments=segments)[0]


def gradient_result(clf: Classifier, tokenized: TokenizedText, target: int, method: str, token_scores: np.ndarray,
                    parameters: dict[str, Any], delta: float | None = None) -> AttributionResult:
    """An :class:`AttributionResult` from per-token scores; a word's score is the sum of its tokens' scores.

    Examples
    --------
    >>> r = gradient_result(clf, tokenized, 1, "saliency", scores, {})  # doctest: +SKIP
    """
    return AttributionResult(
        text=tokenized.text, tokens=tokenized.tokens, token_words=tokenized.token_words.tolist(),
        token_scores=token_scores.tolist(), words=tokenized.words,
        word_scores=word_sums(token_scores, tokenized.token_words, len(tokenized.words)).tolist(),
        target=clf.labels[target], target_index=int(target), method=method,
        probability=float(text_probabilities(clf, tokenized)[target]),
        parameters={**parameters, "output": clf.output, "word_rule": "sum of token scores",
                    "classifier": clf.description, **pair_parameters(tokenized)},
        delta=delta, truncated=tokenized.truncated,
    )


def _token_scores(attributions: torch.Tensor) -> np.ndarray:
    return attributions.sum(dim=-1)[0].detach().double().cpu().numpy()


def saliency(clf: Classifier, tokenized: TokenizedText, target: int, absolute: bool = True) -> AttributionResult:
    """Saliency (Simonyan et al. 2014, "Deep Inside Convolutional Networks"): ``|∂p(target)/∂e|`` per token.

    captum's ``LayerGradientXActivation`` with ``multiply_by_inputs=False`` returns the plain
    gradient with respect to the token-embedding output (captum's ``Saliency`` on the
    embeddings, with ``abs=absolute``); a token's score is the sum over the hidden dimension of its
    absolute gradient (its L1 norm), a word's the sum of its tokens' scores.

    Parameters
    ----------
    clf
        The classifier.
    tokenized
        From :func:`~bertology.analyses.attribution.words.tokenize_words`.
    target
        Output index to explain.
    absolute
        Absolute gradients (captum's default); ``False`` keeps their sign.

    Returns
    -------
    AttributionResult

    Examples
    --------
    >>> r = saliency(clf, tokenize_words(clf, "a fine film"), target=1)  # doctest: +SKIP
    >>> min(r.word_scores) >= 0  # doctest: +SKIP
    True
    """
    ids, forward_args = model_inputs(clf, tokenized)
    gradients = LayerGradientXActivation(clf.probabilities, clf.embeddings, multiply_by_inputs=False).attribute(
        ids, target=target, additional_forward_args=forward_args)
    return gradient_result(clf, tokenized, target, "saliency", _token_scores(gradients.abs() if absolute else gradients),
                           {"absolute": bool(absolute)})


def input_x_gradient(clf: Classifier, tokenized: TokenizedText, target: int) -> AttributionResult:
    """Input × gradient (Shrikumar et al. 2016, "Not Just a Black Box"): ``e · ∂p(target)/∂e`` per token.

    captum's ``LayerGradientXActivation`` on the token-embedding table; a token's score is the
    sum over the hidden dimension, a word's the sum of its tokens' scores.

    Parameters
    ----------
    clf
        The classifier.
    tokenized
        From :func:`~bertology.analyses.attribution.words.tokenize_words`.
    target
        Output index to explain.

    Returns
    -------
    AttributionResult

    Examples
    --------
    >>> r = input_x_gradient(clf, tokenize_words(clf, "a fine film"), target=1)  # doctest: +SKIP
    """
    ids, forward_args = model_inputs(clf, tokenized)
    attributions = LayerGradientXActivation(clf.probabilities, clf.embeddings).attribute(
        ids, target=target, additional_forward_args=forward_args)
    return gradient_result(clf, tokenized, target, "input_x_gradient", _token_scores(attributions), {})


def deeplift(clf: Classifier, tokenized: TokenizedText, target: int, baseline: str = "pad") -> AttributionResult:
    """DeepLift (Shrikumar et al. 2017, "Learning Important Features Through Propagating Activation
    Differences") on the token embeddings, with the rescale rule.

    captum's ``LayerDeepLift`` on the token-embedding table against the same reference ids as
    integrated gradients (special tokens kept, see
    :func:`~bertology.analyses.attribution.words.baseline_ids`). The convergence delta,
    Σ attributions − (p(x) − p(baseline)), is recorded.

    Parameters
    ----------
    clf
        The classifier.
    tokenized
        From :func:`~bertology.analyses.attribution.words.tokenize_words`.
    target
        Output index to explain.
    baseline
        ``"pad"``, ``"mask"`` or ``"unk"``.

    Returns
    -------
    AttributionResult

    Examples
    --------
    >>> r = deeplift(clf, tokenize_words(clf, "a fine film"), target=1)  # doctest: +SKIP
    """
    ids, forward_args = model_inputs(clf, tokenized)
    reference = baseline_ids(clf, ids, baseline)
    attributions, delta = LayerDeepLift(ProbabilityModule(clf), clf.embeddings).attribute(
        ids, baselines=reference, target=target, additional_forward_args=forward_args, return_convergence_delta=True)
    return gradient_result(clf, tokenized, target, "deeplift", _token_scores(attributions), {"baseline": baseline},
                           delta=float(delta.sum()))


def gradient_shap(clf: Classifier, tokenized: TokenizedText, target: int, n_samples: int = 20, stdevs: float = 0.0,
                  baseline: str = "pad", seed: int = 0) -> AttributionResult:
    """GradientSHAP (Lundberg & Lee 2017, "A Unified Approach to Interpreting Model Predictions") on the
    token embeddings.

    captum's ``GradientShap`` on the token-embedding output (through
    :func:`embedding_forward`: ``LayerGradientShap`` would add its noise to integer ids):
    ``n_samples`` points drawn uniformly on the path from the baseline's embeddings to the
    input's, with Gaussian noise of ``stdevs`` on the input, expected gradient × (input −
    baseline). Seeded: the same seed gives the same scores. The recorded delta is the mean of
    captum's per-sample convergence deltas; without noise (``stdevs=0``) every sample has the
    same end points and that mean is Σ attributions − (p(x) − p(baseline)), computed from two
    forward passes instead of captum's ``2 · n_samples``.

    Parameters
    ----------
    clf
        The classifier.
    tokenized
        From :func:`~bertology.analyses.attribution.words.tokenize_words`.
    target
        Output index to explain.
    n_samples
        Random points on the path.
    stdevs
        Standard deviation of the noise added to the input embeddings.
    baseline
        ``"pad"``, ``"mask"`` or ``"unk"`` (see :func:`~bertology.analyses.attribution.words.baseline_ids`).
    seed
        Seed of the draws.

    Returns
    -------
    AttributionResult

    Examples
    --------
    >>> r = gradient_shap(clf, tokenize_words(clf, "a fine film"), target=1, seed=0)  # doctest: +SKIP
    """
    if n_samples < 1:
        raise InputError(f"n_samples must be at least 1, got {n_samples}.")
    ids, forward_args = model_inputs(clf, tokenized)
    with torch.no_grad():
        inputs = clf.embeddings(ids)
        reference = clf.embeddings(baseline_ids(clf, ids, baseline))
    forward = embedding_forward(clf)
    with seeded(seed):
        attributions = GradientShap(forward).attribute(
            inputs, baselines=reference, n_samples=n_samples, stdevs=stdevs, target=target,
            additional_forward_args=(ids, *forward_args), return_convergence_delta=stdevs != 0)
    with clf.memoized():
        if stdevs != 0:
            attributions, deltas = attributions
            delta = float(deltas.double().mean())
        else:
            with torch.inference_mode():
                at_baseline = float(forward(reference, ids, *forward_args)[0, target])
            at_input = float(text_probabilities(clf, tokenized)[target])
            delta = float(attributions.double().sum()) - (at_input - at_baseline)
        return gradient_result(clf, tokenized, target, "gradient_shap", _token_scores(attributions),
                               {"n_samples": int(n_samples), "stdevs": float(stdevs), "baseline": baseline,
                                "seed": int(seed)}, delta=delta)
