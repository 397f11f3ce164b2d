"""``run_attribution``: build a classifier, attribute a file, score faithfulness, write tables and figures."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import joblib
import matplotlib.pyplot as plt

from bertology.analyses.attribution.classifier import Classifier
from bertology.analyses.attribution.records import attribute_file, load_results
from bertology.analyses.attribution.faithfulness import FaithfulnessResult, faithfulness
from bertology.core.data.loaders import load_sst2
from bertology.core.distributed import barrier, rank_info, single_process
from bertology.core.errors import InputError
from bertology.core.extraction import extract
from bertology.core.models import LoadedModel, load_model
from bertology.analyses.probes import LinearProbe
from bertology.core.viz import save_figure

def train_probe_classifier(model: LoadedModel, data: str | Path | None = None, layer: int = -1, pool: str = "cls",
                           progress: bool = True) -> Classifier:
    """Fit a :class:`~bertology.analyses.probes.estimator.LinearProbe` on an SST-2-style TSV and wrap it as a classifier.

    The classic recipe: logistic regression on frozen pooled features of one layer. Under a
    launcher every rank fits the same probe by itself.

    Parameters
    ----------
    model
        The encoder.
    data
        TSV with a header and ``sentence<TAB>label`` (0 = negative, 1 = positive);
        default the SST-2 sample shipped with bertology.
    layer, pool
        Which hidden state and pooling feed the probe.
    progress
        Show a progress bar while extracting features.

    Returns
    -------
    Classifier
        Labels ``negative``/``positive``; ``description["probe_train_accuracy"]`` records the fit.

    Examples
    --------
    >>> import bertology as bt
    >>> clf = train_probe_classifier(bt.load_model("minilm"), progress=False)
    >>> clf.labels
    ['negative', 'positive']
    """
    dataset = load_sst2(data)
    with single_process():
        store = extract(model, dataset.texts, layers=layer, pool=pool, truncate=True, progress=progress)
    features = store[layer]
    probe = LinearProbe().fit(features, dataset.labels)
    clf = Classifier.from_probe(model, probe, layer=layer, pool=pool, labels=dataset.label_names)
    clf.description.update({"probe_data": str(data or "shipped sst2_sample.tsv"),
                            "probe_train_accuracy": float(probe.score(features, dataset.labels))})
    return clf


def build_classifier(model: str | LoadedModel, probe: str | Path | None = None, probe_data: str | Path | None = None,
                     layer: int = -1, pool: str = "cls", progress: bool = True) -> Classifier:
    """A classifier from a fine-tuned checkpoint, a saved probe, or a probe trained here.

    ``probe`` (a joblib file of a fitted probe) or ``probe_data`` (an SST-2-style TSV)
    wrap the encoder with a probe; otherwise the model's own sequence-classification head
    is used, and an encoder without one (such as ``"minilm"``) gets a probe trained on the
    shipped SST-2 sample.

    Examples
    --------
    >>> build_classifier("minilm", progress=False).description["kind"]  # doctest: +SKIP
    'probe'
    """
    if probe is not None or probe_data is not None or model == "minilm" or (
            isinstance(model, LoadedModel) and model.head != "classifier"):
        loaded = model if isinstance(model, LoadedModel) else load_model(model)
        if probe is None:
            return train_probe_classifier(loaded, probe_data, layer, pool, progress)
        if not Path(probe).exists():
            raise InputError(f"Probe file {probe} does not exist: save a fitted probe with joblib.dump(probe, path), "
                             "or pass --train-probe/probe_data to fit one.")
        fitted = joblib.load(probe)
        labels = ["negative", "positive"] if len(fitted.classes_) == 2 else None
        return Classifier.from_probe(loaded, fitted, layer=layer, pool=pool, labels=labels)
    return Classifier.from_pretrained(model)


def run_attribution(clf: Classifier, sentences: str | Path | Sequence[str], out_dir: str | Path,
                    methods: Sequence[str] = ("integrated_gradients", "lime"),
                    options: Mapping[str, Mapping[str, Any]] | None = None, target: str | int | None = None,
                    removal: str = "remove", progress: bool = True) -> FaithfulnessResult:
    """Attribute sentences with every method, score ERASER faithfulness, and write tables and figures.

    Writes ``attributions.jsonl`` (resumable), ``faithfulness.csv``, ``rank_agreement.csv``,
    ``faithfulness_summary.csv``, one HTML page per method for the first sentence, and
    ``figures/`` (see :func:`render_figures`). Under ``torchrun`` / ``accelerate launch`` the
    sentences are shared out between ranks (see :func:`attribute_file`) and rank 0 scores
    and writes the tables and figures once every rank is done.

    Parameters
    ----------
    clf
        The classifier (see :func:`build_classifier`).
    sentences
        A sentence file or a list of sentences.
    out_dir
        Output directory.
    methods, options, target
        As in :func:`~bertology.analyses.attribution.records.attribute_file`.
    removal
        ``"remove"`` or ``"mask"`` (see :func:`~bertology.analyses.attribution.faithfulness.faithfulness`).
    progress
        Show progress bars.

    Returns
    -------
    FaithfulnessResult

    Examples
    --------
    >>> run_attribution(clf, "sentences.txt", "runs/attr")  # doctest: +SKIP
    """
    out = Path(out_dir)
    results = attribute_file(clf, sentences, out, methods=methods, target=target, options=options, progress=progress)
    if rank_info().rank != 0:
        barrier()
        return FaithfulnessResult.load(out)
    scores = faithfulness(clf, results, removal=removal)
    scores.save(out)
    scores.summary().to_csv(out / "faithfulness_summary.csv", index=False)
    (out / "classifier.json").write_text(json.dumps(clf.description, indent=1, default=str), encoding="utf-8")
    first = {}
    for result in results:
        first.setdefault(result.method, result)
    for method, result in first.items():
        result.save_html(out / f"example_{method}.html")
    render_figures(out)
    barrier()
    return scores


def render_figures(out_dir: str | Path, n_examples: int = 1) -> list[Path]:
    """Re-draw the faithfulness figure and the first sentences' heatmaps from stored files only.

    Examples
    --------
    >>> render_figures("runs/attr")  # doctest: +SKIP
    """
    out = Path(out_dir)
    target = out / "figures"
    written = []
    figure = FaithfulnessResult.load(out).plot()
    written += save_figure(figure, target / "faithfulness")
    plt.close(figure)
    positions: dict[str, int] = {}
    for result in load_results(out):
        position = positions.setdefault(result.text, len(positions))
        if position < n_examples:
            figure = result.plot(words=True)
            written += save_figure(figure, target / f"example{position}_{result.method}")
            plt.close(figure)
    return written


def explain_file(model: str | LoadedModel, sentences: str | Path | Sequence[str], out_dir: str | Path,
                 methods: Sequence[str] = ("integrated_gradients", "lime"), probe: str | Path | None = None,
                 probe_data: str | Path | None = None, layer: int = -1,
                 options: Mapping[str, Mapping[str, Any]] | None = None, target: str | int | None = None,
                 removal: str = "remove", progress: bool = True) -> FaithfulnessResult:
    """What ``bertology attribute`` does: :func:`build_classifier`, then :func:`run_attribution`.

    Parameters
    ----------
    model, probe, probe_data, layer
        As in :func:`build_classifier`.
    sentences, out_dir, methods, options, target, removal, progress
        As in :func:`run_attribution`.

    Returns
    -------
    FaithfulnessResult

    Examples
    --------
    >>> explain_file("minilm", "sentences.txt", "runs/attr", methods=["lime"])  # doctest: +SKIP
    """
    clf = build_classifier(model, probe=probe, probe_data=probe_data, layer=layer, progress=progress)
    return run_attribution(clf, sentences, out_dir, methods=methods, options=options, target=target,
                           removal=removal, progress=progress)
