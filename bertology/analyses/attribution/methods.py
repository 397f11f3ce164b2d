"""The registry of attribution methods: each declares its options with their defaults, its baseline and
whether it has a convergence delta (captum's ``has_convergence_delta``)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bertology.analyses.attribution import attention_methods, gradients, perturbation
from bertology.analyses.attribution.ig import integrated_gradients
from bertology.analyses.attribution.lime_method import lime_attribution
from bertology.analyses.attribution.names import ALIASES, METHOD_NAMES
from bertology.analyses.attribution.result import AttributionResult
from bertology.core.errors import InputError

_POSITIONAL = ("clf", "tokenized", "target")


@dataclass(frozen=True)
class Method:
    """One attribution method.

    Attributes
    ----------
    name
        The name :func:`bertology.attribute` takes.
    function
        ``function(clf, tokenized, target, **options) -> AttributionResult``.
    family
        ``"gradient"``, ``"perturbation"`` or ``"attention"``.
    baseline
        What stands for an absent input (``None`` when the method has none).
    has_convergence_delta
        Whether the result records Σ attributions − (f(x) − f(baseline)).
    citation
        The paper.
    options
        Keyword options and their defaults, read from ``function``'s signature.
    """

    name: str
    function: Callable[..., AttributionResult]
    family: str
    baseline: str | None
    has_convergence_delta: bool
    citation: str
    options: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        parameters = list(inspect.signature(self.function).parameters.values())
        if tuple(p.name for p in parameters[:3]) != _POSITIONAL:
            raise TypeError(f"{self.function.__name__} must take (clf, tokenized, target, **options)")
        object.__setattr__(self, "options", {p.name: p.default for p in parameters[3:]})

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`~bertology.core.errors.InputError` for an option the method does not take.

        Examples
        --------
        >>> get_method("lime").check_options({"n_steps": 5})  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        bertology.core.errors.InputError: ...
        """
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            valid = ", ".join(self.options) or "none"
            raise InputError(f"{self.name} does not take that option ({', '.join(map(repr, unknown))}): its options "
                             f"are {valid}.")


REGISTRY: dict[str, Method] = {method.name: method for method in (
    Method("integrated_gradients", integrated_gradients, "gradient", "pad", True,
           "Sundararajan et al. 2017, Axiomatic Attribution for Deep Networks"),
    Method("lime", lime_attribution, "perturbation", "remove", False,
           "Ribeiro et al. 2016, \"Why Should I Trust You?\""),
    Method("saliency", gradients.saliency, "gradient", None, False,
           "Simonyan et al. 2014, Deep Inside Convolutional Networks"),
    Method("input_x_gradient", gradients.input_x_gradient, "gradient", None, False,
           "Shrikumar et al. 2016, Not Just a Black Box"),
    Method("deeplift", gradients.deeplift, "gradient", "pad", True,
           "Shrikumar et al. 2017, Learning Important Features Through Propagating Activation Differences"),
    Method("gradient_shap", gradients.gradient_shap, "gradient", "pad", True,
           "Lundberg & Lee 2017, A Unified Approach to Interpreting Model Predictions"),
    Method("occlusion", perturbation.occlusion, "perturbation", "mask", False,
           "Zeiler & Fergus 2014, Visualizing and Understanding Convolutional Networks"),
    Method("kernel_shap", perturbation.kernel_shap, "perturbation", "remove", False,
           "Lundberg & Lee 2017, A Unified Approach to Interpreting Model Predictions"),
    Method("attention", attention_methods.attention, "attention", None, False,
           "Jain & Wallace 2019, Attention is not Explanation; Wiegreffe & Pinter 2019"),
    Method("rollout", attention_methods.attention_rollout, "attention", None, False,
           "Abnar & Zuidema 2020, Quantifying Attention Flow in Transformers"),
    Method("attention_flow", attention_methods.attention_flow, "attention", None, False,
           "Abnar & Zuidema 2020, Quantifying Attention Flow in Transformers"),
    Method("norm", attention_methods.norm_attention, "attention", None, False,
           "Kobayashi et al. 2020, Attention is Not Only a Weight: Analyzing Transformers with Vector Norms"),
    Method("value_zeroing", attention_methods.value_zeroing, "attention", "zero value vectors", False,
           "Mohebbi et al. 2023, Quantifying Context Mixing in Transformers"),
)}
if tuple(REGISTRY) != METHOD_NAMES:
    raise ImportError("bertology.analyses.attribution.names.METHOD_NAMES and the method registry differ")


def resolve_method(method: str) -> str:
    """Canonical method name (``"ig"`` means ``"integrated_gradients"``).

    Raises
    ------
    InputError
        For a name that is not registered; the message lists the valid ones.

    Examples
    --------
    >>> resolve_method("ig")
    'integrated_gradients'
    """
    name = ALIASES.get(method, method)
    if name not in REGISTRY:
        aliases = ", ".join(f"{alias!r} for {name!r}" for alias, name in ALIASES.items())
        raise InputError(f"Unknown attribution method {method!r}: choose one of {', '.join(REGISTRY)} "
                         f"(aliases: {aliases}).")
    return name


def get_method(method: str) -> Method:
    """The registered :class:`Method` called ``method`` (or one of its aliases).

    Examples
    --------
    >>> get_method("ig").has_convergence_delta
    True
    """
    return REGISTRY[resolve_method(method)]


def methods() -> pd.DataFrame:
    """The registered attribution methods, one row each.

    Returns
    -------
    pandas.DataFrame
        Columns ``method``, ``family``, ``baseline``, ``has_convergence_delta``, ``options``
        (``name=default`` pairs), ``aliases`` and ``citation``.

    Examples
    --------
    >>> table = methods()
    >>> table.loc[table.method == "deeplift", ["baseline", "has_convergence_delta"]].values.tolist()
    [['pad', True]]
    >>> table.loc[table.method == "lime", "options"].item()
    'num_samples=1000, seed=0, mask=remove, batch_size=32, classifier_fn=None'
    """
    return pd.DataFrame([{
        "method": method.name, "family": method.family, "baseline": method.baseline or "none",
        "has_convergence_delta": method.has_convergence_delta,
        "options": ", ".join(f"{key}={value}" for key, value in method.options.items()),
        "aliases": ", ".join(alias for alias, name in ALIASES.items() if name == method.name),
        "citation": method.citation,
    } for method in REGISTRY.values()])
