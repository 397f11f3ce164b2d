"""Canonical activation names and names filters."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence

from bertology.core.errors import InputError

NamesFilter = str | Sequence[str] | Callable[[str], bool]

_KINDS = ("resid_pre", "attn.pattern", "attn.heads", "mlp_out", "resid_post")


def canonical_names(num_layers: int) -> list[str]:
    """Every canonical name of a model with ``num_layers`` layers, in execution order.

    Parameters
    ----------
    num_layers
        Number of transformer layers.

    Returns
    -------
    list of str
        ``["embeddings", "layers.0.resid_pre", "layers.0.attn.pattern", "layers.0.attn.heads",
        "layers.0.mlp_out", "layers.0.resid_post", ...]``.

    Examples
    --------
    >>> canonical_names(1)  # doctest: +NORMALIZE_WHITESPACE
    ['embeddings', 'layers.0.resid_pre', 'layers.0.attn.pattern', 'layers.0.attn.heads', 'layers.0.mlp_out',
     'layers.0.resid_post']
    """
    return ["embeddings"] + [f"layers.{i}.{kind}" for i in range(num_layers) for kind in _KINDS]


def hidden_state_name(index: int, num_layers: int) -> str:
    """Canonical name of Hugging Face's ``hidden_states[index]``.

    Parameters
    ----------
    index
        0 for the embeddings, ``k`` for the output of layer ``k - 1``; negative counts
        from the end as in Python.
    num_layers
        Number of transformer layers.

    Returns
    -------
    str

    Raises
    ------
    InputError
        If ``index`` is outside ``-(num_layers + 1) .. num_layers``.

    Examples
    --------
    >>> hidden_state_name(0, 6), hidden_state_name(6, 6), hidden_state_name(-1, 6)
    ('embeddings', 'layers.5.resid_post', 'layers.5.resid_post')
    """
    index = hidden_index(index, num_layers)
    return "embeddings" if index == 0 else f"layers.{index - 1}.resid_post"


def hidden_index(index: int, num_layers: int) -> int:
    """The non-negative hidden-state index of ``index`` (negative ones count from the end).

    Parameters
    ----------
    index
        0 for the embeddings, ``k`` for the output of layer ``k``, or negative.
    num_layers
        Number of transformer layers (hidden states are ``0..num_layers``).

    Returns
    -------
    int

    Raises
    ------
    InputError
        If ``index`` is outside ``-(num_layers + 1) .. num_layers``.

    Examples
    --------
    >>> hidden_index(-1, 6), hidden_index(2, 6)
    (6, 2)
    """
    if not -(num_layers + 1) <= index <= num_layers:
        raise InputError(f"Layer {index} is out of range: this model has hidden states 0..{num_layers} "
                         f"(0 = embeddings, {num_layers} = last layer).")
    return index % (num_layers + 1)


def resolve_names(names: NamesFilter, num_layers: int) -> list[str]:
    """Expand a names filter into canonical names, in execution order.

    Parameters
    ----------
    names
        An exact name, a glob (``"layers.*.resid_post"``), a list of either, or a
        predicate ``name -> bool``.
    num_layers
        Number of transformer layers of the model.

    Returns
    -------
    list of str
        The matching canonical names, deduplicated, in execution order.

    Raises
    ------
    InputError
        If a name or glob matches nothing (e.g. a layer index past the last layer).

    Examples
    --------
    >>> resolve_names("layers.1.*_post", 2)
    ['layers.1.resid_post']
    """
    every = canonical_names(num_layers)
    if callable(names):
        chosen = {name for name in every if names(name)}
    else:
        patterns = [names] if isinstance(names, str) else list(names)
        if not patterns:
            raise InputError("The names filter is empty: pass at least one canonical name, e.g. 'layers.0.resid_post'.")
        chosen = set()
        for pattern in patterns:
            matched = fnmatch.filter(every, pattern)
            if not matched:
                raise InputError(
                    f"Activation name {pattern!r} matches nothing in a {num_layers}-layer model. Canonical names are "
                    f"'embeddings' and 'layers.{{i}}.{{{'|'.join(_KINDS)}}}' with i in 0..{num_layers - 1}; "
                    "globs such as 'layers.*.resid_post' work too."
                )
            chosen.update(matched)
    if not chosen:
        raise InputError("The names filter selects no activation.")
    return [name for name in every if name in chosen]
