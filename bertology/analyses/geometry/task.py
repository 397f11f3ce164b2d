"""``geometry_task``: a CoarseWSD-20 word's sense projection, similarity across contexts and Ethayarajh's measures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from bertology.analyses.geometry.ethayarajh import ethayarajh_measures
from bertology.analyses.geometry.projection import project_layers
from bertology.analyses.geometry.similarity import context_similarity
from bertology.core.data.loaders import load_dataset
from bertology.core.extraction import extract
from bertology.core.models import LoadedModel, load_model
from bertology.core.paths import check_output
from bertology.core.results import Result
from bertology.core.viz import save_figure

FIGURES = {"projection": "projection", "similarity": "similarity_by_layer", "ethayarajh": "ethayarajh"}
"""Figure file name (under ``out/figures``) of each result of :func:`geometry_task`."""


def save_geometry_figures(results: Mapping[str, Result], out: str | Path) -> list[Path]:
    """Write the figure of each result of :func:`geometry_task` into ``out/figures`` (names in :data:`FIGURES`).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from bertology.analyses.geometry import EthayarajhResult
    >>> t = pd.DataFrame({"layer": [0, 0], "measure": ["self_similarity", "anisotropy"], "raw": [.5, .3],
    ...                   "baseline": [.3, .3], "adjusted": [.2, 0.]})
    >>> [p.name for p in save_geometry_figures({"ethayarajh": EthayarajhResult(t)}, tempfile.mkdtemp())]
    ['ethayarajh.pdf', 'ethayarajh.png']
    """
    written = []
    for name, result in results.items():
        written += save_figure(result.plot(), Path(out) / "figures" / FIGURES[name])
    return written


def geometry_task(model: str | LoadedModel, out: str | Path, *, input: str | Path | None = None,
                  word: str | None = "apple", layers: str | int | Sequence[int] = "all", method: str = "pca",
                  ethayarajh: bool = True, n_pairs: int = 1000, seed: int = 0, batch_size: int = 32,
                  device: str | None = None, figures: bool = True, progress: bool = True) -> dict[str, Result]:
    """How a CoarseWSD-20 word's vectors change by layer: sense projection, similarity, contextuality.

    The word's vectors (mean of its word-pieces) are extracted once at every requested
    layer and projected to 2-D (:func:`project_layers`), compared across same- and
    different-sense contexts against the static input embedding
    (:func:`context_similarity`), and, with ``ethayarajh``, every word of the sentences is
    measured for self-similarity, intra-sentence similarity and anisotropy
    (:func:`ethayarajh_measures`). Each result is saved into its own directory under
    ``out``: ``projection``, ``similarity`` and ``ethayarajh``.

    Parameters
    ----------
    model
        Model name, path, ``"minilm"``, or a loaded model.
    out
        Output directory: one subdirectory per result and ``figures/``.
    input
        CoarseWSD-20 root (the folder of the word folders); ``None`` uses the shipped sample.
    word
        CoarseWSD-20 word (``None``: every word under ``input``).
    layers
        Hidden states (``"all"``, ``6``, ``"0,3,6"``...).
    method
        Projection: ``"pca"`` or ``"umap"``.
    ethayarajh
        Also compute Ethayarajh's (2019) measures.
    n_pairs
        Random word pairs of the anisotropy baseline.
    seed
        Seed of UMAP and of the anisotropy pairs.
    batch_size
        Sentences per forward pass.
    device
        Device for a model given by name.
    figures
        Also render the figures into ``out/figures``.
    progress
        Show progress bars.

    Returns
    -------
    dict of str to Result
        ``{"projection": ProjectionResult, "similarity": SimilarityResult}`` and, with
        ``ethayarajh``, ``"ethayarajh": EthayarajhResult``.

    Raises
    ------
    InputError
        Unreadable data or an ``out`` that cannot be written, before the model loads.

    Examples
    --------
    >>> import tempfile
    >>> r = geometry_task("minilm", tempfile.mkdtemp(), word="bat", layers="0,6", n_pairs=200, figures=False,
    ...                   progress=False)
    >>> sorted(r), sorted(r["projection"].coords)
    (['ethayarajh', 'projection', 'similarity'], [0, 6])
    """
    dataset = load_dataset("coarsewsd20", input, word)
    directory = check_output(out)
    loaded = model if isinstance(model, LoadedModel) else load_model(model, device=device)
    vectors = extract(loaded, dataset.texts, layers=layers, pool="word_mean", words=dataset.words,
                      batch_size=batch_size, progress=progress)
    results: dict[str, Result] = {
        "projection": project_layers(vectors, dataset, method=method, seed=seed, batch_size=batch_size,
                                     progress=progress),
        "similarity": context_similarity(loaded, dataset, batch_size=batch_size, progress=progress, features=vectors),
    }
    if ethayarajh:
        results["ethayarajh"] = ethayarajh_measures(loaded, dataset.texts, layers, n_pairs=n_pairs, seed=seed,
                                                    batch_size=batch_size, progress=progress)
    for name, result in results.items():
        result.save(directory / name)
    if figures:
        save_geometry_figures(results, directory)
    return results
