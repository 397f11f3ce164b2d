"""Experiment step ``attribute``: integrated gradients and LIME on N sentences, ERASER faithfulness, figures."""

from __future__ import annotations

from pathlib import Path

from bertology.analyses.attribution.task import build_classifier, render_figures, run_attribution
from bertology.core.data.loaders import load_sst2
from bertology.core.errors import InputError
from bertology.core.paths import resolve_data_path
from bertology.experiments.registry import StepContext, StepSpec, register_step

DEFAULTS = {
    "classifier": "probe",
    "probe_data": None,
    "sentences": None,
    "n_sentences": 20,
    "layer": -1,
    "methods": ["integrated_gradients", "lime"],
    "n_steps": 50,
    "baseline": "pad",
    "num_samples": 1000,
    "removal": "remove",
}


def _path(ctx: StepContext, key: str) -> Path | None:
    value = ctx.params[key]
    if value is None:
        return None
    path = resolve_data_path(value, ctx.data_root)
    if not path.exists():
        raise InputError(f"[steps.attribute] {key} {path} does not exist: give an SST-2-style TSV "
                         "(sentence<TAB>label, header), or leave it out to use the shipped SST-2 sample.")
    return path


def run(ctx: StepContext) -> None:
    """Build the classifier (a CLS probe at ``layer``, or the model's own head), attribute, score, write tables."""
    params = ctx.params
    probe_data = _path(ctx, "probe_data")
    if params["classifier"] not in ("probe", "head"):
        raise InputError(f"[steps.attribute] classifier = {params['classifier']!r}: use 'probe' (a CLS probe "
                         "fitted on probe_data) or 'head' (the checkpoint's own sequence-classification head).")
    if params["classifier"] == "head":
        clf = build_classifier(ctx.get_model("classifier"))
    else:
        clf = build_classifier(ctx.get_model(), probe_data=probe_data, layer=int(params["layer"]),
                               progress=ctx.progress)
    sentence_file = _path(ctx, "sentences")
    sentences = load_sst2(sentence_file or probe_data).texts[:int(params["n_sentences"])]
    options = {"integrated_gradients": {"n_steps": int(params["n_steps"]), "baseline": params["baseline"]},
               "lime": {"num_samples": int(params["num_samples"]), "seed": ctx.seed}}
    run_attribution(clf, sentences, ctx.out_dir, methods=list(params["methods"]), options=options,
                    removal=params["removal"], progress=ctx.progress)


def figures(out_dir: Path) -> list[Path]:
    """Faithfulness curves and word heatmaps of the first sentences, from the stored results."""
    return render_figures(out_dir)


STEP = register_step(StepSpec(
    name="attribute",
    defaults=DEFAULTS,
    run=run,
    figures=figures,
    data_params=("probe_data", "sentences"),
    distributed=True,
    description="Integrated gradients and LIME on a sentiment classifier (or a CLS probe) with ERASER "
                "faithfulness (DeYoung et al. 2020).",
))
