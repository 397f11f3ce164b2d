"""Experiment step ``similarity``: layer × layer CKA, SVCCA, PWCCA or Procrustes of the run's model (or two)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bertology.analyses.similarity.api import check_similarity_arguments
from bertology.analyses.similarity.names import METRICS, POOLS
from bertology.analyses.similarity.task import save_similarity_figures, similarity_task
from bertology.core.errors import InputError
from bertology.core.paths import SHIPPED_PREFIX, resolve_data_path
from bertology.experiments.checks import at_least, not_blank, one_of
from bertology.experiments.registry import StepContext, StepSpec, register_step

DEFAULT_INPUT = SHIPPED_PREFIX + "attention_corpus.txt"

DEFAULTS = {
    "input": DEFAULT_INPUT,
    "text_column": "",
    "model_b": "",
    "metric": "linear_cka",
    "layers": "all",
    "pool": "all_words",
    "batch_size": 32,
    "minibatch": 1024,
}


def validate(params: Mapping[str, Any]) -> None:
    """Check the values before any model loads: metric, pooling, batch and minibatch sizes, the second model.

    Examples
    --------
    >>> validate({**DEFAULTS, "metric": "cca"})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: metric = 'cca': choose one of linear_cka, rbf_cka, ...
    """
    one_of(params, "metric", METRICS)
    one_of(params, "pool", POOLS)
    at_least(params, "batch_size", 1)
    at_least(params, "minibatch", 4)
    not_blank(params, "model_b", what="a model name or path", empty_means="the run's model against itself")
    check_similarity_arguments(params["metric"], params["layers"], params["pool"], params["batch_size"],
                               params["minibatch"])


def _input_path(ctx: StepContext) -> Path:
    path = resolve_data_path(ctx.params["input"] or DEFAULT_INPUT, ctx.data_root)
    if not path.exists():
        raise InputError(f"[steps.similarity] input {path} does not exist: give a TXT/TSV/CSV/JSONL file of "
                         "sentences, or leave 'input' out to use the shipped corpus.")
    return path


def run(ctx: StepContext) -> None:
    """Compare the run's model with itself (or with ``model_b``) on the input sentences with :func:`similarity_task`."""
    params = ctx.params
    similarity_task(ctx.get_model(), params["model_b"] or None, _input_path(ctx), ctx.out,
                    metric=params["metric"], layers=params["layers"], pool=params["pool"],
                    text_column=params["text_column"] or None, batch_size=int(params["batch_size"]),
                    minibatch=int(params["minibatch"]), seed=ctx.seed, figures=False, progress=ctx.progress)


def figures(out: Path) -> list[Path]:
    """Render the layer × layer heatmap (and the diagonal for two models) from the saved result."""
    return save_similarity_figures(out)


STEP = register_step(StepSpec(
    name="similarity",
    defaults=DEFAULTS,
    run=run,
    figures=figures,
    data_params=("input",),
    types={"layers": (str, int, list)},
    validate=validate,
    layer_params=("layers",),
    description="Layer × layer representation similarity (CKA, SVCCA, PWCCA, Procrustes) within or across models.",
))
