"""The attention tasks: head statistics over a corpus with an example sentence, and one HTML head view."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bertology.analyses.attention.head_view import VIEWS, HeadView, NeuronView, head_view
from bertology.analyses.attention.rollout import AttentionMaps, rollout
from bertology.analyses.attention.sentence import SentenceAttention
from bertology.analyses.attention.stats import AttentionStats, attention_stats, check_average
from bertology.core.data import column, find_text_column, read_table
from bertology.core.errors import InputError
from bertology.core.models import LoadedModel, load_model
from bertology.core.paths import check_output
from bertology.core.viz import save_figure

STATS_DIR = "stats"
EXAMPLE_DIR = "example"
ROLLOUT_DIR = "rollout"
HEAD_VIEW_FILE = "head_view.html"
FIGURES_DIR = "figures"


def _model(model: str | LoadedModel, device: str | None) -> LoadedModel:
    return model if isinstance(model, LoadedModel) else load_model(model, device=device)


def _check_text(text: object, name: str, text_b: object = None) -> None:
    """``text`` (and ``text_b`` unless it is ``None``) must be strings with a visible character."""
    for key, value in ((name, text), (f"{name}_b", text_b)):
        if value is None and key != name:
            continue
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{key} = {value!r} is empty: give a sentence with at least one word.")


def attention_task(model: str | LoadedModel, input: str | Path | Sequence[str], out: str | Path, *,
                   text_column: str | None = None, format: str = "auto", batch_size: int = 32,
                   truncate: bool = False, average: str = "sentence", example_text: str | None = None,
                   example_text_b: str | None = None, device: str | None = None, figures: bool = True,
                   progress: bool = True) -> AttentionStats:
    """Clark et al. (2019) head statistics over a corpus, and the attention of one example, saved under ``out``.

    Writes ``out/stats`` (the :class:`AttentionStats`, its tidy table ``head_stats.csv``
    inside). With ``example_text`` also ``out/example`` (the example's
    :class:`SentenceAttention`), ``out/rollout`` (its rollout as :class:`AttentionMaps`)
    and ``out/head_view.html`` (the interactive view of every head). Figures (PDF + PNG)
    go to ``out/figures``: ``head_stats``, and with an example ``attention_grid`` and
    ``rollout`` (see :func:`save_attention_figures`).

    Parameters
    ----------
    model
        A model name or path (loaded with :func:`bertology.load_model`), or a loaded model.
    input
        A TXT (one sentence a line), TSV/CSV with header or JSONL file, or a list of sentences.
    out
        Output directory.
    text_column
        Column of the file holding the sentences; default ``sentence`` if present, else ``text``.
    format
        File format: ``auto`` (from the suffix), ``tsv``, ``csv``, ``jsonl``, ``txt``.
    batch_size
        Sentences per forward pass.
    truncate
        Cut sentences longer than the model allows instead of raising.
    average
        ``"sentence"`` (default, as in Clark et al.'s released code) or ``"token"``; see
        :func:`~bertology.analyses.attention.stats.attention_stats`.
    example_text, example_text_b
        The example sentence, and the second sentence when the example is a pair; no
        example when ``example_text`` is ``None``.
    device
        Device for a model given by name.
    figures
        Render the figures.
    progress
        Show a progress bar.

    Returns
    -------
    AttentionStats
        Reload it with ``AttentionStats.load(out / "stats")``.

    Raises
    ------
    InputError
        A missing or empty input, an empty or over-long sentence (unless ``truncate``),
        an unknown ``average``, a blank example, ``example_text_b`` without
        ``example_text``, or an ``out`` that cannot be written; all before the model loads.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> stats = attention_task("minilm", ["The bank is closed.", "It rained, so we stayed in."], out,
    ...                        example_text="The bank is closed.", progress=False)
    >>> stats.n_sentences, AttentionStats.load(out / "stats").shape
    (2, (6, 12))
    >>> sorted(p.name for p in (out / "figures").glob("*.pdf"))
    ['attention_grid.pdf', 'head_stats.pdf', 'rollout.pdf']
    """
    check_average(average)
    if example_text_b and not example_text:
        raise InputError("example_text_b is the second sentence of a pair: give example_text as well.")
    if example_text:
        _check_text(example_text, "example_text", example_text_b or None)
    if isinstance(input, (str, Path)):
        rows = read_table(input, format)
        texts = column(rows, find_text_column(rows, text_column), input)
    else:
        texts = input
    directory = check_output(out)
    loaded = _model(model, device)
    stats = attention_stats(loaded, texts, batch_size=batch_size, truncate=truncate, average=average,
                            progress=progress)
    stats.save(directory / STATS_DIR)
    if example_text:
        view = head_view(loaded, (example_text, example_text_b) if example_text_b else example_text)
        view.attention.save(directory / EXAMPLE_DIR)
        AttentionMaps(view.attention.tokens, rollout(view.attention.patterns), "rollout").save(directory / ROLLOUT_DIR)
        view.save_html(directory / HEAD_VIEW_FILE)
    if figures:
        save_attention_figures(directory)
    return stats


def save_attention_figures(out: str | Path) -> list[Path]:
    """Render the figures of an :func:`attention_task` output from its saved results.

    Writes ``out/figures/head_stats`` (:meth:`AttentionStats.plot`) and, where an example
    was saved, ``out/figures/attention_grid`` (:meth:`SentenceAttention.plot`) and
    ``out/figures/rollout`` (:meth:`AttentionMaps.plot`), each as PDF and PNG.

    Parameters
    ----------
    out
        The output directory of :func:`attention_task`.

    Returns
    -------
    list of pathlib.Path
        The written files.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from bertology.analyses.attention.stats import STATISTICS
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> _ = AttentionStats({k: np.zeros((2, 3)) for k in STATISTICS}, 1, 4).save(out / STATS_DIR)
    >>> [p.name for p in save_attention_figures(out)]
    ['head_stats.pdf', 'head_stats.png']
    """
    directory = Path(out)
    target = directory / FIGURES_DIR
    written = save_figure(AttentionStats.load(directory / STATS_DIR).plot(), target / "head_stats")
    if (directory / EXAMPLE_DIR).is_dir():
        written += save_figure(SentenceAttention.load(directory / EXAMPLE_DIR).plot(), target / "attention_grid")
        written += save_figure(AttentionMaps.load(directory / ROLLOUT_DIR).plot(), target / "rollout")
    return written


def head_view_task(model: str | LoadedModel, text: str, out: str | Path, *, text_b: str | None = None,
                   view: str = "head", device: str | None = None) -> HeadView | NeuronView:
    """Write the interactive head view (or neuron view) of a sentence or pair to one self-contained HTML file.

    Parameters
    ----------
    model
        A model name or path (loaded with :func:`bertology.load_model`), or a loaded model.
    text
        The sentence, or the first sentence of a pair.
    out
        The HTML file to write.
    text_b
        The second sentence of a pair.
    view
        ``"head"`` (every layer and head, with a word-level toggle) or ``"neuron"`` (the
        query · key breakdown of a chosen layer, head and query token, as bertviz's neuron view).
    device
        Device for a model given by name.

    Returns
    -------
    HeadView or NeuronView
        The view written to ``out``.

    Raises
    ------
    InputError
        An empty ``text`` or ``text_b``, an unknown ``view``, or an ``out`` that is a
        directory or cannot be written; all before the model loads.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "view.html"
    >>> head_view_task("minilm", "Is it open?", out, text_b="Yes.").attention.is_pair, out.is_file()
    (True, True)
    """
    _check_text(text, "text", text_b)
    if view not in VIEWS:
        raise InputError(f"view={view!r}: choose one of {', '.join(VIEWS)}.")
    path = check_output(out, kind="file")
    result = head_view(_model(model, device), text if text_b is None else (text, text_b), view=view)
    result.save_html(path)
    return result
