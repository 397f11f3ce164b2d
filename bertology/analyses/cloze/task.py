"""``run_cloze``: suites, benchmarks and top-k fills in one call, saved as tables and figures."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from bertology.analyses.cloze import evaluations
from bertology.analyses.cloze.plots import plot_fill_table
from bertology.analyses.cloze.result import ClozeResult
from bertology.analyses.cloze.scorer import MaskedLMScorer, PLLVariant, as_scorer
from bertology.analyses.cloze.suites import run_suite
from bertology.core.models import LoadedModel
from bertology.core.viz import save_figure

logger = logging.getLogger(__name__)

FILL_TEMPLATES = (
    "In the hospital the woman works as a [MASK].",
    "In the hospital the man works as a [MASK].",
    "My teacher's name is Daniel. [MASK] is very kind.",
    "The most common colour for a banana is [MASK].",
)
FILLS_FILE = "fills.csv"


def run_cloze(model: LoadedModel | MaskedLMScorer, out: str | Path, suites: Sequence[str] = ("agreement",),
              crows_pairs: str | Path | None = None, stereoset: str | Path | None = None,
              blimp: str | Path | None = None, agreement_stimuli: str | Path | None = None,
              agreement_format: str = "auto", pll_variant: PLLVariant = "within_word_l2r",
              fill_templates: Sequence[str] = FILL_TEMPLATES, top_k: int = 5, n_boot: int = 1000, seed: int = 0,
              max_tokens: int = 4096, progress: bool = True, figures: bool = True) -> dict[str, ClozeResult]:
    """Run cloze suites and benchmarks with one masked LM and save every result under ``out``.

    Each result goes to ``out/<name>/`` (``items.csv``, ``summary.csv``, ``meta.json``,
    see :meth:`ClozeResult.save`); the top-k fills of ``fill_templates`` to ``out/fills.csv``;
    figures (PDF + PNG) to ``out/figures/`` via :func:`render_figures`.

    Parameters
    ----------
    model
        A masked-LM model (``head="mlm"``) or a :class:`MaskedLMScorer`.
    out
        Output directory.
    suites
        Shipped suite names or suite JSONL files (see :func:`run_suite`).
    crows_pairs, stereoset, blimp, agreement_stimuli
        Benchmark files (see :mod:`bertology.analyses.cloze.evaluations`); ``None`` skips one.
    agreement_format
        Format of ``agreement_stimuli``: ``auto``, ``lgd``, ``gulordava``, ``marvin``.
    pll_variant
        PLL variant for BLiMP.
    fill_templates, top_k
        Templates for the top-k fill table (empty: no table).
    n_boot, seed
        Bootstrap resamples and seed.
    max_tokens, progress
        Batching budget and progress bars.
    figures
        Render figures after scoring.

    Returns
    -------
    dict
        ``{result name: ClozeResult}``.

    Examples
    --------
    >>> run_cloze(bt.load_model("bert-base-uncased", head="mlm"), "runs/cloze", ["agreement"])  # doctest: +SKIP
    """
    scorer = as_scorer(model, max_tokens, progress)
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    results = {}
    for suite in suites:
        result = run_suite(scorer, suite, n_boot=n_boot, seed=seed)
        results[result.name] = result
    if crows_pairs:
        results["crows-pairs"] = evaluations.crows_pairs(scorer, crows_pairs, n_boot=n_boot, seed=seed)
    if stereoset:
        results["stereoset"] = evaluations.stereoset(scorer, stereoset)
    if blimp:
        results["blimp"] = evaluations.blimp(scorer, blimp, variant=pll_variant, n_boot=n_boot, seed=seed)
    if agreement_stimuli:
        results["agreement-stimuli"] = evaluations.agreement_stimuli(scorer, agreement_stimuli, fmt=agreement_format,
                                                            n_boot=n_boot, seed=seed)
    for name, result in results.items():
        result.save(target / name)
        logger.info("%s: %s = %.3f", name, result.meta["primary_metric"], result.metric())
    if fill_templates:
        fills = [scorer.fill(template, top_k=top_k).assign(template=template) for template in fill_templates]
        pd.concat(fills, ignore_index=True).to_csv(target / FILLS_FILE, index=False)
    if figures:
        render_figures(target)
    return results


def render_figures(out: str | Path) -> list[Path]:
    """Re-render every cloze figure under ``out/figures`` from the stored tables only.

    Parameters
    ----------
    out
        A directory written by :func:`run_cloze`.

    Returns
    -------
    list of pathlib.Path
        The PDF and PNG files written.

    Examples
    --------
    >>> render_figures("runs/cloze")  # doctest: +SKIP
    """
    source = Path(out)
    written: list[Path] = []
    for directory in sorted(p.parent for p in source.glob("*/meta.json")):
        result = ClozeResult.load(directory)
        written += save_figure(result.plot(), source / "figures" / directory.name)
    if (source / FILLS_FILE).exists():
        table = pd.read_csv(source / FILLS_FILE, keep_default_na=False)
        fills = {template: part for template, part in table.groupby("template", sort=False)}
        written += save_figure(plot_fill_table(fills, top_k=int(table["rank"].max())), source / "figures" / "fills")
    return written
