"""Experiment step ``extract``: pooled per-layer activations of a sentence file into an ActivationStore."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bertology.core.data import column, find_text_column, int_column, read_table
from bertology.core.paths import resolve_data_path
from bertology.experiments.registry import StepContext, StepSpec, register_step
from bertology.core.extraction import ActivationStore, extract
from bertology.core.viz import new_figure, save_figure

STORE_DIR = "store"
NORMS_TABLE = "layer_norms.csv"

DEFAULTS = {
    "input": "",
    "format": "auto",
    "text_column": "",
    "word_column": "",
    "layers": "all",
    "pool": "cls",
    "batch_size": 32,
    "dtype": "float32",
    "truncate": False,
}


def _texts_and_words(ctx: StepContext) -> tuple[list[str], list[int] | None]:
    params = ctx.params
    path = resolve_data_path(params["input"], ctx.data_root)
    rows = read_table(path, params["format"])
    texts = column(rows, find_text_column(rows, params["text_column"]), path)
    words = int_column(rows, params["word_column"], path) if params["word_column"] else None
    return texts, words


def run(ctx: StepContext) -> None:
    """Extract the activations into ``<step>/store`` (resumable; shared out by rank under a launcher) and
    tabulate the mean norm per layer (rank 0)."""
    params = ctx.params
    texts, words = _texts_and_words(ctx)
    store = extract(ctx.get_model(), texts, layers=params["layers"], pool=params["pool"], words=words,
                    batch_size=int(params["batch_size"]), store=ctx.out_dir / STORE_DIR, dtype=params["dtype"],
                    truncate=bool(params["truncate"]), progress=ctx.progress)
    if ctx.rank.rank != 0:
        return
    valid = store.valid
    rows = []
    for layer in store.layers:
        norms = np.linalg.norm(np.asarray(store[layer], dtype=np.float32)[valid], axis=1)
        rows.append({"layer": layer, "mean_norm": float(norms.mean()), "std_norm": float(norms.std()),
                     "items": int(valid.sum())})
    pd.DataFrame(rows).to_csv(ctx.out_dir / NORMS_TABLE, index=False)


def figures(out_dir: Path) -> list[Path]:
    """Mean activation norm by layer, from the stored table."""
    table = pd.read_csv(out_dir / NORMS_TABLE)
    figure, axes = new_figure()
    axes.errorbar(table["layer"], table["mean_norm"], yerr=table["std_norm"], marker="o", capsize=2)
    axes.set_xlabel("layer (0 = embeddings)")
    axes.set_ylabel("mean L2 norm of pooled vector")
    return save_figure(figure, out_dir / "figures" / "activation_norms")


def load_store(out_dir: Path) -> ActivationStore:
    """The ActivationStore an ``extract`` step wrote into its directory.

    Examples
    --------
    >>> load_store(Path("runs/quickstart/extract"))  # doctest: +SKIP
    ActivationStore(...)
    """
    return ActivationStore(out_dir / STORE_DIR)


STEP = register_step(StepSpec(
    name="extract",
    defaults=DEFAULTS,
    run=run,
    figures=figures,
    required=("input",),
    data_params=("input",),
    types={"layers": (str, int, list)},
    distributed=True,
    description="Pooled per-layer activations of a sentence file, stored as a resumable ActivationStore.",
))
