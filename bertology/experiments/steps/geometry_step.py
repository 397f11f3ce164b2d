"""Experiment step ``geometry``: sense projections, similarity across contexts and Ethayarajh's measures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bertology.core.paths import resolve_data_path
from bertology.experiments.registry import StepContext, StepSpec, register_step
from bertology.core.extraction import extract
from bertology.analyses.geometry import EthayarajhResult, ProjectionResult, SimilarityResult
from bertology.analyses.geometry import context_similarity, ethayarajh_measures, project_layers
from bertology.core.data.loaders import load_dataset
from bertology.core.viz import save_figure

PROJECTION_TABLE = "projection.csv"
SIMILARITY_TABLE = "similarity.csv"
ETHAYARAJH_TABLE = "ethayarajh.csv"

DEFAULTS = {
    "data": "",
    "word": "apple",
    "layers": "all",
    "method": "pca",
    "ethayarajh": True,
    "n_pairs": 1000,
}


def run(ctx: StepContext) -> None:
    """Project the word's vectors, compare them across contexts and measure contextuality by layer."""
    params = ctx.params
    data = resolve_data_path(params["data"], ctx.data_root) if params["data"] else None
    dataset = load_dataset("coarsewsd20", data, params["word"] or None)
    model = ctx.get_model()
    vectors = extract(model, dataset.texts, layers=params["layers"], pool="word_mean", words=dataset.words,
                      progress=ctx.progress)
    projection = project_layers(vectors, dataset, method=params["method"], seed=ctx.seed, progress=ctx.progress)
    projection.to_frame().to_csv(ctx.out_dir / PROJECTION_TABLE, index=False)
    similarity = context_similarity(model, dataset, progress=ctx.progress, features=vectors)
    similarity.to_frame().to_csv(ctx.out_dir / SIMILARITY_TABLE, index=False)
    if params["ethayarajh"]:
        measures = ethayarajh_measures(model, dataset.texts, params["layers"], n_pairs=int(params["n_pairs"]),
                                       seed=ctx.seed, progress=ctx.progress)
        measures.to_frame().to_csv(ctx.out_dir / ETHAYARAJH_TABLE, index=False)


def figures(out_dir: Path) -> list[Path]:
    """Projection small multiples, similarity by layer and Ethayarajh's measures, from the stored tables."""
    written = save_figure(ProjectionResult.from_frame(pd.read_csv(out_dir / PROJECTION_TABLE)).plot(),
                          out_dir / "figures" / "projection")
    written += save_figure(SimilarityResult(pd.read_csv(out_dir / SIMILARITY_TABLE)).plot(),
                           out_dir / "figures" / "similarity_by_layer")
    if (out_dir / ETHAYARAJH_TABLE).is_file():
        written += save_figure(EthayarajhResult(pd.read_csv(out_dir / ETHAYARAJH_TABLE)).plot(),
                               out_dir / "figures" / "ethayarajh")
    return written


STEP = register_step(StepSpec(
    name="geometry",
    defaults=DEFAULTS,
    run=run,
    figures=figures,
    data_params=("data",),
    types={"layers": (str, int, list)},
    description="PCA/UMAP of a word's vectors by sense, its similarity across contexts, Ethayarajh's measures.",
))
