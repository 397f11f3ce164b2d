"""Experiment step ``geometry``: sense projections, similarity across contexts and Ethayarajh's measures."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bertology.analyses.geometry import EthayarajhResult, ProjectionResult, SimilarityResult
from bertology.analyses.geometry.task import geometry_task, save_geometry_figures
from bertology.core.paths import resolve_data_path
from bertology.experiments.checks import at_least, one_of
from bertology.experiments.registry import StepContext, StepSpec, register_step

PROJECTIONS = ("pca", "umap")

DEFAULTS = {
    "input": "",
    "word": "apple",
    "layers": "all",
    "method": "pca",
    "ethayarajh": True,
    "n_pairs": 1000,
    "batch_size": 32,
}


def validate(params: Mapping[str, Any]) -> None:
    """Check the values before any model loads: projection method, number of pairs, batch size.

    Examples
    --------
    >>> validate({**DEFAULTS, "method": "tsne"})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: method = 'tsne': choose one of pca, umap.
    """
    one_of(params, "method", PROJECTIONS)
    at_least(params, "n_pairs", 1)
    at_least(params, "batch_size", 1)


def run(ctx: StepContext) -> None:
    """Project the word's vectors, compare them across contexts and measure contextuality by layer."""
    params = ctx.params
    geometry_task(ctx.get_model(), ctx.out,
                  input=resolve_data_path(params["input"], ctx.data_root) if params["input"] else None,
                  word=params["word"] or None, layers=params["layers"], method=params["method"],
                  ethayarajh=bool(params["ethayarajh"]), n_pairs=int(params["n_pairs"]), seed=ctx.seed,
                  batch_size=int(params["batch_size"]), figures=False, progress=ctx.progress)


def figures(out: Path) -> list[Path]:
    """Projection small multiples, similarity by layer and Ethayarajh's measures, from the saved results."""
    results = {"projection": ProjectionResult.load(out / "projection"),
               "similarity": SimilarityResult.load(out / "similarity")}
    if (out / "ethayarajh").is_dir():
        results["ethayarajh"] = EthayarajhResult.load(out / "ethayarajh")
    return save_geometry_figures(results, out)


STEP = register_step(StepSpec(
    name="geometry",
    defaults=DEFAULTS,
    run=run,
    figures=figures,
    data_params=("input",),
    types={"layers": (str, int, list)},
    validate=validate,
    layer_params=("layers",),
    description="PCA/UMAP of a word's vectors by sense, its similarity across contexts, Ethayarajh's measures.",
))
