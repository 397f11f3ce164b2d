"""Experiment step ``syntax``: structural probes, dependency heads and edge probing from CoNLL-U files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bertology.analyses.syntax.names import STRUCTURAL_KINDS, SYNTAX_ANALYSES
from bertology.analyses.syntax.task import save_syntax_figures, syntax_task
from bertology.core.errors import InputError
from bertology.core.extraction.extractor import parse_layers
from bertology.core.paths import SHIPPED_PREFIX, resolve_data_path
from bertology.experiments.checks import at_least
from bertology.experiments.registry import StepContext, StepSpec, register_step

DEFAULTS = {
    "train": SHIPPED_PREFIX + "ud_sample.conllu",
    "test": "",
    "analyses": list(SYNTAX_ANALYSES),
    "kinds": list(STRUCTURAL_KINDS),
    "layers": "all",
    "rank": 0,
    "pool": "word_mean",
    "limit": 0,
    "batch_size": 32,
}


def _subset(params: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> None:
    values = params[key]
    if not isinstance(values, list) or not values or any(value not in allowed for value in values):
        raise InputError(f"{key} = {values!r}: give a list of one or more of {', '.join(allowed)}.")


def validate(params: Mapping[str, Any]) -> None:
    """Check the values before any model loads: analyses, kinds, layers, rank, pooling, limit and batch size.

    Examples
    --------
    >>> validate({**DEFAULTS, "analyses": ["trees"]})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: analyses = ['trees']: give a list of one or more of structural, heads, edges.
    """
    _subset(params, "analyses", SYNTAX_ANALYSES)
    _subset(params, "kinds", STRUCTURAL_KINDS)
    try:
        parse_layers(params["layers"])
    except InputError as error:
        raise InputError(f"layers = {params['layers']!r}: {error}") from None
    if params["pool"] not in ("word_mean", "word_first"):
        raise InputError(f"pool = {params['pool']!r}: choose word_mean or word_first.")
    for key in ("rank", "limit"):
        at_least(params, key, 0)
    at_least(params, "batch_size", 1)


def _path(ctx: StepContext, key: str) -> Path | None:
    return resolve_data_path(ctx.params[key], ctx.data_root) if ctx.params[key] else None


def run(ctx: StepContext) -> None:
    """Run :func:`syntax_task` on the step's treebanks."""
    params = ctx.params
    syntax_task(ctx.get_model(), _path(ctx, "train"), ctx.out, test=_path(ctx, "test"),
                analyses=params["analyses"], kinds=params["kinds"], layers=params["layers"],
                rank=int(params["rank"]) or None, pool=params["pool"], limit=int(params["limit"]) or None,
                batch_size=int(params["batch_size"]), seed=ctx.seed, figures=False, progress=ctx.progress)


def figures(out: Path) -> list[Path]:
    """Render the structural-probe, dependency-head and edge-probing figures from stored results."""
    return save_syntax_figures(out)


STEP = register_step(StepSpec(
    name="syntax",
    defaults=DEFAULTS,
    run=run,
    figures=figures,
    data_params=("train", "test"),
    validate=validate,
    description="Structural probes (Hewitt & Manning 2019), dependency heads in attention (Clark et al. 2019) "
                "and edge probing with a scalar mix (Tenney et al. 2019) from CoNLL-U files.",
))
