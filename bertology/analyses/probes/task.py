"""Named probing tasks (CoarseWSD-20, SST-2, any label table) run end to end into a directory."""

from __future__ import annotations

from pathlib import Path

from bertology.core.data.loaders import load_dataset
from bertology.core.errors import InputError
from bertology.core.models import LoadedModel, load_model
from bertology.analyses.probes.result import ProbeResult
from bertology.analyses.probes.layerwise import probe_layers
from bertology.core.viz import save_figure

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
    dataset = load_dataset(task, data, word, text_column, label_column, word_column)
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    result = probe_layers(loaded, dataset, layers=layers, pool=pool, cv=cv, seeds=seeds, controls=controls, mdl=mdl,
                          random_encoder=random_encoder, progress=progress)
    result.meta["task"] = task
    result.save(out)
    if figures:
        save_probe_figures(result, out)
    return result
