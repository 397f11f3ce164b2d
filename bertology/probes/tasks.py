"""Named probing tasks (CoarseWSD-20, SST-2, any label table) run end to end into a directory."""

from __future__ import annotations

from pathlib import Path

from bertology.data.loaders import ProbeDataset, load_coarsewsd20, load_sst2, load_table_dataset
from bertology.errors import InputError
from bertology.models import LoadedModel, load_model
from bertology.probes.result import ProbeResult
from bertology.probes.runner import probe_layers
from bertology.viz import save_figure

TASKS = ("coarsewsd20", "sst2", "table")


def load_task(task: str, data: str | Path | None = None, word: str | None = None, text_column: str = "sentence",
              label_column: str = "label", word_column: str | None = None) -> ProbeDataset:
    """The dataset of a named task.

    Parameters
    ----------
    task
        ``coarsewsd20`` (``data`` = dataset root, ``word`` one word or None for all),
        ``sst2`` (``data`` = the TSV) or ``table`` (``data`` = any TSV/CSV/JSONL).
    data
        Path; ``None`` uses the sample shipped with bertology (not for ``table``).
    word
        CoarseWSD-20 word.
    text_column, label_column, word_column
        Columns of a ``table`` task.

    Returns
    -------
    ProbeDataset

    Examples
    --------
    >>> len(load_task("coarsewsd20", word="bank"))
    40
    """
    if task == "coarsewsd20":
        return load_coarsewsd20(word, root=data)
    if task == "sst2":
        return load_sst2(data)
    if task == "table":
        if data is None:
            raise InputError("task 'table' needs a data file: pass data=PATH (CLI: --data PATH).")
        return load_table_dataset(data, text_column, label_column, word_column)
    raise InputError(f"Unknown probing task {task!r}: choose one of {', '.join(TASKS)}.")


def save_probe_figures(result: ProbeResult, out: str | Path) -> list[Path]:
    """Write the layer curves (accuracy, macro-F1, MDL if present) and selectivity into ``out/figures``.

    Examples
    --------
    >>> save_probe_figures(ProbeResult.load("runs/wsd"), "runs/wsd")  # doctest: +SKIP
    """
    figures = Path(out) / "figures"
    metrics = set(result.to_frame()["metric"])
    written = []
    for metric in ("accuracy", "macro_f1", "mdl_compression"):
        if metric in metrics:
            written += save_figure(result.plot(metric), figures / f"probe_{metric}")
    if result.to_frame("trained")["selectivity"].notna().any():
        written += save_figure(result.plot_selectivity(), figures / "probe_selectivity")
    return written


def probe_task(model: str | LoadedModel, task: str, out: str | Path, data: str | Path | None = None,
               word: str | None = None, text_column: str = "sentence", label_column: str = "label",
               word_column: str | None = None, layers: str = "all", pool: str = "auto", cv: int | None = 5,
               seeds: tuple[int, ...] = (0,), controls: bool = True, mdl: bool = False, random_encoder: bool = False,
               figures: bool = True, progress: bool = True) -> ProbeResult:
    """Load a task, probe every layer, save the table and figures (what ``bertology probe`` runs).

    Parameters
    ----------
    model
        Model name, path, ``"minilm"`` or a LoadedModel.
    task, data, word, text_column, label_column, word_column
        As in :func:`load_task`.
    out
        Output directory (``probe_results.csv``, ``probe_meta.json``, ``figures/``).
    layers, pool, cv, seeds, controls, mdl, random_encoder, progress
        As in :func:`bertology.probe_layers` (``cv=None``: the official split).
    figures
        Also render the figures.

    Returns
    -------
    ProbeResult

    Examples
    --------
    >>> r = probe_task("minilm", "coarsewsd20", "runs/wsd", word="apple", progress=False)  # doctest: +SKIP
    """
    dataset = load_task(task, data, word, text_column, label_column, word_column)
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    result = probe_layers(loaded, dataset, layers=layers, pool=pool, cv=cv, seeds=seeds, controls=controls, mdl=mdl,
                          random_encoder=random_encoder, progress=progress)
    result.meta["task"] = task
    result.save(out)
    if figures:
        save_probe_figures(result, out)
    return result
