"""Experiment step ``patch``: activation patching of a suite's minimal pairs with a masked LM."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bertology.analyses.patching.pairs import suite_pairs
from bertology.analyses.patching.patch import check_patch_arguments
from bertology.analyses.patching.result import PatchingResult
from bertology.analyses.patching.task import patch_task, save_patching_figures
from bertology.core.errors import InputError
from bertology.experiments.registry import StepContext, StepSpec, register_step

DEFAULTS = {
    "suite": "agreement",
    "components": ["resid"],
    "positions": "all",
    "batch_size": 64,
}


def validate(params: Mapping[str, Any]) -> None:
    """Check the values before any model loads: the suite (read and paired), components, positions, batch size.

    Examples
    --------
    >>> validate({**DEFAULTS, "components": ["mlp"]})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: components = ['mlp']: ...
    """
    for key in ("components", "positions", "batch_size"):
        try:
            check_patch_arguments(params["components"] if key == "components" else ["resid"],
                                  params["positions"] if key == "positions" else "all",
                                  params["batch_size"] if key == "batch_size" else 1, 1)
        except InputError as error:
            raise InputError(f"{key} = {params[key]!r}: {error}") from None
    try:
        suite_pairs(params["suite"])
    except InputError as error:
        raise InputError(f"suite = {params['suite']!r}: {error}") from None


def run(ctx: StepContext) -> None:
    """Patch every component of the suite's pairs and save the PatchingResult into the step directory."""
    params = ctx.params
    patch_task(ctx.get_model(head="mlm"), ctx.out, suite=params["suite"], components=list(params["components"]),
               positions=params["positions"], batch_size=int(params["batch_size"]), figures=False,
               progress=ctx.progress)


def figures(out: Path) -> list[Path]:
    """The layer × position and layer × head heatmaps from the saved result."""
    return save_patching_figures(PatchingResult.load(out), out)


STEP = register_step(StepSpec(
    name="patch",
    defaults=DEFAULTS,
    run=run,
    figures=figures,
    types={"positions": (str, list), "components": (str, list)},
    validate=validate,
    needs_mlm=True,
    description="Activation patching / causal mediation over minimal pairs (Vig et al. 2020; Meng et al. 2022).",
))
