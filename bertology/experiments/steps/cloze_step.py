"""Experiment step ``cloze``: shipped cloze suites, optional evaluation-set files and a top-k fill table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bertology.analyses.cloze.names import AGREEMENT_FORMATS, PLL_VARIANTS, STEREOSET_VARIANTS
from bertology.analyses.cloze.result import ClozeResult
from bertology.analyses.cloze.scorer import MASK_MARKERS
from bertology.analyses.cloze.task import FILL_TEMPLATES, cloze_task, save_cloze_figures
from bertology.core.data.cloze_suites import load_suite
from bertology.core.errors import InputError
from bertology.core.paths import resolve_data_path
from bertology.core.results import RESULT_FILE
from bertology.experiments.checks import at_least, one_of
from bertology.experiments.registry import StepContext, StepSpec, register_step

EVALUATION_PARAMS = ("crows_pairs", "stereoset", "blimp", "agreement_stimuli")

DEFAULTS = {
    "suites": ["agreement"],
    "crows_pairs": None,
    "stereoset": None,
    "blimp": None,
    "agreement_stimuli": None,
    "agreement_format": "auto",
    "include_is_are": False,
    "pll_variant": "within_word_l2r",
    "stereoset_variant": "official",
    "fill_templates": list(FILL_TEMPLATES),
    "top_k": 5,
    "n_boot": 1000,
    "max_tokens": 4096,
}


def _resolve(ctx: StepContext, name: str) -> Path | None:
    value = ctx.params[name]
    return resolve_data_path(value, ctx.data_root) if value else None


def validate(params: Mapping[str, Any]) -> None:
    """Check the values before any model loads: every suite (read and checked), formats, templates, counts.

    Examples
    --------
    >>> validate({**DEFAULTS, "pll_variant": "l2r"})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: pll_variant = 'l2r': choose one of original, within_word_l2r.
    """
    for suite in params["suites"]:
        try:
            load_suite(suite)
        except InputError as error:
            raise InputError(f"suites: {error}") from None
    one_of(params, "agreement_format", AGREEMENT_FORMATS)
    one_of(params, "pll_variant", PLL_VARIANTS)
    one_of(params, "stereoset_variant", STEREOSET_VARIANTS)
    for template in params["fill_templates"]:
        markers = sum(str(template).count(marker) for marker in MASK_MARKERS)
        if markers > 1 or (markers == 0 and "mask" not in str(template).lower()):
            raise InputError(f"fill_templates: {template!r} needs exactly one [MASK] (or {{mask}}) where the word "
                             "to predict goes.")
    for key in ("top_k", "n_boot", "max_tokens"):
        at_least(params, key, 1)


def run(ctx: StepContext) -> None:
    """Score the suites and evaluation files with the run's masked LM; one result directory each."""
    params = ctx.params
    cloze_task(ctx.get_model(head="mlm"), ctx.out, suites=list(params["suites"]),
               **{name: _resolve(ctx, name) for name in EVALUATION_PARAMS},
               agreement_format=params["agreement_format"], include_is_are=bool(params["include_is_are"]),
               pll_variant=params["pll_variant"], stereoset_variant=params["stereoset_variant"],
               fill_templates=list(params["fill_templates"]), top_k=int(params["top_k"]),
               n_boot=int(params["n_boot"]), seed=ctx.seed, max_tokens=int(params["max_tokens"]),
               figures=False, progress=ctx.progress)


def figures(out: Path) -> list[Path]:
    """Per-condition accuracy bars, bias-score distributions and the fill table, from the saved results."""
    saved = sorted(marker.parent for marker in out.glob(f"*/{RESULT_FILE}"))
    return save_cloze_figures({directory.name: ClozeResult.load(directory) for directory in saved}, out)


STEP = register_step(StepSpec(
    name="cloze",
    defaults=DEFAULTS,
    run=run,
    figures=figures,
    data_params=EVALUATION_PARAMS,
    validate=validate,
    needs_mlm=True,
    description="Cloze suites (agreement, bias, pronoun, telicity, colour) and CrowS-Pairs/StereoSet/BLiMP/"
                "agreement evaluation sets with a masked LM (Goldberg 2019; Kurita et al. 2019; Salazar et al. 2020).",
))
