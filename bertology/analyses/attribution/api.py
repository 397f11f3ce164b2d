"""``attribute``: one entry point for every attribution method."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np

from bertology.analyses.attribution.classifier import Classifier
from bertology.analyses.attribution.methods import get_method, resolve_method
from bertology.analyses.attribution.result import AttributionResult
from bertology.analyses.attribution.words import TokenizedText, tokenize_input
from bertology.core.errors import InputError

__all__ = ["attribute", "resolve_method"]


def attribute(clf: Classifier, text: str | tuple[str, str], method: str = "integrated_gradients",
              target: str | int | tuple | None = None, **options: Any) -> AttributionResult:
    """Explain a classifier's prediction for one text or one sentence pair, at token and word level.

    Parameters
    ----------
    clf
        A :class:`Classifier` (``from_pretrained`` or ``from_probe``).
    text
        The sentence; texts longer than the model's limit are cut with a warning and the
        result records ``truncated=True``. Or a sentence pair ``(first, second)``: tokenized
        with the tokenizer's pair encoding, segment ids kept; the result's words are the
        first segment's then the second's, ``parameters["word_segments"]`` says which segment
        each word is in and ``parameters["text_pair"]`` holds the second segment.
    method
        A name of :func:`bertology.methods`: ``"integrated_gradients"`` (alias ``"ig"``;
        Sundararajan et al. 2017), ``"lime"`` (Ribeiro et al. 2016), ``"saliency"``,
        ``"input_x_gradient"``, ``"deeplift"``, ``"gradient_shap"``, ``"occlusion"``,
        ``"kernel_shap"``, ``"attention"``, ``"rollout"``, ``"attention_flow"``, ``"norm"`` or
        ``"value_zeroing"``.
    target
        Label name, class index, or ``None`` for the predicted class. A regression head
        (``clf.regression``, e.g. an STS-B model) has one output, its predicted value, which
        every method explains as it is (no softmax; ``result.output`` says so). For a token classifier
        (``Classifier.from_pretrained`` of a token-classification model):
        ``("token", word_index, label)``, the label (name, index or ``None`` for the
        predicted one) of the word's first token, explained by a gradient method.
    **options
        The method's options (``bertology.methods()`` lists them with their defaults), e.g.
        integrated gradients: ``n_steps`` (50), ``baseline`` (``"pad"``/``"mask"``/``"unk"``),
        ``internal_batch_size``; LIME: ``num_samples`` (1000), ``seed`` (0), ``mask``
        (``"remove"``/``"mask"``), ``batch_size``.

    Returns
    -------
    AttributionResult

    Raises
    ------
    InputError
        Empty text or segment, a pair longer than the model accepts, a token target that is
        malformed, out of range or given to a non-gradient method or a sentence classifier, unknown method, unknown target label or an option the method does not take.

    Examples
    --------
    >>> ig = attribute(clf, "I loved the film", method="integrated_gradients", target="positive")  # doctest: +SKIP
    >>> ig.to_frame().columns.tolist()  # doctest: +SKIP
    ['token', 'word', 'word_index', 'score']
    >>> pair = attribute(clf, ("A man plays a guitar.", "Someone makes music."), method="ig")  # doctest: +SKIP
    >>> pair.parameters["word_segments"]  # doctest: +SKIP
    [0, 0, 0, 0, 0, 1, 1, 1]
    """
    registered = get_method(method)
    registered.check_options(options)
    token_target = isinstance(target, tuple)
    if token_target:
        _check_token_target(clf, target, registered.name, registered.family)
    elif clf.is_token_classifier:
        raise InputError("This token classifier labels every token: explain one word's label with "
                         "target=('token', word_index, label).")
    tokenized = tokenize_input(clf, text)
    position = _token_position(tokenized, target[1]) if token_target else None
    label = target[2] if token_target else target
    with clf.at_token(position) if token_target else nullcontext():
        if label is None:
            segments = None if tokenized.token_type_ids is None else [tokenized.token_type_ids]
            index = int(clf.probabilities_of_ids([tokenized.input_ids], segments=segments)[0].argmax())
        else:
            index = clf.label_index(label)
        result = registered.function(clf, tokenized, index, **options)
    if token_target:
        result.parameters["token_target"] = {"word_index": int(target[1]), "word": tokenized.words[target[1]],
                                             "token_position": position}
    return result


def _check_token_target(clf: Classifier, target: tuple, method: str, family: str) -> None:
    if len(target) != 3 or target[0] != "token" or not isinstance(target[1], (int, np.integer)):
        raise InputError(f"A token target is ('token', word_index, label), got {target!r}.")
    if not clf.is_token_classifier:
        raise InputError("target=('token', ...) needs a token classifier (Classifier.from_pretrained of a "
                         "token-classification model); this one labels whole texts: pass a label.")
    if family != "gradient":
        raise InputError(f"{method} cannot explain a token's label (it perturbs words, which moves tokens): use "
                         "integrated_gradients, saliency, input_x_gradient, deeplift or gradient_shap.")


def _token_position(tokenized: TokenizedText, word_index: int) -> int:
    positions = np.flatnonzero(tokenized.token_words == word_index)
    if not 0 <= word_index < len(tokenized.words) or len(positions) == 0:
        raise InputError(f"Word index {word_index} is out of range: the text has {len(tokenized.words)} words "
                         f"(0..{len(tokenized.words) - 1}).")
    return int(positions[0])
