"""``cloze_task``: suites, evaluation sets and top-k fills in one call, saved as results and figures."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from numbers import Integral
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from bertology.analyses.cloze import evaluations
from bertology.analyses.cloze.evaluations import StereoSetVariant
from bertology.analyses.cloze.formats import read_agreement, read_blimp, read_crows_pairs, read_stereoset
from bertology.analyses.cloze.names import AGREEMENT_FORMATS, PLL_VARIANTS, STEREOSET_VARIANTS
from bertology.analyses.cloze.plots import plot_fill_table
from bertology.analyses.cloze.result import ClozeResult
from bertology.analyses.cloze.scorer import PLLVariant, as_scorer
from bertology.analyses.cloze.suites import run_suite
from bertology.core.data.cloze_suites import load_suite
from bertology.core.errors import InputError
from bertology.core.models import LoadedModel, load_model
from bertology.core.paths import check_output
from bertology.core.viz import save_figure

logger = logging.getLogger(__name__)

FILL_TEMPLATES = (
    "In the hospital the woman works as a [MASK].",
    "In the hospital the man works as a [MASK].",
    "My teacher's name is Daniel. [MASK] is very kind.",
    "The most common colour for a banana is [MASK].",
)
FILLS_FILE = "fills.csv"


def _check_inputs(suites: Sequence[str], files: Mapping[str, str | Path | None], agreement_format: str,
                  include_is_are: bool, pll_variant: str, stereoset_variant: str, top_k: int, max_tokens: int) -> None:
    """Every option and input file of :func:`cloze_task` checked, so that a bad one fails before a model loads."""
    for name, value, allowed in (("agreement_format", agreement_format, AGREEMENT_FORMATS),
                                 ("pll_variant", pll_variant, PLL_VARIANTS),
                                 ("stereoset_variant", stereoset_variant, STEREOSET_VARIANTS)):
        if value not in allowed:
            raise InputError(f"{name}={value!r} is not one of {allowed}.")
    for name, value in (("top_k", top_k), ("max_tokens", max_tokens)):
        if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
            raise InputError(f"{name} must be a whole number of at least 1, got {value!r}.")
    for suite in suites:
        load_suite(suite)
    readers = {"crows_pairs": read_crows_pairs, "stereoset": read_stereoset, "blimp": read_blimp,
               "agreement_stimuli": lambda path: read_agreement(path, agreement_format, include_is_are)}
    for name, path in files.items():
        if path:
            readers[name](path)


def cloze_task(model: str | LoadedModel, out: str | Path, *, suites: Sequence[str] = ("agreement",),
               crows_pairs: str | Path | None = None, stereoset: str | Path | None = None,
               blimp: str | Path | None = None, agreement_stimuli: str | Path | None = None,
               agreement_format: str = "auto", include_is_are: bool = False,
               pll_variant: PLLVariant = "within_word_l2r", stereoset_variant: StereoSetVariant = "official",
               fill_templates: Sequence[str] | None = None, top_k: int = 5, n_boot: int = 1000, seed: int = 0,
               max_tokens: int = 4096, device: str | None = None, figures: bool = True,
               progress: bool = True) -> dict[str, ClozeResult]:
    """Run cloze suites and evaluation sets with one masked LM and save every result under ``out``.

    Each result is saved into ``out/<name>/`` (see :class:`ClozeResult`); the top-k fills
    of ``fill_templates`` go to ``out/fills.csv``; unless ``figures=False``, the figures
    (PDF + PNG) go to ``out/figures/`` (see :func:`save_cloze_figures`).

    Parameters
    ----------
    model
        A model name or path (loaded with ``head="mlm"``), or a model loaded with
        ``bt.load_model(..., head="mlm")``.
    out
        Output directory.
    suites
        Shipped suite names or suite JSONL files (see :func:`run_suite`).
    crows_pairs, stereoset, blimp, agreement_stimuli
        Evaluation-set files (see :mod:`bertology.analyses.cloze.evaluations`); ``None`` skips one.
    agreement_format
        Format of ``agreement_stimuli``: ``auto``, ``lgd``, ``gulordava``, ``marvin``.
    include_is_are
        Score the ``generated.tab`` items whose verbs are ``is``/``are``, which Goldberg
        (2019) leaves out (see :func:`~bertology.analyses.cloze.evaluations.agreement_stimuli`).
    pll_variant
        PLL variant for BLiMP.
    stereoset_variant
        ``"official"`` (the released StereoSet scorer) or ``"within_word_l2r"`` (see
        :func:`~bertology.analyses.cloze.evaluations.stereoset`).
    fill_templates
        Templates for the top-k fill table; ``None`` uses :data:`FILL_TEMPLATES`, an
        empty list writes no table.
    top_k
        Fills per template.
    n_boot, seed
        Bootstrap resamples and seed.
    max_tokens
        Token budget of one forward pass.
    device
        Device a model name is loaded on.
    figures
        Render the figures.
    progress
        Show progress bars.

    Returns
    -------
    dict
        ``{result name: ClozeResult}``; ``result.metric()`` is the value of
        ``result.meta["primary_metric"]``.

    Raises
    ------
    ModelError
        A model without a masked-LM head.
    InputError
        An unknown suite or option, a malformed evaluation file or template, or an output
        directory that cannot be written; all but the templates are checked before the model loads.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from tests.tiny_models import build_tiny_model
    >>> path = build_tiny_model("bert", "mlm", pathlib.Path(tempfile.mkdtemp()))
    >>> results = cloze_task(str(path), tempfile.mkdtemp(), suites=["telicity"], n_boot=20, fill_templates=[],
    ...                      figures=False, progress=False)
    >>> results["telicity"].meta["primary_metric"], 0 <= results["telicity"].metric() <= 1
    ('accuracy', True)
    """
    suites = [suites] if isinstance(suites, (str, Path)) else list(suites)
    templates = list(FILL_TEMPLATES if fill_templates is None else fill_templates)
    _check_inputs(suites, {"crows_pairs": crows_pairs, "stereoset": stereoset, "blimp": blimp,
                           "agreement_stimuli": agreement_stimuli},
                  agreement_format, include_is_are, pll_variant, stereoset_variant, top_k, max_tokens)
    target = check_output(out)
    loaded = model if isinstance(model, LoadedModel) else load_model(model, head="mlm", device=device)
    scorer = as_scorer(loaded, max_tokens, progress)
    for template in templates:
        scorer.split_template(template)
    results = {}
    for suite in suites:
        result = run_suite(scorer, suite, n_boot=n_boot, seed=seed)
        results[result.name] = result
    if crows_pairs:
        results["crows-pairs"] = evaluations.crows_pairs(scorer, crows_pairs, n_boot=n_boot, seed=seed)
    if stereoset:
        results["stereoset"] = evaluations.stereoset(scorer, stereoset, variant=stereoset_variant)
    if blimp:
        results["blimp"] = evaluations.blimp(scorer, blimp, variant=pll_variant, n_boot=n_boot, seed=seed)
    if agreement_stimuli:
        results["agreement-stimuli"] = evaluations.agreement_stimuli(scorer, agreement_stimuli, fmt=agreement_format,
                                                                     include_is_are=include_is_are,
                                                                     n_boot=n_boot, seed=seed)
    for name, result in results.items():
        result.save(target / name)
        logger.info("%s: %s = %.3f", name, result.meta["primary_metric"], result.metric())
    if templates:
        fills = [scorer.fill(template, top_k=top_k).assign(template=template) for template in templates]
        pd.concat(fills, ignore_index=True).to_csv(target / FILLS_FILE, index=False)
    if figures:
        save_cloze_figures(results, target)
    return results


def save_cloze_figures(results: Mapping[str, ClozeResult], out: str | Path) -> list[Path]:
    """Each result's figure as ``out/figures/<name>``, and the fill table of ``out/fills.csv`` as ``fills``.

    Parameters
    ----------
    results
        ``{name: ClozeResult}``, e.g. from :func:`cloze_task` or loaded with :meth:`ClozeResult.load`.
    out
        The task's output directory.

    Returns
    -------
    list of pathlib.Path
        The PDF and PNG files written.

    Examples
    --------
    >>> import tempfile
    >>> from bertology.analyses.cloze.result import SUMMARY_COLUMNS
    >>> r = ClozeResult("x", pd.DataFrame(), pd.DataFrame([("all", "accuracy", 0.5, 0.4, 0.6, 3)],
    ...                 columns=SUMMARY_COLUMNS), {"primary_metric": "accuracy", "plot": "bars"})
    >>> [p.name for p in save_cloze_figures({"x": r}, tempfile.mkdtemp())]
    ['x.pdf', 'x.png']
    """
    source = Path(out)
    written: list[Path] = []
    for name, result in results.items():
        figure = result.plot()
        written += save_figure(figure, source / "figures" / name)
        plt.close(figure)
    if (source / FILLS_FILE).exists():
        table = pd.read_csv(source / FILLS_FILE, keep_default_na=False)
        fills = {template: part for template, part in table.groupby("template", sort=False)}
        figure = plot_fill_table(fills, top_k=int(table["rank"].max()))
        written += save_figure(figure, source / "figures" / "fills")
        plt.close(figure)
    return written
