"""Re-render every figure of a stored run from its result files; no model is loaded."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path

from bertology.core.errors import BertologyError, StoreError
from bertology.core.paths import check_output
from bertology.experiments.cache import FIGURES_DIR, read_marker, render_step_figures, write_marker
from bertology.experiments.compare import combined_figures
from bertology.experiments.config import COMPARE_DIR, model_slug
from bertology.experiments.registry import STEPS
from bertology.experiments.results import Run, StepResult

logger = logging.getLogger(__name__)


def _finished(stored: Run) -> list[tuple[str, StepResult, Callable[[Path], list[str]], dict]]:
    """The finished steps of a run, verified, with the function that draws each one's figures."""
    several = bool(stored.models)
    finished = []
    for name, result in stored.results.items():
        if result.status not in ("done", "cached"):
            continue
        kind = stored.manifest["steps"][name].get("kind", name)
        if kind not in STEPS:
            raise StoreError(f"Run {stored.directory} has results of step {kind!r}, which this bertology does not "
                             f"know (known: {', '.join(sorted(STEPS))}).")
        marker = read_marker(result.directory)
        if marker is None or marker.get("status") != "done":
            raise StoreError(f"Step {name!r} of {stored.directory} has no finished results: run the experiment again.")
        result.verify()
        check_output(result.directory / FIGURES_DIR, kind="directory")
        if several:
            draw = functools.partial(combined_figures, kind)
        else:
            draw = functools.partial(render_step_figures, STEPS[kind])
        finished.append((name, result, draw, marker))
    return finished


def render_run_figures(run: str | Path) -> dict[str, list[Path]]:
    """Regenerate the figures of every finished step of a run (vector PDF + PNG).

    Each step's ``figures(out)`` reads only that step's stored tables and arrays. In a
    multi-model run, each model's run is redrawn (keys ``<model slug>/<step>``) and so is
    each step's comparison figure from its combined table (keys ``compare/<step>``).

    Parameters
    ----------
    run
        The run directory (the config's ``out``).

    Returns
    -------
    dict
        ``{step: [written files]}`` for steps that have results (skipped steps are left out).

    Raises
    ------
    StoreError
        When ``run`` is not a run or its manifest is damaged, or a step is unknown or its
        results are missing, truncated, changed or unreadable; nothing is drawn then.
    InputError
        When a step's figures directory cannot be written.

    Examples
    --------
    >>> render_run_figures("runs/quickstart")  # doctest: +SKIP
    {'probe': [PosixPath('runs/quickstart/probe/figures/accuracy_by_layer.pdf'), ...], ...}
    """
    import bertology.experiments.steps  # noqa: F401  (registers every step)

    stored = Run.load(run)
    todo = []
    for name, model_run in stored.model_runs().items():
        todo += [(f"{model_slug(name)}/{step}", *rest) for step, *rest in _finished(model_run)]
    prefix = f"{COMPARE_DIR}/" if stored.models else ""
    todo += [(f"{prefix}{step}", *rest) for step, *rest in _finished(stored)]
    written: dict[str, list[Path]] = {}
    for name, result, draw, marker in todo:
        try:
            names = draw(result.directory)
        except BertologyError:
            raise
        except (OSError, ValueError, KeyError) as error:
            raise StoreError(f"The stored results of step {name!r} in {result.directory} cannot be drawn "
                             f"({type(error).__name__}: {error}): run the experiment again to recompute the "
                             f"step.") from None
        write_marker(result.directory, {**marker, FIGURES_DIR: names})
        logger.info("%s: %d figure files", name, len(names))
        written[name] = [result.directory / figure for figure in names]
    return written
