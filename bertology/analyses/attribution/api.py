"""``attribute``: one entry point for every attribution method."""

from __future__ import annotations

from typing import Any

from bertology.analyses.attribution.classifier import Classifier
from bertology.analyses.attribution.ig import integrated_gradients
from bertology.analyses.attribution.lime_method import lime_attribution
from bertology.analyses.attribution.result import AttributionResult
from bertology.analyses.attribution.words import tokenize_words
from bertology.core.errors import InputError

METHODS = {"integrated_gradients": integrated_gradients, "lime": lime_attribution}
ALIASES = {"ig": "integrated_gradients"}


def resolve_method(method: str) -> str:
    """Canonical method name (``"ig"`` means ``"integrated_gradients"``).

    Examples
    --------
    >>> resolve_method("ig")
    'integrated_gradients'
    """
    name = ALIASES.get(method, method)
    if name not in METHODS:
        raise InputError(f"Unknown attribution method {method!r}: choose 'integrated_gradients' (alias 'ig') "
                         "or 'lime'.")
    return name


def attribute(clf: Classifier, text: str, method: str = "integrated_gradients", target: str | int | None = None,
              **options: Any) -> AttributionResult:
    """Explain a classifier's prediction for one text, at token and word level.

    Parameters
    ----------
    clf
        A :class:`Classifier` (``from_pretrained`` or ``from_probe``).
    text
        The sentence; texts longer than the model's limit are cut with a warning and the
        result records ``truncated=True``.
    method
        ``"integrated_gradients"`` (alias ``"ig"``; Sundararajan et al. 2017) or ``"lime"``
        (Ribeiro et al. 2016).
    target
        Label name, class index, or ``None`` for the predicted class.
    **options
        Integrated gradients: ``n_steps`` (50), ``baseline`` (``"pad"``/``"mask"``/``"unk"``),
        ``internal_batch_size``. LIME: ``num_samples`` (1000), ``seed`` (0), ``mask``
        (``"remove"``/``"mask"``), ``batch_size``.

    Returns
    -------
    AttributionResult

    Raises
    ------
    InputError
        Empty text, unknown method, unknown target label or an option the method does not take.

    Examples
    --------
    >>> ig = attribute(clf, "I loved the film", method="integrated_gradients", target="positive")  # doctest: +SKIP
    >>> ig.to_frame().columns.tolist()  # doctest: +SKIP
    ['token', 'word', 'word_index', 'score']
    """
    name = resolve_method(method)
    tokenized = tokenize_words(clf, text)
    if target is None:
        index = int(clf.probabilities_of_ids([tokenized.input_ids])[0].argmax())
    else:
        index = clf.label_index(target)
    try:
        return METHODS[name](clf, tokenized, index, **options)
    except TypeError as error:
        if "unexpected keyword" not in str(error):
            raise
        raise InputError(f"{name} does not take that option ({error}); see help(bertology.attribute) "
                         "for each method's options.") from None
