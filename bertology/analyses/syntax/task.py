"""The syntax task: structural probes, dependency heads in attention and edge probing from CoNLL-U files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bertology.analyses.syntax.dependency_heads import dependency_heads, save_dependency_head_figures
from bertology.analyses.syntax.edge_data import conllu_to_edges
from bertology.analyses.syntax.edge_probe import EdgeProbeResult, edge_probe, save_edge_probe_figures
from bertology.analyses.syntax.heads_result import DependencyHeads
from bertology.analyses.syntax.names import STRUCTURAL_KINDS, SYNTAX_ANALYSES
from bertology.analyses.syntax.structural import structural_probe
from bertology.analyses.syntax.structural_result import StructuralProbeResult, save_structural_figures
from bertology.core.data.conllu import Treebank, load_conllu
from bertology.core.errors import InputError
from bertology.core.extraction.extractor import parse_layers
from bertology.core.models import LoadedModel, load_model
from bertology.core.paths import check_output
from bertology.core.results import Result

HEADS_DIR = "dependency_heads"
EDGES_DIR = "edges"
VECTORS_DIR = "word_vectors"
SPANS_DIR = "span_vectors"


def structural_dir(kind: str) -> str:
    """The subdirectory of a syntax run holding the ``kind`` structural probe.

    Examples
    --------
    >>> structural_dir("depth")
    'structural_depth'
    """
    return f"structural_{kind}"


def _choose(values: Sequence[str], allowed: Sequence[str], name: str) -> tuple[str, ...]:
    chosen = tuple(values)
    unknown = [value for value in chosen if value not in allowed]
    if unknown or not chosen:
        raise InputError(f"{name}={list(values)!r}: choose one or more of {', '.join(allowed)}.")
    return chosen


def syntax_task(model: str | LoadedModel, train: str | Path | Treebank, out: str | Path, *,
                test: str | Path | Treebank | None = None, analyses: Sequence[str] = SYNTAX_ANALYSES,
                kinds: Sequence[str] = STRUCTURAL_KINDS, layers: str | int | Sequence[int] = "all",
                rank: int | Sequence[int] | None = None, pool: str = "word_mean", limit: int | None = None,
                batch_size: int = 32, seed: int = 0, device: str | None = None, figures: bool = True,
                progress: bool = True) -> dict[str, Result]:
    """Syntax in an encoder from Universal Dependencies files, every result saved under ``out``.

    Runs, as chosen by ``analyses``:

    * ``"structural"``: Hewitt & Manning (2019) structural probes of each kind in ``kinds``
      (:func:`~bertology.analyses.syntax.structural.structural_probe`) into
      ``out/structural_distance`` and ``out/structural_depth``; the word vectors are
      extracted once into ``out/word_vectors`` and shared by both kinds.
    * ``"heads"``: Clark et al. (2019) §4 dependency heads in attention
      (:func:`~bertology.analyses.syntax.dependency_heads.dependency_heads`) on the test
      treebank (the train treebank when there is none) into ``out/dependency_heads``.
    * ``"edges"``: Tenney et al. (2019) edge probing of dependency labels with a scalar mix
      (:func:`~bertology.analyses.syntax.edge_probe.edge_probe`; the treebanks converted with
      :func:`~bertology.analyses.syntax.edge_data.conllu_to_edges`) into ``out/edges``.

    Per-word tag probes (UPOS, XPOS, DEPREL) with control tasks are the probe analysis on
    a word task: ``bt.probe_task(model, "upos", out, input=train)``.

    Parameters
    ----------
    model
        A model name or path (loaded with :func:`bertology.load_model`), or a loaded model.
    train
        A CoNLL-U file (or a read :class:`~bertology.core.data.conllu.Treebank`) to train on.
    out
        Output directory.
    test
        A CoNLL-U file to score on; without it the analyses hold out part of ``train``.
    analyses
        Any of ``"structural"``, ``"heads"``, ``"edges"``.
    kinds
        Structural probes: ``"distance"`` and/or ``"depth"``.
    layers
        Hidden states to probe (``"all"``, ``6``, ``"0,3,6"``, ``"2-4"``); dependency heads
        always read every attention layer.
    rank
        Structural probe rank (``None``: the hidden size) or several ranks for a sweep.
    pool
        Word vector from its pieces: ``"word_mean"`` or ``"word_first"``.
    limit
        Read at most this many sentences of each file.
    batch_size
        Sentences per forward pass.
    seed
        Seed of probe initialisation and of held-out splits.
    device
        Device for a model given by name.
    figures
        Render the figures into ``out/figures`` (see :func:`save_syntax_figures`).
    progress
        Show progress bars.

    Returns
    -------
    dict of str to Result
        The results by subdirectory name.

    Raises
    ------
    InputError
        For an unknown analysis or kind, an unreadable CoNLL-U file or an output that
        cannot be written; all checked before the model loads.

    Examples
    --------
    >>> results = syntax_task("minilm", "bertology/core/data/shipped/ud_sample.conllu", "runs/syntax",
    ...                       analyses=["heads"])  # doctest: +SKIP
    >>> results["dependency_heads"].to_frame().head()  # doctest: +SKIP
    """
    analyses = _choose(analyses, SYNTAX_ANALYSES, "analyses")
    kinds = _choose(kinds, STRUCTURAL_KINDS, "kinds")
    if pool not in ("word_mean", "word_first"):
        raise InputError(f"pool={pool!r}: a word vector is the mean ('word_mean') or the first ('word_first') of "
                         "its pieces.")
    if isinstance(layers, str):
        parse_layers(layers)
    train_set = train if isinstance(train, Treebank) else load_conllu(train, limit=limit)
    test_set = test if test is None or isinstance(test, Treebank) else load_conllu(test, limit=limit)
    directory = check_output(out)
    model = model if isinstance(model, LoadedModel) else load_model(model, device=device)
    results: dict[str, Result] = {}
    if "structural" in analyses:
        for kind in kinds:
            results[structural_dir(kind)] = structural_probe(
                model, train_set, test=test_set, kind=kind, layers=layers, rank=rank, pool=pool, seed=seed,
                out=directory / VECTORS_DIR, batch_size=batch_size, progress=progress, device=device)
    if "heads" in analyses:
        results[HEADS_DIR] = dependency_heads(model, test_set if test_set is not None else train_set,
                                              batch_size=batch_size, device=device, progress=progress)
    if "edges" in analyses:
        results[EDGES_DIR] = edge_probe(model, conllu_to_edges(train_set, task="dep"),
                                        None if test_set is None else conllu_to_edges(test_set, task="dep"),
                                        layers=layers, batch_size=batch_size, store=directory / SPANS_DIR,
                                        device=device, seed=seed, progress=progress)
    for name, result in results.items():
        result.save(directory / name)
    if figures:
        save_syntax_figures(directory)
    return results


def save_syntax_figures(out: str | Path) -> list[Path]:
    """Render the figures of a :func:`syntax_task` output from its saved results into ``out/figures``.

    ``structural_distance`` / ``structural_depth`` (UUAS and DSpr., or root accuracy and
    NSpr., by layer with the baselines) and their ``_tree`` figures, ``dependency_heads``
    (best head per relation beside the positional baseline) and ``edge_probe`` (F1, Δ and
    mix weights by layer), each as PDF and PNG, for the analyses that were run.

    Examples
    --------
    >>> import tempfile
    >>> save_syntax_figures(tempfile.mkdtemp())
    []
    """
    directory = Path(out)
    written: list[Path] = []
    for kind in STRUCTURAL_KINDS:
        if (directory / structural_dir(kind)).is_dir():
            written += save_structural_figures(StructuralProbeResult.load(directory / structural_dir(kind)), directory)
    if (directory / HEADS_DIR).is_dir():
        written += save_dependency_head_figures(DependencyHeads.load(directory / HEADS_DIR), directory)
    if (directory / EDGES_DIR).is_dir():
        written += save_edge_probe_figures(EdgeProbeResult.load(directory / EDGES_DIR), directory)
    return written
