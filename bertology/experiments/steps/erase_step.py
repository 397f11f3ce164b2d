"""Experiment step ``erase``: concept erasure (LEACE, INLP) on one layer and amnesic probing."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bertology.analyses.erasure.amnesic import AmnesicResult
from bertology.analyses.erasure.erasure import Erasure
from bertology.analyses.erasure.names import METHODS
from bertology.analyses.erasure.task import AMNESIC_DIR, ERASURE_DIR, erase_task, save_erasure_figures
from bertology.core.data.names import DATASETS
from bertology.core.errors import InputError
from bertology.core.paths import resolve_data_path
from bertology.core.results import RESULT_FILE
from bertology.experiments.checks import at_least, not_blank, one_of, pooling
from bertology.experiments.registry import StepContext, StepSpec, register_step

DEFAULTS = {
    "dataset": "coarsewsd20",
    "input": "",
    "word": "",
    "text_column": "sentence",
    "label_column": "label",
    "word_column": "",
    "layer": 6,
    "method": "leace",
    "pool": "auto",
    "n_iterations": 50,
    "controls": 3,
    "amnesic": True,
    "layers": "after",
    "mlm": False,
    "batch_size": 32,
}


def validate(params: Mapping[str, Any]) -> None:
    """Check the values before any model loads: dataset, method, pooling, counts, probed layers.

    Examples
    --------
    >>> validate({**DEFAULTS, "method": "pca"})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: method = 'pca': choose one of leace, inlp.
    """
    one_of(params, "dataset", DATASETS)
    if params["dataset"] == "table" and not params["input"]:
        raise InputError("dataset = \"table\" reads a labelled file: give input = \"PATH\" (TSV/CSV/JSONL).")
    not_blank(params, "text_column", what="a column name")
    not_blank(params, "label_column", what="a column name")
    one_of(params, "method", METHODS)
    pooling(params, also=("auto",))
    for key in ("n_iterations", "controls", "batch_size"):
        at_least(params, key, 1)
    layers = params["layers"]
    if layers != "after" and not (isinstance(layers, list) and layers
                                  and all(isinstance(k, int) and not isinstance(k, bool) for k in layers)):
        raise InputError(f"layers = {layers!r}: give \"after\" (the erased hidden state and later ones) or a list "
                         "of hidden states, e.g. [4, 5, 6].")


def run(ctx: StepContext) -> None:
    """Fit the eraser and run amnesic probing; the results go to ``erasure/`` and ``amnesic/``."""
    params = ctx.params
    erase_task(ctx.get_model(head="mlm") if params["mlm"] else ctx.get_model(), params["dataset"], ctx.out,
               layer=int(params["layer"]),
               input=resolve_data_path(params["input"], ctx.data_root) if params["input"] else None,
               word=params["word"] or None, text_column=params["text_column"], label_column=params["label_column"],
               word_column=params["word_column"] or None, method=params["method"], pool=params["pool"],
               seed=ctx.seed, n_iterations=int(params["n_iterations"]), controls=int(params["controls"]),
               amnesic=bool(params["amnesic"]), layers=params["layers"], batch_size=int(params["batch_size"]),
               figures=False, progress=ctx.progress)


def figures(out: Path) -> list[Path]:
    """The erasure and amnesic-probing bars from the saved results."""
    amnesic = AmnesicResult.load(out / AMNESIC_DIR) if (out / AMNESIC_DIR / RESULT_FILE).exists() else None
    return save_erasure_figures(Erasure.load(out / ERASURE_DIR), amnesic, out)


STEP = register_step(StepSpec(
    name="erase",
    defaults=DEFAULTS,
    run=run,
    figures=figures,
    data_params=("input",),
    types={"layers": (str, list)},
    validate=validate,
    layer_params=("layer",),
    description="Concept erasure (LEACE, Belrose et al. 2023; INLP, Ravfogel et al. 2020) on one layer and "
                "amnesic probing with a random-direction control (Elazar et al. 2021).",
))
