"""Experiment step ``probe``: layer-wise linear probes with baselines, controls and MDL."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bertology.analyses.probes.result import ProbeResult
from bertology.analyses.probes.task import probe_task, save_probe_figures
from bertology.core.data.names import DATASETS
from bertology.core.errors import InputError
from bertology.core.paths import resolve_data_path
from bertology.experiments.checks import at_least, not_blank, one_of, pooling
from bertology.experiments.registry import StepContext, StepSpec, register_step

DEFAULTS = {
    "dataset": "coarsewsd20",
    "input": "",
    "word": "",
    "text_column": "sentence",
    "label_column": "label",
    "word_column": "",
    "layers": "all",
    "pool": "auto",
    "cv": 5,
    "seed": None,
    "controls": True,
    "mdl": False,
    "random_encoder": False,
    "batch_size": 32,
}


def validate(params: Mapping[str, Any]) -> None:
    """Check the values before any model loads: dataset, columns, pooling, folds, seeds, batch size.

    Examples
    --------
    >>> validate({**DEFAULTS, "cv": 1})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: cv = 1: cv must be >= 2 folds, or 0 for the dataset's official split.
    """
    one_of(params, "dataset", DATASETS)
    if params["dataset"] == "table" and not params["input"]:
        raise InputError("dataset = \"table\" reads a labelled file: give input = \"PATH\" (TSV/CSV/JSONL).")
    not_blank(params, "text_column", what="a column name")
    not_blank(params, "label_column", what="a column name")
    pooling(params, also=("auto",))
    if params["cv"] == 1 or params["cv"] < 0:
        raise InputError(f"cv = {params['cv']}: cv must be >= 2 folds, or 0 for the dataset's official split.")
    seed = params["seed"]
    if isinstance(seed, list) and not (seed and all(isinstance(s, int) and not isinstance(s, bool) for s in seed)):
        raise InputError(f"seed = {seed!r}: give an integer, or a non-empty list of them, e.g. [0, 1, 2].")
    at_least(params, "batch_size", 1)


def run(ctx: StepContext) -> None:
    """Probe every layer on the dataset and save the ProbeResult into the step directory."""
    params = ctx.params
    seed = ctx.seed if params["seed"] is None else params["seed"]
    probe_task(ctx.get_model(), params["dataset"], ctx.out,
               input=resolve_data_path(params["input"], ctx.data_root) if params["input"] else None,
               word=params["word"] or None, text_column=params["text_column"], label_column=params["label_column"],
               word_column=params["word_column"] or None, layers=params["layers"], pool=params["pool"],
               cv=int(params["cv"]) or None, seed=seed, controls=bool(params["controls"]), mdl=bool(params["mdl"]),
               random_encoder=bool(params["random_encoder"]), batch_size=int(params["batch_size"]), figures=False,
               progress=ctx.progress)


def figures(out: Path) -> list[Path]:
    """Layer curves and selectivity from the saved ProbeResult."""
    return save_probe_figures(ProbeResult.load(out), out)


STEP = register_step(StepSpec(
    name="probe",
    defaults=DEFAULTS,
    run=run,
    figures=figures,
    data_params=("input",),
    types={"layers": (str, int, list), "seed": (int, list)},
    validate=validate,
    layer_params=("layers",),
    description="Layer-wise linear probes (k-fold or official split) with majority, control-task, "
                "random-encoder and MDL baselines.",
))
