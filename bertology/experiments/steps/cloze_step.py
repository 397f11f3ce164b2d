"""Experiment step ``cloze``: shipped cloze suites, optional evaluation-set files and a top-k fill table."""

from __future__ import annotations

from pathlib import Path

from bertology.analyses.cloze.result import ClozeResult
from bertology.analyses.cloze.task import FILL_TEMPLATES, cloze_task, save_cloze_figures
from bertology.core.paths import resolve_data_path
from bertology.core.results import RESULT_FILE
from bertology.experiments.registry import StepContext, StepSpec, register_step

EVALUATION_PARAMS = ("crows_pairs", "stereoset", "blimp", "agreement_stimuli")

DEFAULTS = {
    "suites": ["agreement"],
    "crows_pairs": None,
    "stereoset": None,
    "blimp": None,
    "agreement_stimuli": None,
    "agreement_format": "auto",
    "pll_variant": "within_word_l2r",
    "fill_templates": list(FILL_TEMPLATES),
    "top_k": 5,
    "n_boot": 1000,
    "max_tokens": 4096,
}


def _resolve(ctx: StepContext, name: str) -> Path | None:
    value = ctx.params[name]
    return resolve_data_path(value, ctx.data_root) if value else None


def run(ctx: StepContext) -> None:
    """Score the suites and evaluation files with the run's masked LM; one result directory each."""
    params = ctx.params
    cloze_task(ctx.get_model(head="mlm"), ctx.out, suites=list(params["suites"]),
               **{name: _resolve(ctx, name) for name in EVALUATION_PARAMS},
               agreement_format=params["agreement_format"], pll_variant=params["pll_variant"],
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
    needs_mlm=True,
    description="Cloze suites (agreement, bias, pronoun, telicity, colour) and CrowS-Pairs/StereoSet/BLiMP/"
                "agreement evaluation sets with a masked LM (Goldberg 2019; Kurita et al. 2019; Salazar et al. 2020).",
))
