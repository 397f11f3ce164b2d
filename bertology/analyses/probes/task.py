"""``probe_task``: load a named dataset, probe every layer, save the result and its figures."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bertology.analyses.probes.layerwise import check_classes, check_cv, probe_layers
from bertology.analyses.probes.result import ProbeResult
from bertology.core.data.loaders import load_dataset
from bertology.core.models import LoadedModel, load_model
from bertology.core.paths import check_output
from bertology.core.viz import save_figure


def save_probe_figures(result: ProbeResult, out: str | Path) -> list[Path]:
    """Write the layer curves (accuracy, macro-F1, MDL if present) and selectivity into ``out/figures``.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> t = pd.DataFrame({"encoder": "trained", "layer": [0, 1], "metric": "accuracy", "mean": [.5, .8]})
    >>> [p.name for p in save_probe_figures(ProbeResult(t), tempfile.mkdtemp())]
    ['probe_accuracy.pdf', 'probe_accuracy.png']
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


def probe_task(model: str | LoadedModel, dataset: str, out: str | Path, *, input: str | Path | None = None,
               word: str | None = None, text_column: str = "sentence", label_column: str = "label",
               word_column: str | None = None, layers: str | int | Sequence[int] = "all", pool: str = "auto",
               cv: int | None = 5, seed: int | Sequence[int] = 0, controls: bool = True, mdl: bool = False,
               random_encoder: bool = False, batch_size: int = 32, device: str | None = None, figures: bool = True,
               progress: bool = True) -> ProbeResult:
    """Load a dataset, probe every layer, save the result into ``out`` (what ``bertology probe`` runs).

    Parameters
    ----------
    model
        Model name, path, ``"minilm"``, or a loaded model.
    dataset
        ``coarsewsd20``, ``sst2`` or ``table`` (see :func:`bertology.core.data.loaders.load_dataset`).
    out
        Output directory: the :class:`ProbeResult` (``table.csv``, ``meta.json``) and ``figures/``.
    input
        Dataset root (``coarsewsd20``) or file (``sst2``, ``table``); ``None`` uses the shipped sample.
    word
        CoarseWSD-20 word (``None``: every word under ``input``).
    text_column, label_column, word_column
        Columns of a ``table`` dataset.
    layers, pool, seed, controls, mdl, random_encoder, batch_size, progress
        As in :func:`bertology.probe_layers`.
    cv
        Folds of stratified cross-validation, or ``None`` for the dataset's official train/test split.
    device
        Device for a model given by name.
    figures
        Also render the figures into ``out/figures``.

    Returns
    -------
    ProbeResult
        Its ``meta["dataset"]`` is ``dataset``.

    Raises
    ------
    InputError
        A ``cv`` below 2, an unknown dataset or unreadable data, data of a single class,
        or an ``out`` that cannot be written, all before the model loads; and the errors
        of :func:`bertology.probe_layers`.

    Examples
    --------
    >>> import tempfile
    >>> r = probe_task("minilm", "coarsewsd20", tempfile.mkdtemp(), word="bank", layers="0,6", cv=None,
    ...                figures=False, progress=False)
    >>> r.best_layer()
    6
    """
    check_cv(cv)
    data = load_dataset(dataset, input, word, text_column, label_column, word_column)
    check_classes(data.labels, data.label_names, where=f"Dataset {data.name!r}")
    directory = check_output(out)
    loaded = model if isinstance(model, LoadedModel) else load_model(model, device=device)
    result = probe_layers(loaded, data, layers=layers, pool=pool, cv=cv, seed=seed, controls=controls, mdl=mdl,
                          random_encoder=random_encoder, batch_size=batch_size, progress=progress)
    result.meta["dataset"] = dataset
    result.save(directory)
    if figures:
        save_probe_figures(result, directory)
    return result
