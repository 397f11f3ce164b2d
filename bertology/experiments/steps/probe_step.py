"""Experiment step ``probe``: layer-wise linear probes with baselines, controls and MDL."""

from __future__ import annotations

from pathlib import Path

from bertology.core.paths import resolve_data_path
from bertology.experiments.registry import StepContext, StepSpec, register_step
from bertology.analyses.probes.result import ProbeResult
from bertology.analyses.probes.layerwise import probe_layers
from bertology.analyses.probes.task import save_probe_figures
from bertology.core.data.loaders import load_dataset

DEFAULTS = {
    "task": "coarsewsd20",
    "data": "",
    "word": "",
    "text_column": "sentence",
    "label_column": "label",
    "word_column": "",
    "layers": "all",
    "pool": "auto",
    "cv": 5,
    "n_seeds": 1,
    "controls": True,
    "mdl": False,
    "random_encoder": False,
}


def run(ctx: StepContext) -> None:
    """Probe every layer on the task's data and write ``probe_results.csv`` and ``probe_meta.json``."""
    params = ctx.params
    data = resolve_data_path(params["data"], ctx.data_root) if params["data"] else None
    dataset = load_dataset(params["task"], data, params["word"] or None, params["text_column"], params["label_column"],
                        params["word_column"] or None)
    result = probe_layers(ctx.get_model(), dataset, layers=params["layers"], pool=params["pool"],
                          cv=int(params["cv"]) or None, seeds=tuple(range(ctx.seed, ctx.seed + int(params["n_seeds"]))),
                          controls=bool(params["controls"]), mdl=bool(params["mdl"]),
                          random_encoder=bool(params["random_encoder"]), progress=ctx.progress)
    result.meta["task"] = params["task"]
    result.save(ctx.out_dir)


def figures(out_dir: Path) -> list[Path]:
    """Layer curves and selectivity from the stored table."""
    return save_probe_figures(ProbeResult.load(out_dir), out_dir)


STEP = register_step(StepSpec(
    name="probe",
    defaults=DEFAULTS,
    run=run,
    figures=figures,
    data_params=("data",),
    types={"layers": (str, int, list)},
    description="Layer-wise linear probes (k-fold or official split) with majority, control-task, "
                "random-encoder and MDL baselines.",
))
