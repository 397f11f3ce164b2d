"""Experiment step ``attention``: head statistics over a corpus, a head view and attention figures."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bertology.analyses.attention.stats import AVERAGES
from bertology.analyses.attention.task import attention_task, save_attention_figures
from bertology.core.errors import InputError
from bertology.core.paths import SHIPPED_DIR, SHIPPED_PREFIX, resolve_data_path
from bertology.experiments.checks import at_least, not_blank, one_of
from bertology.experiments.registry import StepContext, StepSpec, register_step

CORPUS_NAME = "attention_corpus.txt"
DEFAULT_INPUT = SHIPPED_PREFIX + CORPUS_NAME
SHIPPED_CORPUS = SHIPPED_DIR / CORPUS_NAME

DEFAULTS = {
    "input": DEFAULT_INPUT,
    "text_column": "",
    "batch_size": 32,
    "truncate": False,
    "average": "sentence",
    "example_text": "The bank in the city is closed on Sundays.",
    "example_text_b": "",
}


def _corpus_path(ctx: StepContext) -> Path:
    path = resolve_data_path(ctx.params["input"] or DEFAULT_INPUT, ctx.data_root)
    if not path.exists():
        raise InputError(f"[steps.attention] input {path} does not exist: give a TXT/TSV/CSV/JSONL file of "
                         "sentences, or leave 'input' out to use the shipped corpus.")
    return path


def validate(params: Mapping[str, Any]) -> None:
    """Check the values before any model loads: batch size, averaging and the example sentence (or pair).

    Examples
    --------
    >>> validate({**DEFAULTS, "example_text": " "})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: example_text = ' ' is blank: give a sentence, or "" for no example.
    """
    at_least(params, "batch_size", 1)
    one_of(params, "average", AVERAGES)
    not_blank(params, "example_text", empty_means="no example")
    not_blank(params, "example_text_b", empty_means="a single sentence")
    if params["example_text_b"] and not params["example_text"]:
        raise InputError("example_text_b is the second sentence of a pair: give example_text as well.")


def run(ctx: StepContext) -> None:
    """Compute the head statistics and the example sentence's attention with :func:`attention_task`."""
    params = ctx.params
    attention_task(ctx.get_model(), _corpus_path(ctx), ctx.out, text_column=params["text_column"] or None,
                   batch_size=int(params["batch_size"]), truncate=bool(params["truncate"]), average=params["average"],
                   example_text=params["example_text"] or None, example_text_b=params["example_text_b"] or None,
                   figures=False, progress=ctx.progress)


def figures(out: Path) -> list[Path]:
    """Render the statistic heatmaps, the example's layer × head grid and its rollout from stored results."""
    return save_attention_figures(out)


STEP = register_step(StepSpec(
    name="attention",
    defaults=DEFAULTS,
    run=run,
    figures=figures,
    data_params=("input",),
    validate=validate,
    description="Clark et al. (2019) head statistics over a corpus, an HTML head view and attention figures.",
))
