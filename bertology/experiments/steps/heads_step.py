"""Experiment step ``heads``: head importance (Michel et al., 2019), pruning curve, leave-one-out ablation."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bertology.analyses.heads.task import check_heads_arguments, heads_task, save_heads_figures
from bertology.core.data.names import DATASETS
from bertology.core.errors import InputError
from bertology.core.paths import resolve_data_path
from bertology.experiments.checks import not_blank, one_of
from bertology.experiments.registry import StepContext, StepSpec, register_step

DEFAULTS = {
    "loss": "classifier",
    "suite": "agreement",
    "dataset": "sst2",
    "input": "",
    "text_column": "sentence",
    "label_column": "label",
    "max_sentences": 0,
    "per": "example",
    "normalize_global": False,
    "metric": "accuracy",
    "steps": 10,
    "random_orders": 5,
    "leave_one_out": False,
    "batch_size": 32,
    "mask_prob": 0.15,
    "seed": None,
}


def validate(params: Mapping[str, Any]) -> None:
    """Check the values before any model loads: loss, dataset, columns, metric, steps, orders, batch size.

    Examples
    --------
    >>> validate({**DEFAULTS, "random_orders": -1})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: random_orders=-1 must be at least 0.
    """
    one_of(params, "dataset", DATASETS)
    if params["dataset"] == "table" and not params["input"]:
        raise InputError("dataset = \"table\" reads a labelled file: give input = \"PATH\" (TSV/CSV/JSONL).")
    not_blank(params, "text_column", what="a column name")
    not_blank(params, "label_column", what="a column name")
    if params["max_sentences"] < 0:
        raise InputError(f"max_sentences = {params['max_sentences']}: give 0 for all sentences or a positive count.")
    check_heads_arguments(params["loss"], params["metric"], params["per"], params["steps"], params["random_orders"],
                          params["batch_size"], params["mask_prob"], params["max_sentences"] or None)


def run(ctx: StepContext) -> None:
    """Compute importance, the pruning curve and (optionally) leave-one-out scores with :func:`heads_task`."""
    params = ctx.params
    heads_task(ctx.get_model(head="classifier" if params["loss"] == "classifier" else "mlm"), ctx.out,
               loss=params["loss"], suite=params["suite"], dataset=params["dataset"],
               input=resolve_data_path(params["input"], ctx.data_root) if params["input"] else None,
               text_column=params["text_column"], label_column=params["label_column"],
               max_sentences=int(params["max_sentences"]) or None, per=params["per"],
               normalize_global=bool(params["normalize_global"]), metric=params["metric"],
               steps=int(params["steps"]), random_orders=int(params["random_orders"]),
               leave_one_out=bool(params["leave_one_out"]), batch_size=int(params["batch_size"]),
               mask_prob=float(params["mask_prob"]), seed=ctx.seed if params["seed"] is None else int(params["seed"]),
               figures=False, progress=ctx.progress)


def figures(out: Path) -> list[Path]:
    """The importance heatmap, the pruning curve and the leave-one-out heatmap from stored results."""
    return save_heads_figures(out)


STEP = register_step(StepSpec(
    name="heads",
    defaults=DEFAULTS,
    run=run,
    figures=figures,
    data_params=("input",),
    types={"seed": (int,), "mask_prob": (float, int)},
    validate=validate,
    description="Michel et al. (2019) head importance from gate gradients, pruning curve with a random band, "
                "leave-one-out head ablation.",
))
