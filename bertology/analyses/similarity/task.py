"""The similarity task: a layer × layer similarity matrix of one model, two models or two stores, with figures."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bertology.analyses.similarity.api import check_similarity_arguments, is_store, similarity
from bertology.analyses.similarity.result import SimilarityMatrix
from bertology.core.data import column, find_text_column, read_table
from bertology.core.errors import InputError
from bertology.core.extraction import ActivationStore
from bertology.core.models import LoadedModel
from bertology.core.paths import check_output
from bertology.core.viz import save_figure

RESULT_DIR = "similarity"
FIGURES_DIR = "figures"

Source = str | Path | LoadedModel | ActivationStore


def similarity_task(model_a: Source, model_b: Source | None, input: str | Path | Sequence[str] | None,
                    out: str | Path, *, metric: str = "linear_cka", layers: str | int | Sequence[int] = "all",
                    pool: str = "all_words", text_column: str | None = None, format: str = "auto",
                    batch_size: int = 32, minibatch: int = 1024, seed: int = 0, device: str | None = None,
                    figures: bool = True, progress: bool = True) -> SimilarityMatrix:
    """Layer × layer similarity of one model, two models or two stores (CKA, SVCCA, PWCCA...), saved under ``out``.

    Writes ``out/similarity`` (the :class:`SimilarityMatrix`, its tidy table
    ``table.csv`` inside) and, unless ``figures=False``, ``out/figures/similarity`` (the
    heatmap) and, for two different models or stores, ``out/figures/similarity_diagonal``
    (the same layer of both, Merchant et al. 2020), each as PDF and PNG.

    Parameters
    ----------
    model_a, model_b
        Models (names, paths or loaded) or activation stores (or their directories);
        ``model_b=None`` compares ``model_a``'s layers with each other.
    input
        For models: a TXT (one sentence a line), TSV/CSV with header or JSONL file, or a
        list of sentences. For stores: ``None``.
    out
        Output directory.
    metric, layers, pool, batch_size, minibatch, seed, device, progress
        As in :func:`~bertology.analyses.similarity.api.similarity`.
    text_column
        Column of the file holding the sentences; default ``sentence`` if present, else ``text``.
    format
        File format: ``auto`` (from the suffix), ``tsv``, ``csv``, ``jsonl``, ``txt``.
    figures
        Render the figures.

    Returns
    -------
    SimilarityMatrix
        Reload it with ``SimilarityMatrix.load(out / "similarity")``.

    Raises
    ------
    InputError
        A bad metric, pooling, layers, batch or minibatch size, a missing or unreadable
        input, an input with stores or none with models, or an ``out`` that cannot be
        written; all before any model loads.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> sim = similarity_task("minilm", None, ["The bank is closed.", "It rained all day."], out, layers="0-2",
    ...                       progress=False)
    >>> SimilarityMatrix.load(out / "similarity").values.shape
    (3, 3)
    >>> sorted(p.name for p in (out / "figures").glob("*.pdf"))
    ['similarity.pdf']
    """
    check_similarity_arguments(metric, layers, pool, batch_size, minibatch)
    stores = is_store(model_a)
    if stores and input is not None:
        raise InputError("The input sentences are for models: stores already hold their activations, so give no "
                         "input (CLI: leave --input out).")
    if not stores and input is None:
        raise InputError("Comparing models needs input sentences: give a TXT/TSV/CSV/JSONL file (CLI: --input FILE).")
    if isinstance(input, (str, Path)):
        rows = read_table(input, format)
        texts = column(rows, find_text_column(rows, text_column), input)
    else:
        texts = input
    directory = check_output(out)
    result = similarity(model_a, model_b, texts=None if stores else list(texts), metric=metric, layers=layers,
                        pool=pool, batch_size=batch_size, minibatch=minibatch, seed=seed, device=device,
                        progress=progress)
    result.save(directory / RESULT_DIR)
    if figures:
        save_similarity_figures(directory)
    return result


def save_similarity_figures(out: str | Path) -> list[Path]:
    """Render the figures of a :func:`similarity_task` output from its saved result.

    Writes ``out/figures/similarity`` (:meth:`SimilarityMatrix.plot`) and, when two
    different models or stores were compared, ``out/figures/similarity_diagonal``
    (:meth:`SimilarityMatrix.plot_diagonal`), each as PDF and PNG.

    Parameters
    ----------
    out
        The output directory of :func:`similarity_task`.

    Returns
    -------
    list of pathlib.Path
        The written files.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> m = SimilarityMatrix.from_values(np.eye(2), [0, 1], [0, 1], "linear_cka", {"within": False})
    >>> _ = m.save(out / RESULT_DIR)
    >>> [p.name for p in save_similarity_figures(out)]
    ['similarity.pdf', 'similarity.png', 'similarity_diagonal.pdf', 'similarity_diagonal.png']
    """
    directory = Path(out)
    result = SimilarityMatrix.load(directory / RESULT_DIR)
    written = save_figure(result.plot(), directory / FIGURES_DIR / "similarity")
    if not result.meta.get("within", True) and not result.diagonal().empty:
        written += save_figure(result.plot_diagonal(), directory / FIGURES_DIR / "similarity_diagonal")
    return written
