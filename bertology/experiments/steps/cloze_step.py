"""Experiment step ``cloze``: shipped cloze suites, optional benchmark files and a top-k fill table."""

from __future__ import annotations

from pathlib import Path

from bertology.analyses.cloze.task import FILL_TEMPLATES, render_figures, run_cloze
from bertology.core.paths import resolve_data_path
from bertology.experiments.registry import StepContext, StepSpec, register_step

BENCHMARK_PARAMS = ("crows_pairs", "stereoset", "blimp", "agreement_stimuli")

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
    """Score the suites and benchmark files with the run's masked LM; write one result directory each."""
    params = ctx.params
    run_cloze(ctx.get_model(head="mlm"), ctx.out_dir, suites=list(params["suites"]),
              **{name: _resolve(ctx, name) for name in BENCHMARK_PARAMS},
              agreement_format=params["agreement_format"], pll_variant=params["pll_variant"],
              fill_templates=list(params["fill_templates"]), top_k=int(params["top_k"]),
              n_boot=int(params["n_boot"]), seed=ctx.seed, max_tokens=int(params["max_tokens"]),
              progress=ctx.progress, figures=False)


def figures(out_dir: Path) -> list[Path]:
    """Per-condition accuracy bars, bias-score distributions and the fill table, from stored tables."""
    return render_figures(out_dir)


STEP = register_step(StepSpec(
    name="cloze",
    defaults=DEFAULTS,
    run=run,
    figures=figures,
    data_params=BENCHMARK_PARAMS,
    needs_mlm=True,
    description="Cloze suites (agreement, bias, pronoun, telicity, colour) and CrowS-Pairs/StereoSet/BLiMP/"
                "agreement benchmarks with a masked LM (Goldberg 2019; Kurita et al. 2019; Salazar et al. 2020).",
))
