"""LIME (Ribeiro et al. 2016) over whitespace words, with a batched classifier function."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from lime.lime_text import LimeTextExplainer

from bertology.analyses.attribution.classifier import Classifier
from bertology.analyses.attribution.result import AttributionResult
from bertology.analyses.attribution.words import (
    TokenizedText,
    classifier_inputs,
    pair_parameters,
    perturbable_text,
    word_to_tokens,
)
from bertology.core.errors import InputError

WHITESPACE = r"\s+"
MASKS = ("remove", "mask")


def batched_classifier_fn(clf: Classifier, batch_size: int = 32,
                          pair: bool = False) -> Callable[[Sequence[str]], np.ndarray]:
    """LIME's ``classifier_fn``: all perturbations tokenized at once and run in length-sorted batches.

    Parameters
    ----------
    clf
        The classifier.
    batch_size
        Perturbed texts per forward pass.
    pair
        The texts are sentence pairs joined by U+2029
        (:func:`~bertology.analyses.attribution.words.perturbable_text`): each is split back
        and run through the tokenizer's pair encoding.

    Returns
    -------
    callable
        ``texts -> (n, classes)`` probabilities (one forward pass per batch, never per text).

    Examples
    --------
    >>> batched_classifier_fn(clf)(["good", "bad"]).shape  # doctest: +SKIP
    (2, 2)
    """
    def classify(texts: Sequence[str]) -> np.ndarray:
        return clf.predict_proba(classifier_inputs(list(texts), pair), batch_size=batch_size)
    return classify


def lime_explainer(clf: Classifier, seed: int = 0, mask: str = "remove") -> LimeTextExplainer:
    """The word-level ``LimeTextExplainer`` used by :func:`lime_attribution`.

    Words are whitespace-separated (``split_expression=r"\\s+"``) and position-specific
    (``bow=False``: two occurrences of a word are two features). ``mask="remove"`` deletes
    a hidden word (ERASER's token removal); ``"mask"`` puts the tokenizer's mask token
    in its place.

    Examples
    --------
    >>> lime_explainer(clf, seed=0).bow  # doctest: +SKIP
    False
    """
    return LimeTextExplainer(class_names=clf.labels, split_expression=WHITESPACE, bow=False,
                             mask_string=mask_string(clf, mask), random_state=seed)


def mask_string(clf: Classifier, mask: str = "remove") -> str:
    """What takes a hidden word's place: ``""`` for ``"remove"``, the tokenizer's mask token for ``"mask"``.

    Examples
    --------
    >>> mask_string(clf, "mask")  # doctest: +SKIP
    '[MASK]'
    """
    if mask not in MASKS:
        raise InputError(f"Unknown mask {mask!r}: choose 'remove' (delete hidden words) or 'mask'.")
    string = "" if mask == "remove" else clf.tokenizer.mask_token
    if string is None:
        raise InputError("This tokenizer has no mask token: use mask='remove'.")
    return string


def lime_attribution(clf: Classifier, tokenized: TokenizedText, target: int, num_samples: int = 1000,
                     seed: int = 0, mask: str = "remove", batch_size: int = 32,
                     classifier_fn: Callable[[Sequence[str]], np.ndarray] | None = None) -> AttributionResult:
    """LIME word scores for one text (Ribeiro et al. 2016, "Why Should I Trust You?").

    ``num_samples`` perturbations hide random subsets of the whitespace words; a weighted
    ridge regression of ``p(target)`` on the word-presence indicators gives each word's
    coefficient, its score. Every token of a word gets the word's score. The same seed
    gives the same explanation. A sentence pair's words of both segments are features;
    every perturbation stays a pair (its segments are tokenized as a pair).

    Parameters
    ----------
    clf
        The classifier.
    tokenized
        From :func:`~bertology.analyses.attribution.words.tokenize_words`.
    target
        Output index to explain.
    num_samples
        Perturbed texts.
    seed
        LIME's ``random_state``.
    mask
        ``"remove"`` or ``"mask"`` (see :func:`lime_explainer`).
    batch_size
        Perturbed texts per forward pass.
    classifier_fn
        Replace the batched classifier function (benchmarks).

    Returns
    -------
    AttributionResult

    Examples
    --------
    >>> r = lime_attribution(clf, tokenize_words(clf, "a fine film"), target=1, num_samples=200)  # doctest: +SKIP
    >>> len(r.word_scores)  # doctest: +SKIP
    3
    """
    if num_samples < 2:
        raise InputError(f"num_samples must be at least 2, got {num_samples}.")
    explainer = lime_explainer(clf, seed, mask)
    fn = classifier_fn or batched_classifier_fn(clf, batch_size, tokenized.is_pair)
    n_words = len(tokenized.words)
    explanation = explainer.explain_instance(perturbable_text(tokenized), fn, labels=(target,), num_features=n_words,
                                             num_samples=num_samples)
    word_scores = np.zeros(n_words)
    for feature, weight in explanation.as_map()[target]:
        word_scores[feature] = weight
    token_words = tokenized.token_words
    token_scores = word_to_tokens(word_scores, token_words)
    return AttributionResult(
        text=tokenized.text, tokens=tokenized.tokens, token_words=token_words.tolist(),
        token_scores=token_scores.tolist(), words=tokenized.words, word_scores=word_scores.tolist(),
        target=clf.labels[target], target_index=int(target), method="lime",
        probability=float(explanation.predict_proba[target]),
        parameters={"num_samples": int(num_samples), "seed": int(seed), "mask": mask, "bow": False,
                    "split_expression": WHITESPACE, "score": explanation.score,
                    "intercept": float(explanation.intercept[target]), "classifier": clf.description,
                    **pair_parameters(tokenized)},
        truncated=tokenized.truncated,
    )
