"""Gradient methods over a batch of texts at once, with the per-text methods' scores (the benchmark's fast path)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from captum.attr import GradientShap, LayerDeepLift, LayerGradientXActivation
from captum.attr._utils.approximation_methods import approximation_parameters

from bertology.analyses.attribution.classifier import Classifier
from bertology.analyses.attribution.gradients import (
    ProbabilityModule,
    embedding_forward,
    gradient_result,
    seeded,
    text_probabilities,
)
from bertology.analyses.attribution.result import AttributionResult
from bertology.analyses.attribution.words import TokenizedText, baseline_ids
from bertology.core.errors import InputError

BATCHED = ("saliency", "input_x_gradient", "integrated_gradients", "deeplift", "gradient_shap")
"""Gradient methods run over a batch of texts at once (captum takes one target per row; integrated gradients
and GradientSHAP without noise at the per-text calls' path points)."""
PATH_TOKENS = 1024
"""Token positions (texts × path points × length) per forward and backward pass along baseline-input paths."""


def is_batched(name: str, options: Mapping[str, Any]) -> bool:
    """Whether ``name`` with ``options`` runs over batches of texts (GradientSHAP only without noise).

    Examples
    --------
    >>> is_batched("gradient_shap", {"stdevs": 0.1}), is_batched("saliency", {})
    (False, True)
    """
    return name in BATCHED and not (name == "gradient_shap" and options.get("stdevs", 0.0) != 0)


def batched_gradients(clf: Classifier, name: str, batch: Sequence[TokenizedText], targets: Sequence[int],
                      options: Mapping[str, Any]) -> list[AttributionResult]:
    """A gradient method's results for a batch of single texts: the per-text method's scores, probabilities and
    deltas (up to float32 rounding), from batched passes. Inside :meth:`Classifier.memoized
    <bertology.analyses.attribution.classifier.Classifier.memoized>` saliency and input × gradient share one
    gradient pass per batch.

    Parameters
    ----------
    clf
        The classifier.
    name
        One of :data:`BATCHED`.
    batch
        Tokenized single texts (not pairs), from
        :func:`~bertology.analyses.attribution.words.tokenize_words`.
    targets
        Output index to explain, per text.
    options
        The method's options.

    Returns
    -------
    list of AttributionResult
        One per text, in order.

    Examples
    --------
    >>> texts = [tokenize_words(clf, t) for t in ["a fine film", "dull"]]  # doctest: +SKIP
    >>> [r.method for r in batched_gradients(clf, "saliency", texts, [1, 0], {})]  # doctest: +SKIP
    ['saliency', 'saliency']
    """
    ids, mask, _ = clf.padded([t.input_ids for t in batch])
    target = list(map(int, targets))
    if name in ("gradient_shap", "integrated_gradients"):
        return _along_paths(clf, name, batch, ids, mask, target, **options)
    deltas: list[float | None] = [None] * len(batch)
    if name in ("saliency", "input_x_gradient"):
        gradient = clf.remembered(("embedding gradients", tuple(map(tuple, ids.tolist())), tuple(target)),
                                  lambda: LayerGradientXActivation(clf.probabilities, clf.embeddings,
                                                                   multiply_by_inputs=False).attribute(
                                      ids, target=target, additional_forward_args=(mask,)).detach())
        if name == "input_x_gradient":
            with torch.no_grad():
                attributions = gradient * clf.embeddings(ids)
            parameters = {}
        else:
            absolute = bool(options.get("absolute", True))
            attributions = gradient.abs() if absolute else gradient
            parameters = {"absolute": absolute}
    else:
        baseline = options.get("baseline", "pad")
        attributions, delta = LayerDeepLift(ProbabilityModule(clf), clf.embeddings).attribute(
            ids, baselines=baseline_ids(clf, ids, baseline), target=target, additional_forward_args=(mask,),
            return_convergence_delta=True)
        deltas = [float(d) for d in delta.reshape(len(batch), -1).sum(dim=1)]
        parameters = {"baseline": baseline}
    scores = attributions.sum(dim=-1).detach().double().cpu().numpy()
    return [gradient_result(clf, t, index, name, scores[row, :len(t.input_ids)], parameters, deltas[row])
            for row, (t, index) in enumerate(zip(batch, target))]


def gradient_shap_points(n_samples: int, seed: int) -> torch.Tensor:
    """The path points ``α`` (float32) that captum's ``GradientShap`` draws for one input under ``seeded(seed)``,
    read from a call on the scalar input 1 with baseline 0, where each evaluated point is ``α`` itself.

    Examples
    --------
    >>> gradient_shap_points(3, seed=0).shape
    torch.Size([3])
    """
    seen: list[torch.Tensor] = []

    def forward(points: torch.Tensor) -> torch.Tensor:
        seen.append(points.detach().reshape(-1).clone())
        return points.sum(dim=1)

    with seeded(seed):
        GradientShap(forward).attribute(torch.ones(1, 1), baselines=torch.zeros(1, 1), n_samples=n_samples)
    return seen[0]


def _along_paths(clf: Classifier, name: str, batch: Sequence[TokenizedText], ids: torch.Tensor, mask: torch.Tensor,
                 target: list[int], baseline: str = "pad", **options: Any) -> list[AttributionResult]:
    """Integrated gradients (captum's path points and step sizes for ``n_steps`` and ``method``) or GradientSHAP
    without noise (the points its per-text call draws with ``seed``, equal weights): (input − baseline) ×
    Σ weight · gradient at each point, the per-text captum call's attributions."""
    if name == "integrated_gradients":
        n_steps, method = int(options.get("n_steps", 50)), options.get("method", "gausslegendre")
        if n_steps < 1:
            raise InputError(f"n_steps must be at least 1, got {n_steps}.")
        step_sizes, alphas = approximation_parameters(method)
        weights, points = torch.tensor(step_sizes(n_steps)), torch.tensor(alphas(n_steps))
        parameters = {"n_steps": n_steps, "baseline": baseline,
                      "internal_batch_size": options.get("internal_batch_size"), "integration": method}
    else:
        n_samples, seed = int(options.get("n_samples", 20)), int(options.get("seed", 0))
        if n_samples < 1:
            raise InputError(f"n_samples must be at least 1, got {n_samples}.")
        points = gradient_shap_points(n_samples, seed)
        weights = torch.full((n_samples,), 1.0 / n_samples)
        parameters = {"n_samples": n_samples, "stdevs": float(options.get("stdevs", 0.0)), "baseline": baseline,
                      "seed": seed}
    forward = embedding_forward(clf)
    with torch.no_grad():
        inputs = clf.embeddings(ids)
        reference = clf.embeddings(baseline_ids(clf, ids, baseline))
        at_baseline = forward(reference, ids, mask)[torch.arange(len(batch)), target].double().cpu()
    gradients = _weighted_path_gradients(forward, inputs, reference, ids, mask, target,
                                         points.to(inputs), weights.to(inputs), [len(t.input_ids) for t in batch])
    attributions = (gradients * (inputs - reference)).detach()
    scores = attributions.sum(dim=-1).double().cpu().numpy()
    totals = attributions.double().sum(dim=(1, 2)).cpu()
    results = []
    for row, (tokenized, index) in enumerate(zip(batch, target)):
        at_input = float(text_probabilities(clf, tokenized)[index])
        delta = float(totals[row]) - (at_input - float(at_baseline[row]))
        extra = {"baseline_probability": float(at_baseline[row])} if name == "integrated_gradients" else {}
        results.append(gradient_result(clf, tokenized, index, name, scores[row, :len(tokenized.input_ids)],
                                       {**parameters, **extra}, delta=delta))
    return results


def _weighted_path_gradients(forward: Any, inputs: torch.Tensor, reference: torch.Tensor, ids: torch.Tensor,
                             mask: torch.Tensor, target: list[int], points: torch.Tensor, weights: torch.Tensor,
                             lengths: list[int]) -> torch.Tensor:
    """Σ_k weights[k] · ∇ p_target(reference + points[k] · (inputs − reference)) per text, in passes of about
    :data:`PATH_TOKENS` token positions, each pass as wide as its longest text (no padding beyond it)."""
    n_points = len(points)
    texts_per_pass = max(1, PATH_TOKENS // (n_points * ids.shape[1]))
    gradients = torch.zeros_like(inputs)
    for start in range(0, len(lengths), texts_per_pass):
        rows = slice(start, start + texts_per_pass)
        width = max(lengths[rows])
        step = inputs[rows, :width] - reference[rows, :width]
        path = (reference[rows, None, :width] + points[None, :, None, None] * step[:, None]).flatten(0, 1)
        path.requires_grad_()
        chosen = torch.tensor(target[rows], device=inputs.device).repeat_interleave(n_points)
        probabilities = forward(path, ids[rows, :width].repeat_interleave(n_points, 0),
                                mask[rows, :width].repeat_interleave(n_points, 0))
        (grad,) = torch.autograd.grad(probabilities[torch.arange(len(chosen)), chosen].sum(), path)
        per_point = grad.view(step.shape[0], n_points, *step.shape[1:])
        gradients[rows, :width] = (per_point * weights[None, :, None, None]).sum(dim=1)
    return gradients
