"""``compare``: one analysis on several models, one table with a ``model`` column and one figure.

How fine-tuning changes the layers (Merchant et al. 2020, "What happens to BERT embeddings
during fine-tuning?"), how two seeds or two architectures differ (Wu et al. 2020, "Similarity
analysis of contextual word representation models"), where a random encoder already does as
well: each model runs through the analysis's own function, the tidy tables are stacked with
a ``model`` column, and :class:`Comparison` draws one curve (or bar) per model.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from bertology.core.errors import InputError
from bertology.core.models import LoadedModel, load_model, model_provenance
from bertology.core.paths import check_output
from bertology.core.results import META_FILE, RESULT_FILE, TABLE_FILE, TableResult
from bertology.core.viz import PALETTE, new_figure, paper_style, save_figure
from bertology.core.viz.style import figure_width
from bertology.experiments.checks import layer_selection
from bertology.experiments.config import model_depth

FIGURE_NAME = "comparison"
"""File name (under ``out/figures``) of a comparison's figure."""


def _probe_check(options: dict[str, Any]) -> None:
    from bertology.analyses.probes.layerwise import check_classes, check_cv
    from bertology.core.data import ProbeDataset

    if not isinstance(options["data"], ProbeDataset):
        raise InputError(f"data = {type(options['data']).__name__}: give a labelled dataset, e.g. "
                         f"bt.data.load_sst2() or bt.data.load_coarsewsd20('bank').")
    check_cv(options.get("cv", 5))
    check_classes(options["data"].labels, options["data"].label_names, where=f"Dataset {options['data'].name!r}")


def _probe_run(model: LoadedModel, options: dict[str, Any], progress: bool) -> Any:
    from bertology.analyses.probes.layerwise import probe_layers

    return probe_layers(model, **options, progress=progress)


def _attention_check(options: dict[str, Any]) -> None:
    from bertology.analyses.attention.stats import check_average

    texts = options["texts"]
    if isinstance(texts, str) or not isinstance(texts, Sequence) or not texts \
            or not all(isinstance(text, str) and text.strip() for text in texts):
        raise InputError("texts must be a non-empty list of sentences, e.g. texts=[\"The bank is closed.\"].")
    check_average(options.get("average", "sentence"))


def _attention_run(model: LoadedModel, options: dict[str, Any], progress: bool) -> Any:
    from bertology.analyses.attention.stats import attention_stats

    return attention_stats(model, list(options.pop("texts")), **options, progress=progress)


def _geometry_check(options: dict[str, Any]) -> None:
    from bertology.core.data import ProbeDataset

    data = options["data"]
    if not isinstance(data, ProbeDataset) or data.words is None:
        raise InputError("data must be word-level items with senses, e.g. bt.data.load_coarsewsd20('bank'): "
                         "geometry compares the similarity of one word across contexts.")


def _geometry_run(model: LoadedModel, options: dict[str, Any], progress: bool) -> Any:
    from bertology.analyses.geometry.similarity import context_similarity

    return context_similarity(model, **options, progress=progress)


def _cloze_check(options: dict[str, Any]) -> None:
    from bertology.core.data.cloze_suites import load_suite

    suites = options.setdefault("suites", ["agreement"])
    if isinstance(suites, (str, Path)):
        options["suites"] = suites = [suites]
    if not suites:
        raise InputError("suites is empty: name at least one cloze suite, e.g. suites=[\"agreement\"].")
    for suite in suites:
        load_suite(suite)
    for key in ("n_boot", "max_tokens"):
        value = options.get(key, 1)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InputError(f"{key} must be a whole number of at least 1, got {value!r}.")


def _cloze_run(model: LoadedModel, options: dict[str, Any], progress: bool) -> Any:
    from bertology.analyses.cloze.scorer import as_scorer
    from bertology.analyses.cloze.suites import run_suite

    scorer = as_scorer(model, options.get("max_tokens", 4096), progress)
    return [run_suite(scorer, suite, n_boot=options.get("n_boot", 1000), seed=options.get("seed", 0))
            for suite in options["suites"]]


def _cloze_table(results: Sequence[Any]) -> pd.DataFrame:
    frames = []
    for result in results:
        frame = result.to_frame()
        frame.insert(0, "suite", result.name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _cloze_meta(results: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    every = [result for per_model in results.values() for result in per_model]
    return {"primary_metric": {result.name: result.meta["primary_metric"] for result in every},
            "chance": {result.name: result.meta.get("chance") for result in every}}


def _similarity_check(options: dict[str, Any]) -> None:
    from bertology.analyses.similarity import check_similarity_arguments

    _attention_check({"texts": options["texts"]})
    check_similarity_arguments(options.get("metric", "linear_cka"), options.get("layers", "all"),
                               options.get("pool", "all_words"), options.get("batch_size", 32),
                               options.get("minibatch", 1024))


def _similarity_run(pair: tuple[LoadedModel, LoadedModel], options: dict[str, Any], progress: bool) -> Any:
    from bertology.analyses.similarity import similarity

    return similarity(pair[0], pair[1], **options, progress=progress)


def _stored_probe(directory: Path) -> Any:
    from bertology.analyses.probes.result import ProbeResult

    return ProbeResult.load(directory)


def _stored_attention(directory: Path) -> Any:
    from bertology.analyses.attention.stats import AttentionStats
    from bertology.analyses.attention.task import STATS_DIR

    return AttentionStats.load(directory / STATS_DIR)


def _stored_geometry(directory: Path) -> Any:
    from bertology.analyses.geometry import SimilarityResult

    return SimilarityResult.load(directory / "similarity")


def _stored_cloze(directory: Path) -> Any:
    from bertology.analyses.cloze.result import ClozeResult

    return [ClozeResult.load(marker.parent) for marker in sorted(directory.glob(f"*/{RESULT_FILE}"))]


@dataclass(frozen=True)
class AnalysisSpec:
    """How :func:`compare` runs one analysis on one model, and reads a run's stored results of it.

    Attributes
    ----------
    function
        The analysis function each model runs through, for messages and docs.
    required
        Keyword arguments that must be given.
    options
        Every keyword argument the analysis takes.
    check
        ``check(options)``: raises an :class:`InputError` for bad values, before any model loads.
    run
        ``run(model, options, progress)``: the result for one model.
    stored
        ``stored(step_dir)``: the result an experiment step saved into its directory.
    table
        The result's tidy table (``to_frame()`` by default).
    meta
        ``meta({model: result})``: what the figure needs beyond the table.
    head
        The model head to load.
    pairwise
        ``run`` takes a pair of models, and runs on every pair.
    """

    function: str
    required: tuple[str, ...]
    options: tuple[str, ...]
    check: Callable[[dict[str, Any]], None]
    run: Callable[[LoadedModel, dict[str, Any], bool], Any]
    stored: Callable[[Path], Any]
    table: Callable[[Any], pd.DataFrame] = lambda result: result.to_frame()
    meta: Callable[[Mapping[str, Any]], dict[str, Any]] = lambda results: {}
    head: str = "base"
    pairwise: bool = False


ANALYSES: dict[str, AnalysisSpec] = {
    "probe": AnalysisSpec("bertology.probe_layers", ("data",),
                          ("data", "layers", "pool", "cv", "seed", "controls", "mdl", "random_encoder", "estimator",
                           "C", "max_iter", "level", "batch_size"), _probe_check, _probe_run, _stored_probe),
    "attention": AnalysisSpec("bertology.attention_stats", ("texts",), ("texts", "batch_size", "truncate", "average"),
                              _attention_check, _attention_run, _stored_attention),
    "geometry": AnalysisSpec("bertology.context_similarity", ("data",), ("data", "layers", "level", "batch_size"),
                             _geometry_check, _geometry_run, _stored_geometry),
    "cloze": AnalysisSpec("bertology.run_suite", (), ("suites", "n_boot", "seed", "max_tokens"), _cloze_check,
                          _cloze_run, _stored_cloze, table=_cloze_table, meta=_cloze_meta, head="mlm"),
    "similarity": AnalysisSpec("bertology.similarity", ("texts",),
                               ("texts", "metric", "layers", "pool", "batch_size", "minibatch", "seed"),
                               _similarity_check, _similarity_run, lambda directory: None, pairwise=True),
}
"""The analyses :func:`compare` runs, by name (also the name of their experiment step)."""


def _spec(analysis: str) -> AnalysisSpec:
    if analysis not in ANALYSES:
        raise InputError(f"analysis = {analysis!r} cannot be compared: choose one of {', '.join(ANALYSES)}.")
    return ANALYSES[analysis]


def model_label(model: str | LoadedModel) -> str:
    """The name a model has in a comparison's ``model`` column: the name as given, or a loaded model's name.

    Examples
    --------
    >>> model_label("minilm")
    'minilm'
    """
    return model.name if isinstance(model, LoadedModel) else str(model)


def check_compared_models(models: Sequence[str | LoadedModel]) -> list[str]:
    """The labels of the models to compare: a non-empty sequence of distinct models.

    Raises
    ------
    InputError
        For an empty sequence, an entry that is neither a model name nor a loaded model, or
        the same model twice (by name, or as one local directory spelled two ways).

    Examples
    --------
    >>> check_compared_models(["minilm", "bert-base-uncased"])
    ['minilm', 'bert-base-uncased']
    >>> check_compared_models([])  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: models is empty: ...
    """
    if isinstance(models, (str, LoadedModel)) or not isinstance(models, Sequence) or not models:
        raise InputError(f"models is empty or not a list ({models!r}): give the models to compare, e.g. "
                         f"[\"minilm\", \"path/to/fine-tuned\"].")
    seen: dict[str, str] = {}
    labels = []
    for model in models:
        if not isinstance(model, LoadedModel) and not (isinstance(model, str) and model.strip()):
            raise InputError(f"{model!r} in models is not a model: give a name, hub id, local directory or a model "
                             f"from bt.load_model.")
        label = model_label(model)
        path = Path(label).expanduser()
        same = str(path.resolve()) if path.is_dir() else label
        if same in seen:
            twice = f" (as {seen[same]!r} too)" if seen[same] != label else ""
            raise InputError(f"models lists {label!r} twice{twice}: compare each model once.")
        seen[same] = label
        labels.append(label)
    return labels


def _check_options(analysis: str, spec: AnalysisSpec, options: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        raise InputError(f"compare(analysis={analysis!r}) has no option {unknown[0]!r}: its options are those of "
                         f"{spec.function} ({', '.join(spec.options)}).")
    missing = [name for name in spec.required if options.get(name) is None]
    if missing:
        raise InputError(f"compare(analysis={analysis!r}) needs {missing[0]}=...: see {spec.function}.")
    options = dict(options)
    spec.check(options)
    return options


def _check_layers(models: Sequence[str | LoadedModel], options: Mapping[str, Any]) -> None:
    if "layers" not in options:
        return
    for model in models:
        depth = model.num_layers if isinstance(model, LoadedModel) else model_depth(model)
        try:
            layer_selection("layers", options["layers"], depth)
        except InputError as error:
            raise InputError(f"{error} (model {model_label(model)!r})") from None


def _option_meta(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options as JSON: a dataset by its name and size, texts by their number, other objects by ``repr``."""
    meta: dict[str, Any] = {}
    for key, value in options.items():
        if key == "data":
            meta["dataset"], meta["n_items"] = value.name, len(value)
        elif key == "texts":
            meta["n_texts"] = len(value)
        elif isinstance(value, (str, int, float, bool, type(None))):
            meta[key] = value
        elif isinstance(value, (list, tuple)):
            meta[key] = [v if isinstance(v, (str, int, float, bool)) else str(v) for v in value]
        else:
            meta[key] = repr(value)
    return meta


def comparison_from_results(analysis: str, results: Mapping[str, Any], identities: Mapping[str, Any] | None = None,
                            options: Mapping[str, Any] | None = None) -> Comparison:
    """Stack each model's result of one analysis into a :class:`Comparison` (models in the order given).

    Parameters
    ----------
    analysis
        A name in :data:`ANALYSES`.
    results
        ``{model label: result}`` (for ``cloze`` a list of :class:`ClozeResult` per model).
    identities
        ``{model label: describe() of the model}``.
    options
        JSON-serialisable settings, kept in ``meta["options"]``.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> from bertology.analyses.probes import ProbeResult
    >>> t = pd.DataFrame({"encoder": "trained", "layer": [0, 1], "metric": "accuracy", "mean": [.5, .8]})
    >>> c = comparison_from_results("probe", {"a": ProbeResult(t), "b": ProbeResult(t)})
    >>> c.to_frame()[["model", "layer"]].values.tolist()
    [['a', 0], ['a', 1], ['b', 0], ['b', 1]]
    """
    spec = _spec(analysis)
    frames = []
    for label, result in results.items():
        frame = spec.table(result).reset_index(drop=True)
        frame.insert(0, "model", label)
        if spec.pairwise:
            a, b = label.split(" vs ", 1)
            frame.insert(1, "model_a", a)
            frame.insert(2, "model_b", b)
        frames.append(frame)
    dataset = next((result.meta["dataset"] for result in results.values()
                    if isinstance(getattr(result, "meta", None), dict) and result.meta.get("dataset")), None)
    meta = {"analysis": analysis, "models": list(results), "identities": dict(identities or {}),
            "options": dict(options or {}), **({"dataset": dataset} if dataset else {}), **spec.meta(results)}
    return Comparison(pd.concat(frames, ignore_index=True), meta)


def compare(models: Sequence[str | LoadedModel], analysis: str = "probe", *, out: str | Path | None = None,
            device: str | None = None, figures: bool = True, progress: bool = True, **options: Any) -> Comparison:
    """Run one analysis on several models; one table with a ``model`` column, one figure with a curve per model.

    Each model runs through the analysis's own function with the same options, one model
    in memory at a time: ``probe`` through :func:`bertology.probe_layers` (``data=``, a
    labelled dataset), ``attention`` through :func:`bertology.attention_stats`
    (``texts=``), ``geometry`` through :func:`bertology.context_similarity` (``data=``,
    word-level items with senses) and ``cloze`` through :func:`bertology.run_suite`
    (``suites=``, each model loaded with its masked-LM head). The table is each model's
    ``to_frame()`` stacked, with ``model`` as its first column, so it equals the separate
    runs concatenated. ``similarity`` runs :func:`bertology.similarity` on every pair of
    models (``texts=``, ``metric=``), its rows' ``model`` is ``"a vs b"`` and the figure is
    the same-layer similarity by layer of each pair. This is the multi-model comparison of
    Merchant et al. (2020) and Wu et al. (2020).

    Parameters
    ----------
    models
        Model names, local directories, hub ids or models from :func:`bertology.load_model`.
    analysis
        ``"probe"``, ``"attention"``, ``"geometry"``, ``"cloze"`` or ``"similarity"``.
    out
        Directory to save the :class:`Comparison` into, with its figure as
        ``out/figures/comparison.pdf`` and ``.png`` unless ``figures=False``; ``None`` saves nothing.
    device
        Device of the models given by name.
    figures
        Render the figure into ``out/figures``.
    progress
        Show progress bars.
    **options
        The analysis function's options, e.g. ``data=``, ``layers=``, ``pool=``, ``cv=``, ``seed=``.

    Returns
    -------
    Comparison
        ``to_frame()``: the stacked tables; ``plot()``: the figure.

    Raises
    ------
    InputError
        Before any model loads: no models, a model listed twice, an unknown analysis or
        option, a missing required option, values the analysis rejects (folds, classes,
        averaging, suites, layers past a model's depth) and an ``out`` that cannot be written.
    ModelError
        A model path that does not exist (before any model loads).

    Examples
    --------
    >>> import bertology as bt
    >>> cmp = bt.compare(["minilm", "path/to/fine-tuned"], analysis="probe", data=bt.data.load_sst2(),
    ...                  pool="mean", progress=False)  # doctest: +SKIP
    >>> cmp.to_frame().groupby("model")["mean"].max()  # doctest: +SKIP
    >>> cmp = compare(["minilm"], analysis="attention", texts=["The bank is closed.", "It rained."], progress=False)
    >>> cmp.to_frame().columns[:3].tolist(), cmp.models
    (['model', 'layer', 'head'], ['minilm'])
    """
    spec = _spec(analysis)
    labels = check_compared_models(models)
    options = _check_options(analysis, spec, options)
    for model in models:
        if not isinstance(model, LoadedModel):
            model_provenance(model)
    _check_layers(models, options)
    directory = check_output(out) if out is not None else None
    results: dict[str, Any] = {}
    identities: dict[str, Any] = {}
    if spec.pairwise:
        if len(labels) < 2:
            raise InputError(f"compare(analysis={analysis!r}) compares pairs of models: give at least two.")
        loaded = {label: model if isinstance(model, LoadedModel) else load_model(model, head=spec.head, device=device)
                  for label, model in zip(labels, models)}
        identities = {label: model.describe() for label, model in loaded.items()}
        for first, a in enumerate(labels):
            for b in labels[first + 1:]:
                results[pair_label(a, b)] = spec.run((loaded[a], loaded[b]), dict(options), progress)
        loaded.clear()
    for label, model in zip(labels, models) if not spec.pairwise else ():
        loaded_model = model if isinstance(model, LoadedModel) else load_model(model, head=spec.head, device=device)
        results[label] = spec.run(loaded_model, dict(options), progress)
        identities[label] = loaded_model.describe()
        del loaded_model
    comparison = comparison_from_results(analysis, results, identities, _option_meta(options))
    if spec.pairwise:
        comparison.meta["models"] = labels
        comparison.meta["pairs"] = [[a, b] for first, a in enumerate(labels) for b in labels[first + 1:]]
    if directory is not None:
        comparison.save(directory)
        if figures:
            save_comparison_figures(directory)
    return comparison


def pair_label(a: str, b: str) -> str:
    """The ``model`` of a pairwise comparison's rows: ``"a vs b"``.

    Examples
    --------
    >>> pair_label("minilm", "runs/ft")
    'minilm vs runs/ft'
    """
    return f"{a} vs {b}"


def save_comparison_figures(out: str | Path) -> list[Path]:
    """Draw the figure of the :class:`Comparison` saved in ``out`` as ``out/figures/comparison`` (PDF and PNG).

    Examples
    --------
    >>> import tempfile
    >>> t = pd.DataFrame({"model": ["a", "b"], "encoder": "trained", "layer": 0, "metric": "accuracy",
    ...                   "mean": [.6, .7], "ci_low": [.5, .6], "ci_high": [.7, .8], "baseline": .5})
    >>> out = Comparison(t, {"analysis": "probe"}).save(tempfile.mkdtemp())
    >>> [p.name for p in save_comparison_figures(out)]
    ['comparison.pdf', 'comparison.png']
    """
    directory = Path(out)
    return save_figure(Comparison.load(directory).plot(), directory / "figures" / FIGURE_NAME)


def combined_figures(kind: str, directory: Path) -> list[str]:
    """Draw the figure of a multi-model run's combined step (none for an analysis without a comparison figure).

    Examples
    --------
    >>> combined_figures("extract", Path("/run/compare/extract"))
    []
    """
    return [Path(p).relative_to(directory).as_posix() for p in save_comparison_figures(directory)] \
        if combinable(kind) else []


def combinable(kind: str) -> bool:
    """Whether a multi-model run combines a step of this kind into a :class:`Comparison` (else it stacks its tables).

    Examples
    --------
    >>> combinable("probe"), combinable("extract"), combinable("similarity")
    (True, False, False)
    """
    return kind in ANALYSES and not ANALYSES[kind].pairwise


def short_labels(models: Sequence[str]) -> dict[str, str]:
    """Legend labels: the last part of each model's path, or the whole name where two would be the same.

    Examples
    --------
    >>> short_labels(["minilm", "/runs/sst2/final", "/runs/mnli/final"])
    {'minilm': 'minilm', '/runs/sst2/final': '/runs/sst2/final', '/runs/mnli/final': '/runs/mnli/final'}
    >>> short_labels(["minilm", "runs/fine-tuned/"])
    {'minilm': 'minilm', 'runs/fine-tuned/': 'fine-tuned'}
    """
    tails = {model: (model.rstrip("/").rsplit("/", 1)[-1] or model) for model in models}
    counts = pd.Series(list(tails.values())).value_counts()
    return {model: tail if counts[tail] == 1 else model for model, tail in tails.items()}


def _legend(figure: Figure, handles: list[Any], labels: list[str]) -> None:
    figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 3))


def _model_handles(models: Sequence[str], marker: str = "o") -> tuple[list[Any], list[str]]:
    names = short_labels(models)
    handles = [Line2D([], [], color=PALETTE[i % len(PALETTE)], marker=marker, markersize=3)
               for i in range(len(models))]
    return handles, [names[model] for model in models]


def _plot_probe(comparison: Comparison, metric: str = "accuracy") -> Figure:
    from bertology.analyses.probes.plots import LABELS

    frame = comparison.frame[(comparison.frame["metric"] == metric) & (comparison.frame["encoder"] == "trained")]
    if frame.empty:
        raise InputError(f"The comparison has no {metric!r} rows: plot one of "
                         f"{sorted(set(comparison.frame['metric']))}.")
    with paper_style():
        figure, axes = new_figure(height=2.9)
        handles, labels = _model_handles(comparison.models)
        for index, model in enumerate(comparison.models):
            rows = frame[frame["model"] == model].sort_values("layer")
            colour = PALETTE[index % len(PALETTE)]
            axes.plot(rows["layer"], rows["mean"], marker="o", color=colour, zorder=3)
            if rows["ci_low"].notna().any():
                axes.fill_between(rows["layer"], rows["ci_low"], rows["ci_high"], color=colour, alpha=0.18,
                                  linewidth=0)
        if frame["baseline"].notna().any():
            axes.axhline(float(frame["baseline"].mean()), color="0.4", linestyle="-.", linewidth=1)
            handles.append(Line2D([], [], color="0.4", linestyle="-.", linewidth=1))
            labels.append("majority class")
        axes.set_xticks(sorted(frame["layer"].unique()))
        axes.set_xlabel("layer (0 = embeddings)")
        axes.set_ylabel(LABELS.get(metric, metric))
        dataset = comparison.meta.get("dataset")
        if dataset:
            axes.set_title(str(dataset))
        _legend(figure, handles, labels)
        return figure


def _plot_attention(comparison: Comparison, statistics: Sequence[str] | None = None,
                    width: str | float = "page") -> Figure:
    from bertology.analyses.attention.stats import STATISTIC_LABELS, STATISTICS

    names = list(STATISTICS if statistics is None else statistics)
    unknown = [name for name in names if name not in STATISTICS]
    if unknown or not names:
        raise InputError(f"Unknown statistics {unknown}: choose from {', '.join(STATISTICS)}.")
    inches = figure_width(width)
    ncols = min(len(names), 4 if inches >= 5 else 2)
    nrows = math.ceil(len(names) / ncols)
    means = comparison.frame.groupby(["model", "layer"], sort=False)[names].mean().reset_index()
    with paper_style():
        figure, axes = new_figure(inches, height=1.55 * nrows + 0.45, nrows=nrows, ncols=ncols, squeeze=False)
        for index, ax in enumerate(axes.ravel()):
            if index >= len(names):
                ax.set_visible(False)
                continue
            name = names[index]
            for position, model in enumerate(comparison.models):
                rows = means[means["model"] == model].sort_values("layer")
                ax.plot(rows["layer"], rows[name], marker="o", markersize=2.5,
                        color=PALETTE[position % len(PALETTE)])
            ax.set_title(STATISTIC_LABELS[name])
            ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
            ax.ticklabel_format(axis="y", useOffset=False)
            ax.set_xticks(sorted(means["layer"].unique()))
            if index // ncols == nrows - 1 or index + ncols >= len(names):
                ax.set_xlabel("layer")
            if index % ncols == 0:
                ax.set_ylabel("mean over heads")
        _legend(figure, *_model_handles(comparison.models))
        return figure


def _plot_geometry(comparison: Comparison) -> Figure:
    frame = comparison.frame
    with paper_style():
        figure, axes = new_figure(height=2.9)
        styles = {"same sense": ("-", "o"), "different sense": ("--", "s")}
        for index, model in enumerate(comparison.models):
            colour = PALETTE[index % len(PALETTE)]
            for comparison_name, (line, marker) in styles.items():
                rows = frame[(frame["model"] == model) & (frame["comparison"] == comparison_name)].sort_values("layer")
                if rows.empty:
                    continue
                axes.plot(rows["layer"], rows["mean"], linestyle=line, marker=marker, markersize=3, color=colour)
                axes.fill_between(rows["layer"], rows["ci_low"], rows["ci_high"], color=colour, alpha=0.15,
                                  linewidth=0)
        handles, labels = _model_handles(comparison.models, marker="")
        for comparison_name, (line, marker) in styles.items():
            handles.append(Line2D([], [], color="0.3", linestyle=line, marker=marker, markersize=3))
            labels.append(comparison_name)
        axes.set_xticks(sorted(frame["layer"].unique()))
        axes.set_xlabel("layer (0 = embeddings)")
        axes.set_ylabel("cosine similarity")
        dataset = comparison.meta.get("dataset")
        if dataset:
            axes.set_title(f"'{dataset}' across contexts")
        _legend(figure, handles, labels)
        return figure


def _plot_cloze(comparison: Comparison) -> Figure:
    frame = comparison.frame
    primary = comparison.meta.get("primary_metric", {})
    chance = comparison.meta.get("chance", {})
    suites = list(dict.fromkeys(frame["suite"]))
    metrics = list(dict.fromkeys(primary.get(suite, "accuracy") for suite in suites))
    models = comparison.models
    width = 0.8 / len(models)
    with paper_style():
        per_panel = [[suite for suite in suites if primary.get(suite, "accuracy") == metric] for metric in metrics]
        inches = figure_width("column" if len(suites) <= 3 else "page")
        figure, axes = new_figure(inches, height=2.6, ncols=len(metrics), squeeze=False,
                                  gridspec_kw={"width_ratios": [len(panel) for panel in per_panel]})
        for ax, metric, panel in zip(axes.ravel(), metrics, per_panel):
            for index, model in enumerate(models):
                values, lows, highs = [], [], []
                for suite in panel:
                    row = frame[(frame["model"] == model) & (frame["suite"] == suite) & (frame["group"] == "all")
                                & (frame["metric"] == metric)]
                    value = float(row["value"].iloc[0]) if len(row) else math.nan
                    values.append(value)
                    lows.append(value - float(row["ci_low"].iloc[0]) if len(row) else math.nan)
                    highs.append(float(row["ci_high"].iloc[0]) - value if len(row) else math.nan)
                offsets = [position - 0.4 + width * (index + 0.5) for position in range(len(panel))]
                ax.bar(offsets, values, width=width * 0.92, color=PALETTE[index % len(PALETTE)],
                       yerr=[lows, highs], error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "0.2"})
            for position, suite in enumerate(panel):
                if chance.get(suite) is not None:
                    ax.hlines(float(chance[suite]), position - 0.45, position + 0.45, colors="0.4",
                              linestyles=":", linewidth=1)
            ax.set_xticks(range(len(panel)), panel)
            ax.set_ylabel(metric.replace("_", " "))
            ax.axhline(0.0, color="0.6", linewidth=0.6)
        handles, labels = _model_handles(models, marker="s")
        handles = [Line2D([], [], color=handle.get_color(), marker="s", linestyle="", markersize=5)
                   for handle in handles]
        if any(chance.get(suite) is not None for suite in suites):
            handles.append(Line2D([], [], color="0.4", linestyle=":", linewidth=1))
            labels.append("chance")
        _legend(figure, handles, labels)
        return figure


def _plot_similarity(comparison: Comparison) -> Figure:
    from bertology.analyses.similarity.result import LABELS

    frame = comparison.frame[comparison.frame["layer_a"] == comparison.frame["layer_b"]]
    pairs = comparison.meta.get("pairs") or [label.split(" vs ") for label in pd.unique(comparison.frame["model"])]
    names = short_labels(list(dict.fromkeys(model for pair in pairs for model in pair)))
    metric = str(comparison.frame["metric"].iloc[0])
    with paper_style():
        figure, axes = new_figure(height=2.9)
        handles, labels = [], []
        for index, (a, b) in enumerate(pairs):
            rows = frame[frame["model"] == pair_label(a, b)].sort_values("layer_a")
            colour = PALETTE[index % len(PALETTE)]
            axes.plot(rows["layer_a"], rows["value"], marker="o", color=colour)
            handles.append(Line2D([], [], color=colour, marker="o", markersize=3))
            labels.append(f"{names[a]} vs {names[b]}")
        axes.set_xticks(sorted(frame["layer_a"].unique()))
        axes.set_xlabel("layer (0 = embeddings)")
        axes.set_ylabel(f"{LABELS.get(metric, metric)}, same layer")
        _legend(figure, handles, labels)
        return figure


PLOTS: dict[str, Callable[..., Figure]] = {"probe": _plot_probe, "attention": _plot_attention,
                                           "geometry": _plot_geometry, "cloze": _plot_cloze,
                                           "similarity": _plot_similarity}


class Comparison(TableResult):
    """One analysis on several models: the stacked tidy tables with a ``model`` column, and one figure.

    Saved with ``save(out)`` as ``table.csv`` and ``meta.json`` in directory ``out``.

    Parameters
    ----------
    frame
        The analysis's tidy table of each model, stacked, ``model`` first.
    meta
        ``analysis`` (``probe``, ``attention``, ``geometry``, ``cloze`` or ``similarity``),
        ``models`` (in order; for ``similarity`` also ``pairs``, and ``model_a``/``model_b``
        columns), ``identities`` (each model's name, revision and weights hash), ``options``,
        and for ``cloze`` each suite's ``primary_metric`` and ``chance``.

    Examples
    --------
    >>> t = pd.DataFrame({"model": ["a", "a", "b", "b"], "encoder": "trained", "layer": [0, 1, 0, 1],
    ...                   "metric": "accuracy", "mean": [.5, .8, .6, .7], "ci_low": [.4, .7, .5, .6],
    ...                   "ci_high": [.6, .9, .7, .8], "baseline": .5})
    >>> c = Comparison(t, {"analysis": "probe", "models": ["a", "b"]})
    >>> c.to_frame("b")["mean"].tolist(), len(c.plot().axes[0].lines)
    ([0.6, 0.7], 3)
    """

    @property
    def analysis(self) -> str:
        """The analysis compared."""
        return str(self.meta["analysis"])

    @property
    def models(self) -> list[str]:
        """The models, in the order they were given."""
        return [str(model) for model in self.meta.get("models") or pd.unique(self.frame["model"])]

    def to_frame(self, model: str | None = None) -> pd.DataFrame:
        """The stacked table (a copy), optionally one model's rows only.

        Examples
        --------
        >>> c = Comparison(pd.DataFrame({"model": ["a", "b"], "layer": [0, 0]}), {"analysis": "attention"})
        >>> c.to_frame("a")["model"].tolist()
        ['a']
        """
        frame = self.frame if model is None else self.frame[self.frame["model"] == model]
        return frame.reset_index(drop=True).copy()

    def plot(self, **kwargs: Any) -> Figure:
        """One figure, one colour per model: probes accuracy by layer with CI bands (``metric=``); attention
        each statistic's mean over heads by layer (``statistics=``, ``width=``); geometry same- and
        different-sense similarity by layer with CI bands; cloze each suite's primary metric as bars with CIs;
        similarity each pair's same-layer value by layer (Merchant et al. 2020).

        Examples
        --------
        >>> t = pd.DataFrame({"model": ["a", "b"], "layer": 0, "comparison": "same sense", "mean": [.9, .8],
        ...                   "ci_low": [.8, .7], "ci_high": [1., .9]})
        >>> Comparison(t, {"analysis": "geometry", "models": ["a", "b"]}).plot().axes[0].get_ylabel()
        'cosine similarity'
        """
        if self.analysis not in PLOTS:
            raise InputError(f"A comparison of {self.analysis!r} has no figure: analyses with one are "
                             f"{', '.join(PLOTS)}.")
        return PLOTS[self.analysis](self, **kwargs)

    @classmethod
    def _read(cls, directory: Path) -> Comparison:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        return cls(pd.read_csv(directory / TABLE_FILE, dtype={"model": str}, float_precision="round_trip"), meta)
