"""Experiment step ``attribute``: integrated gradients and LIME on N sentences, ERASER faithfulness, figures."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bertology.analyses.attribution.api import resolve_method
from bertology.analyses.attribution.faithfulness import FaithfulnessResult
from bertology.analyses.attribution.lime_method import MASKS
from bertology.analyses.attribution.records import load_attributions
from bertology.analyses.attribution.task import attribute_task, save_attribution_figures
from bertology.analyses.attribution.words import BASELINES
from bertology.core.errors import InputError
from bertology.core.paths import resolve_data_path
from bertology.experiments.checks import at_least, one_of
from bertology.experiments.registry import StepContext, StepSpec, register_step

SHIPPED_SST2 = "shipped:sst2_sample.tsv"
CLASSIFIERS = ("probe", "head")

DEFAULTS = {
    "classifier": "probe",
    "probe_data": None,
    "input": None,
    "limit": 20,
    "layer": -1,
    "methods": ["integrated_gradients", "lime"],
    "n_steps": 50,
    "baseline": "pad",
    "num_samples": 1000,
    "removal": "remove",
    "batch_size": 32,
}

_EXPECTED = {"probe_data": "an SST-2-style TSV (sentence<TAB>label, header)",
             "input": "a TXT (one sentence a line), TSV, CSV or JSONL file of sentences"}


def _path(ctx: StepContext, key: str) -> Path | None:
    value = ctx.params[key]
    if value is None:
        return None
    path = resolve_data_path(value, ctx.data_root)
    if not path.exists():
        raise InputError(f"[steps.attribute] {key} {path} does not exist: give {_EXPECTED[key]}, or leave it out "
                         "to use the shipped SST-2 sample.")
    return path


def validate(params: Mapping[str, Any]) -> None:
    """Check the values before any model loads: classifier, methods, baseline, removal and the counts.

    Examples
    --------
    >>> validate({**DEFAULTS, "methods": ["ig", "shap"]})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: methods = ['ig', 'shap']: Unknown attribution method 'shap': ...
    """
    if params["classifier"] not in CLASSIFIERS:
        raise InputError(f"classifier = {params['classifier']!r}: use 'probe' (a CLS probe fitted on probe_data) "
                         "or 'head' (the checkpoint's own sequence-classification head).")
    if not params["methods"]:
        raise InputError("methods = []: name at least one method, e.g. [\"integrated_gradients\", \"lime\"].")
    for method in params["methods"]:
        try:
            resolve_method(method)
        except InputError as error:
            raise InputError(f"methods = {params['methods']!r}: {error}") from None
    one_of(params, "baseline", BASELINES)
    one_of(params, "removal", MASKS)
    for key in ("limit", "n_steps", "num_samples", "batch_size"):
        at_least(params, key, 1)


def run(ctx: StepContext) -> None:
    """Attribute the first ``limit`` sentences of ``input`` (default: the probe data) and score faithfulness.

    ``classifier = "probe"`` explains a CLS probe fitted at ``layer`` on ``probe_data``
    (default the shipped SST-2 sample); ``"head"`` the checkpoint's own classification head.
    """
    params = ctx.params
    probe_data = _path(ctx, "probe_data")
    input_file = _path(ctx, "input") or probe_data or resolve_data_path(SHIPPED_SST2, ctx.data_root)
    head = params["classifier"] == "head"
    attribute_task(ctx.get_model("classifier") if head else ctx.get_model(), input_file, ctx.out,
                   methods=list(params["methods"]), probe_data=None if head else probe_data,
                   layer=int(params["layer"]), n_steps=int(params["n_steps"]), baseline=params["baseline"],
                   num_samples=int(params["num_samples"]), seed=ctx.seed, removal=params["removal"],
                   limit=int(params["limit"]), batch_size=int(params["batch_size"]), figures=False,
                   progress=ctx.progress)


def figures(out: Path) -> list[Path]:
    """Faithfulness curves and word heatmaps of the first sentence, from the stored results."""
    return save_attribution_figures(FaithfulnessResult.load(out), load_attributions(out), out)


STEP = register_step(StepSpec(
    name="attribute",
    defaults=DEFAULTS,
    run=run,
    figures=figures,
    data_params=("probe_data", "input"),
    validate=validate,
    layer_params=("layer",),
    distributed=True,
    description="Integrated gradients and LIME on a sentiment classifier (or a CLS probe) with ERASER "
                "faithfulness (DeYoung et al. 2020).",
))
