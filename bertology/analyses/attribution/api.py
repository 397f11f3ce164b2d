"""``attribute``: one entry point for every attribution method."""

from __future__ import annotations

from typing import Any

from bertology.analyses.attribution.classifier import Classifier
from bertology.analyses.attribution.methods import get_method, resolve_method
from bertology.analyses.attribution.result import AttributionResult
from bertology.analyses.attribution.words import tokenize_words

__all__ = ["attribute", "resolve_method"]


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
        A name of :func:`bertology.methods`: ``"integrated_gradients"`` (alias ``"ig"``;
        Sundararajan et al. 2017), ``"lime"`` (Ribeiro et al. 2016), ``"saliency"``,
        ``"input_x_gradient"``, ``"deeplift"``, ``"gradient_shap"``, ``"occlusion"``,
        ``"kernel_shap"``, ``"attention"`` or ``"rollout"``.
    target
        Label name, class index, or ``None`` for the predicted class.
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
        Empty text, unknown method, unknown target label or an option the method does not take.

    Examples
    --------
    >>> ig = attribute(clf, "I loved the film", method="integrated_gradients", target="positive")  # doctest: +SKIP
    >>> ig.to_frame().columns.tolist()  # doctest: +SKIP
    ['token', 'word', 'word_index', 'score']
    """
    registered = get_method(method)
    registered.check_options(options)
    tokenized = tokenize_words(clf, text)
    if target is None:
        index = int(clf.probabilities_of_ids([tokenized.input_ids])[0].argmax())
    else:
        index = clf.label_index(target)
    return registered.function(clf, tokenized, index, **options)
