"""Experiment step ``extract``: pooled per-layer activations of a sentence file into an ActivationStore."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bertology.core.data.tables import FORMATS
from bertology.core.errors import InputError
from bertology.core.extraction import ActivationStore
from bertology.core.extraction.norms import ActivationNorms, activation_norms
from bertology.core.extraction.pooling import WORD_POOLINGS
from bertology.core.extraction.store import DTYPES
from bertology.core.extraction.task import extract_task
from bertology.core.paths import resolve_data_path
from bertology.core.viz import save_figure
from bertology.experiments.checks import at_least, one_of, pooling
from bertology.experiments.registry import StepContext, StepSpec, register_step

STORE_DIR = "store"
NORMS_DIR = "norms"

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


def validate(params: Mapping[str, Any]) -> None:
    """Check the values before any model loads: format, pooling (word pooling needs ``word_column``), dtype,
    batch size.

    Examples
    --------
    >>> validate({**DEFAULTS, "input": "s.tsv", "pool": "maxx"})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: pool = 'maxx': Unknown pooling 'maxx': ...
    """
    one_of(params, "format", FORMATS)
    if pooling(params) in WORD_POOLINGS and not params["word_column"]:
        raise InputError(f"pool = {params['pool']!r} pools the target word: name the column with its index, "
                         "word_column = \"word_pos\", or use a sentence pooling (cls, mean).")
    one_of(params, "dtype", DTYPES)
    at_least(params, "batch_size", 1)


def run(ctx: StepContext) -> None:
    """Extract the activations into ``<step>/store`` (resumable; shared out by rank under a launcher) and
    tabulate the mean norm per layer (rank 0)."""
    params = ctx.params
    store = extract_task(ctx.get_model(), resolve_data_path(params["input"], ctx.data_root), ctx.out / STORE_DIR,
                         layers=params["layers"], pool=params["pool"], text_column=params["text_column"] or None,
                         word_column=params["word_column"] or None, format=params["format"],
                         batch_size=int(params["batch_size"]), dtype=params["dtype"],
                         truncate=bool(params["truncate"]), progress=ctx.progress)
    if ctx.rank.rank == 0:
        activation_norms(store).save(ctx.out / NORMS_DIR)


def figures(out: Path) -> list[Path]:
    """Mean activation norm by layer, from the stored norms."""
    return save_figure(ActivationNorms.load(out / NORMS_DIR).plot(), out / "figures" / "activation_norms")


def load_store(out: Path) -> ActivationStore:
    """The ActivationStore an ``extract`` step wrote into its directory.

    Examples
    --------
    >>> load_store(Path("runs/quickstart/extract"))  # doctest: +SKIP
    ActivationStore(...)
    """
    return ActivationStore(out / STORE_DIR)


STEP = register_step(StepSpec(
    name="extract",
    defaults=DEFAULTS,
    run=run,
    figures=figures,
    required=("input",),
    data_params=("input",),
    types={"layers": (str, int, list)},
    validate=validate,
    layer_params=("layers",),
    distributed=True,
    description="Pooled per-layer activations of a sentence file, stored as a resumable ActivationStore.",
))
