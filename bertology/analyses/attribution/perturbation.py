"""Perturbation methods over whitespace words, through captum: occlusion (Zeiler & Fergus 2014) and
KernelSHAP (Lundberg & Lee 2017)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from captum.attr import FeatureAblation, KernelShap
from lime.lime_text import IndexedString

from bertology.analyses.attribution.classifier import Classifier
from bertology.analyses.attribution.gradients import seeded, text_probabilities
from bertology.analyses.attribution.lime_method import WHITESPACE, mask_string
from bertology.analyses.attribution.result import AttributionResult
from bertology.analyses.attribution.words import (
    TokenizedText,
    baseline_ids,
    classifier_inputs,
    model_inputs,
    pair_parameters,
    perturbable_text,
    word_to_tokens,
)
from bertology.core.errors import InputError


def _word_result(clf: Classifier, tokenized: TokenizedText, target: int, method: str, word_scores: np.ndarray,
                 probability: float, parameters: dict) -> AttributionResult:
    return AttributionResult(
        text=tokenized.text, tokens=tokenized.tokens, token_words=tokenized.token_words.tolist(),
        token_scores=word_to_tokens(word_scores, tokenized.token_words).tolist(), words=tokenized.words,
        word_scores=np.asarray(word_scores, dtype=np.float64).tolist(), target=clf.labels[target],
        target_index=int(target), method=method, probability=float(probability),
        parameters={**parameters, "output": clf.output, "classifier": clf.description,
                    **pair_parameters(tokenized)},
        truncated=tokenized.truncated,
    )


def word_groups(tokenized: TokenizedText) -> torch.Tensor:
    """captum feature mask ``(1, seq)``: a token's word index; special tokens form one more group.

    Examples
    --------
    >>> word_groups(tokenized).tolist()  # doctest: +SKIP
    [[2, 0, 0, 1, 2]]
    """
    token_words = tokenized.token_words
    return torch.from_numpy(np.where(token_words >= 0, token_words, len(tokenized.words)))[None]


def ids_forward(clf: Classifier, batch_size: int = 32) -> Callable[..., torch.Tensor]:
    """``(input_ids, attention_mask[, token_type_ids]) -> probabilities`` through
    :meth:`~bertology.analyses.attribution.classifier.Classifier.probabilities_of_ids` (each distinct row
    once; inside :meth:`~bertology.analyses.attribution.classifier.Classifier.memoized`, once per block),
    for unpadded rows (an all-ones mask, as captum's perturbation methods pass).

    Examples
    --------
    >>> ids_forward(clf)(ids, torch.ones_like(ids)).shape  # doctest: +SKIP
    torch.Size([1, 2])
    """
    def forward(input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        segments = None if token_type_ids is None else token_type_ids.tolist()
        probabilities = clf.probabilities_of_ids(input_ids.tolist(), batch_size, segments)
        return torch.from_numpy(probabilities).to(input_ids.device)
    return forward


def occlusion(clf: Classifier, tokenized: TokenizedText, target: int, baseline: str = "mask",
              batch_size: int = 32) -> AttributionResult:
    """Word occlusion (Zeiler & Fergus 2014): ``p(target | x) − p(target | x with one word replaced)``.

    captum's ``FeatureAblation`` with one feature group per whitespace word (all its tokens
    at once, :func:`word_groups`), replacing the word's tokens by the baseline token; special
    tokens keep their ids (their group changes nothing and scores 0), and so do a sentence
    pair's segment ids. The occluded texts run through :func:`ids_forward`, the text itself once. Every token gets its
    word's score. The default baseline is ``[MASK]``: replacing by ``[PAD]`` shifts the
    position ids of models that derive them from padding (RoBERTa).

    Parameters
    ----------
    clf
        The classifier.
    tokenized
        From :func:`~bertology.analyses.attribution.words.tokenize_words`.
    target
        Output index to explain.
    baseline
        ``"mask"``, ``"pad"`` or ``"unk"`` (see :func:`~bertology.analyses.attribution.words.baseline_ids`).
    batch_size
        Occluded inputs per forward pass.

    Returns
    -------
    AttributionResult

    Examples
    --------
    >>> r = occlusion(clf, tokenize_words(clf, "a fine film"), target=1)  # doctest: +SKIP
    """
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}.")
    ids, forward_args = model_inputs(clf, tokenized)
    groups = word_groups(tokenized).to(clf.device)
    with torch.inference_mode(), clf.memoized():
        attributions = FeatureAblation(ids_forward(clf, batch_size)).attribute(
            ids, baselines=baseline_ids(clf, ids, baseline), target=target, additional_forward_args=forward_args,
            feature_mask=groups, perturbations_per_eval=batch_size)
        probability = float(text_probabilities(clf, tokenized)[target])
    keep = tokenized.token_words >= 0
    word_scores = np.zeros(len(tokenized.words))
    word_scores[tokenized.token_words[keep]] = attributions[0].double().cpu().numpy()[keep]
    return _word_result(clf, tokenized, target, "occlusion", word_scores, probability,
                        {"baseline": baseline, "word_rule": "one feature group per word"})


def word_presence_forward(clf: Classifier, text: str, mask: str = "remove", batch_size: int = 32,
                          pair: bool = False) -> Callable[[torch.Tensor], torch.Tensor]:
    """``(k, n_words)`` 0/1 word-presence rows ``->`` ``(k, classes)`` probabilities of the texts they make.

    A hidden word is masked exactly as LIME masks it (``lime.lime_text.IndexedString`` over
    whitespace words, ``bow=False``): deleted (``"remove"``) or replaced by the mask token.
    With ``pair=True``, ``text`` is a sentence pair joined by U+2029
    (:func:`~bertology.analyses.attribution.words.perturbable_text`) and every masked text
    is classified as a pair.

    Examples
    --------
    >>> word_presence_forward(clf, "a fine film")(torch.tensor([[1.0, 0.0, 1.0]])).shape  # doctest: +SKIP
    torch.Size([1, 2])
    """
    indexed = IndexedString(text, split_expression=WHITESPACE, bow=False, mask_string=mask_string(clf, mask))

    def forward(presence: torch.Tensor) -> torch.Tensor:
        rows = presence.detach().cpu().numpy()
        texts = [indexed.inverse_removing(np.flatnonzero(row == 0)) for row in rows]
        return torch.from_numpy(clf.predict_proba(classifier_inputs(texts, pair), batch_size=batch_size))
    return forward


def kernel_shap(clf: Classifier, tokenized: TokenizedText, target: int, num_samples: int = 200, seed: int = 0,
                mask: str = "remove", batch_size: int = 32) -> AttributionResult:
    """KernelSHAP (Lundberg & Lee 2017, "A Unified Approach to Interpreting Model Predictions") over words.

    captum's ``KernelShap`` on word-presence vectors (input all ones, baseline all zeros):
    ``num_samples`` coalitions weighted by the Shapley kernel, each text built with LIME's
    masking (:func:`word_presence_forward`), the weighted linear fit's coefficients are the
    word scores. Every token gets its word's score. Seeded: the same seed gives the same scores.
    All coalitions go to the classifier at once, so they run in length-sorted batches and a
    coalition drawn twice runs once.
    A sentence pair's words of both segments are features; every coalition stays a pair.

    Parameters
    ----------
    clf
        The classifier.
    tokenized
        From :func:`~bertology.analyses.attribution.words.tokenize_words`.
    target
        Output index to explain.
    num_samples
        Coalitions sampled.
    seed
        Seed of the draws.
    mask
        ``"remove"`` or ``"mask"``, as for LIME.
    batch_size
        Texts per forward pass.

    Returns
    -------
    AttributionResult

    Examples
    --------
    >>> r = kernel_shap(clf, tokenize_words(clf, "a fine film"), target=1, num_samples=50)  # doctest: +SKIP
    """
    if num_samples < 2:
        raise InputError(f"num_samples must be at least 2, got {num_samples}.")
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}.")
    forward = word_presence_forward(clf, perturbable_text(tokenized), mask, batch_size, tokenized.is_pair)
    presence = torch.ones(1, len(tokenized.words), dtype=torch.float64)
    with seeded(seed), clf.memoized():
        attributions = KernelShap(forward).attribute(presence, baselines=0.0, target=target, n_samples=num_samples,
                                                     perturbations_per_eval=num_samples)
        probability = float(forward(presence)[0, target])
    return _word_result(clf, tokenized, target, "kernel_shap", attributions[0].double().cpu().numpy(), probability,
                        {"num_samples": int(num_samples), "seed": int(seed), "mask": mask,
                         "split_expression": WHITESPACE})
