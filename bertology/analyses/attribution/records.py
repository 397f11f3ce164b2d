"""Attribute a list of sentences: batched, with a progress bar, resumable, stored as JSONL records."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bertology.analyses.attribution.api import attribute
from bertology.analyses.attribution.classifier import Classifier
from bertology.analyses.attribution.methods import get_method, resolve_method
from bertology.analyses.attribution.result import AttributionResult
from bertology.core.distributed import barrier, rank_info
from bertology.core.errors import InputError
from bertology.core.progress import progress_bar

logger = logging.getLogger(__name__)

RESULTS_FILE = "attributions.jsonl"
RESULTS_GLOB = "attributions*.jsonl"


def _results_file(rank: int) -> str:
    return RESULTS_FILE if rank == 0 else f"attributions-rank{rank:03d}.jsonl"


def _parse_records(lines: list[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """The lines of a results file that hold a whole JSON record, and their records."""
    kept, records = [], []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
        kept.append(line)
    return kept, records


def _read_records(path: Path) -> list[dict[str, Any]]:
    return _parse_records(path.read_text(encoding="utf-8").splitlines())[1]


def load_attributions(out: str | Path) -> list[AttributionResult]:
    """Every result stored by :func:`attribute_texts` in ``out``, in sentence then method order.

    Parameters
    ----------
    out
        The directory :func:`attribute_texts` wrote into.

    Returns
    -------
    list of AttributionResult

    Raises
    ------
    InputError
        When ``out`` holds no ``attributions.jsonl``.

    Examples
    --------
    >>> import tempfile
    >>> load_attributions(tempfile.mkdtemp())  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: ...
    """
    files = sorted(Path(out).glob(RESULTS_GLOB))
    if not files:
        raise InputError(f"{Path(out) / RESULTS_FILE} does not exist: run attribute_texts "
                         f"(CLI: bertology attribute) into {out} first.")
    unique = {(r["index"], r["method"]): r for path in files for r in _read_records(path)}
    return [AttributionResult.from_dict(unique[key]["result"]) for key in sorted(unique)]


def _finished(path: Path) -> set[tuple[int, str]]:
    """(sentence index, method) pairs already stored; a line cut by an interruption is dropped from the file."""
    if not path.exists():
        return set()
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    kept, records = _parse_records(lines)
    for _ in range(len(lines) - len(kept)):
        logger.warning("%s: dropping an unfinished line from an interrupted run", path)
    if len(kept) != len(lines) or not text.endswith("\n"):
        path.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
    return {(int(record["index"]), record["method"]) for record in records}


def attribute_texts(clf: Classifier, texts: Sequence[str], out: str | Path,
                    methods: Sequence[str] = ("integrated_gradients", "lime"), target: str | int | None = None,
                    options: Mapping[str, Mapping[str, Any]] | None = None,
                    progress: bool = True) -> list[AttributionResult]:
    """Attribute every sentence with several methods; resumable.

    Each finished (sentence, method) result is appended at once as one line of
    ``out/attributions.jsonl``; a re-run skips those and does the rest. The
    perturbations of LIME and the interpolation steps of integrated gradients run in
    batches (see :func:`bertology.attribute`). Under ``torchrun`` / ``accelerate launch``
    rank ``r`` takes the sentences ``i`` with ``i % world_size == r`` and appends to its
    own file (``attributions-rank00r.jsonl``); every rank returns all results once all
    are done, and a re-run skips what any rank finished.

    Parameters
    ----------
    clf
        The classifier.
    texts
        The sentences.
    out
        Directory for ``attributions.jsonl``.
    methods
        Method names of :func:`bertology.methods` (``"integrated_gradients"``/``"ig"``, ``"lime"``, ...).
    target
        Label name, index, or ``None`` (each sentence's predicted class).
    options
        Per method, keyword options for :func:`bertology.attribute`, e.g.
        ``{"lime": {"num_samples": 1000, "seed": 0}}``.
    progress
        Show a progress bar.

    Returns
    -------
    list of AttributionResult
        All results in ``out`` (this run's and earlier ones').

    Raises
    ------
    InputError
        No sentences, an unknown method or an option a method does not take.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from tests.tiny_models import build_tiny_model
    >>> clf = Classifier.from_pretrained(str(build_tiny_model("bert", "classifier", pathlib.Path(tempfile.mkdtemp()))))
    >>> results = attribute_texts(clf, ["a fine film", "dull"], tempfile.mkdtemp(), methods=["lime"],
    ...                           options={"lime": {"num_samples": 20}}, progress=False)
    >>> [(r.text, r.method) for r in results]
    [('a fine film', 'lime'), ('dull', 'lime')]
    """
    if isinstance(texts, str):
        raise InputError("attribute_texts takes a list of sentences, not one string: wrap it as [text].")
    texts = list(texts)
    if not texts:
        raise InputError("No sentences to attribute: give at least one sentence.")
    names = [resolve_method(method) for method in methods]
    options = {resolve_method(key): dict(value) for key, value in (options or {}).items()}
    for name, value in options.items():
        get_method(name).check_options(value)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    info = rank_info()
    results_path = out / _results_file(info.rank)
    done = _finished(results_path)
    for other in out.glob(RESULTS_GLOB):
        if other != results_path:
            done.update((int(r["index"]), r["method"]) for r in _read_records(other))
    todo = [(i, name) for i in range(len(texts)) for name in names
            if (i, name) not in done and i % info.world_size == info.rank]
    if done:
        logger.info("%s: %d results already there, %d to go", results_path, len(done), len(todo))
    with open(results_path, "a", encoding="utf-8") as handle:
        for index, name in progress_bar(todo, desc="attribute", unit="explanation", progress=progress):
            result = attribute(clf, texts[index], method=name, target=target, **options.get(name, {}))
            handle.write(json.dumps({"index": index, "method": name, "result": result.to_dict()}) + "\n")
            handle.flush()
    barrier()
    return load_attributions(out)
