"""Value checks the steps' ``validate`` functions share; each raises an InputError that starts with the parameter."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from bertology.core.errors import InputError


def _admitting_depth(value: Any) -> int:
    """A depth that admits every index written in a layer selection, to check its form alone."""
    return max((int(number) for number in re.findall(r"\d+", str(value))), default=0)


def one_of(params: Mapping[str, Any], key: str, choices: Collection[Any]) -> None:
    """``params[key]`` must be one of ``choices``.

    Examples
    --------
    >>> one_of({"method": "pca"}, "method", ("pca", "umap"))
    >>> one_of({"method": "tsne"}, "method", ("pca", "umap"))  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: method = 'tsne': choose one of pca, umap.
    """
    if params[key] not in choices:
        raise InputError(f"{key} = {params[key]!r}: choose one of {', '.join(str(c) for c in choices)}.")


def at_least(params: Mapping[str, Any], key: str, minimum: int) -> None:
    """``params[key]`` must be a number no smaller than ``minimum``.

    Examples
    --------
    >>> at_least({"batch_size": 8}, "batch_size", 1)
    >>> at_least({"batch_size": 0}, "batch_size", 1)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: batch_size = 0: it must be at least 1.
    """
    if params[key] < minimum:
        raise InputError(f"{key} = {params[key]!r}: it must be at least {minimum}.")


def not_blank(params: Mapping[str, Any], key: str, what: str = "a sentence", empty_means: str | None = None) -> None:
    """``params[key]`` must hold a visible character; with ``empty_means``, ``""`` is allowed and means that.

    Examples
    --------
    >>> not_blank({"example_text": ""}, "example_text", empty_means="no example")
    >>> not_blank({"example_text": "  "}, "example_text", empty_means="no example")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    bertology.core.errors.InputError: example_text = '  ' is blank: give a sentence, or "" for no example.
    """
    value = params[key]
    if value == "" and empty_means is not None:
        return
    if not str(value).strip():
        alternative = f', or "" for {empty_means}' if empty_means is not None else ""
        raise InputError(f"{key} = {value!r} is blank: give {what}{alternative}.")


def pooling(params: Mapping[str, Any], key: str = "pool", also: Collection[str] = ()) -> str:
    """``params[key]`` must name a pooling strategy (or one of ``also``); returns the canonical name.

    Examples
    --------
    >>> pooling({"pool": "word"}), pooling({"pool": "auto"}, also=("auto",))
    ('word_mean', 'auto')
    >>> pooling({"pool": "maxx"})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: pool = 'maxx': Unknown pooling 'maxx': choose one of cls, mean, ...
    """
    from bertology.core.extraction.pooling import resolve_pooling

    if params[key] in also:
        return params[key]
    try:
        return resolve_pooling(params[key])
    except InputError as error:
        extra = f" (or {', '.join(also)})" if also else ""
        raise InputError(f"{key} = {params[key]!r}: {error}{extra}") from None


def layer_selection(key: str, value: Any, depth: int | None) -> None:
    """A layer selection must be readable and, when the model's depth is known, within it.

    Parameters
    ----------
    key
        The parameter, for the message.
    value
        ``"all"``, an index, a string such as ``"0,3,6"`` or ``"2-4"``, or a list of indices.
    depth
        Transformer layers of the model (hidden states ``0..depth``); ``None`` when not
        known before loading (only the form is checked then).

    Raises
    ------
    InputError
        Naming the parameter, the value and the model's hidden states.

    Examples
    --------
    >>> layer_selection("layers", "0,3-6", 6)
    >>> layer_selection("layers", 9, 6)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: layers = 9: Layer 9 is out of range: ...
    """
    from bertology.core.extraction.extractor import resolve_layers

    if isinstance(value, list) and not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise InputError(f"{key} = {value!r}: a list of layers holds integers, e.g. [0, 6].")
    if depth is None and value == "all":
        return
    try:
        resolve_layers(value, depth if depth is not None else _admitting_depth(value))
    except InputError as error:
        raise InputError(f"{key} = {value!r}: {error}") from None
