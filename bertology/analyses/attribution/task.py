"""``attribute_task`` and ``explanation_task``: build a classifier, attribute sentences, score faithfulness (and
plausibility), save tables and figures."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import matplotlib.pyplot as plt

from bertology.analyses.attribution.api import resolve_method
from bertology.analyses.attribution.benchmark import ExplanationBenchmark, explanation_benchmark
from bertology.analyses.attribution.classifier import Classifier
from bertology.analyses.attribution.faithfulness import FaithfulnessResult, faithfulness
from bertology.analyses.attribution.names import DEFAULT_METHODS
from bertology.analyses.attribution.plausibility import load_eraser
from bertology.analyses.attribution.records import attribute_texts
from bertology.analyses.attribution.result import AttributionResult
from bertology.analyses.probes import LinearProbe
from bertology.core.data import column, find_text_column, read_table
from bertology.core.data.loaders import load_sst2
from bertology.core.distributed import barrier, rank_info, single_process
from bertology.core.errors import InputError
from bertology.core.extraction import extract
from bertology.core.models import LoadedModel, load_model
from bertology.core.paths import check_output
from bertology.core.viz import save_figure

SUMMARY_FILE = "faithfulness_summary.csv"
CLASSIFIER_FILE = "classifier.json"
_ZIP_MAGIC = b"PK\x03\x04"


def train_probe_classifier(model: LoadedModel, data: str | Path | None = None, layer: int = -1, pool: str = "cls",
                           progress: bool = True) -> Classifier:
    """Fit a :class:`~bertology.analyses.probes.LinearProbe` on an SST-2-style TSV and wrap it as a classifier.

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


def read_probe(probe: str | Path, trust_pickle: bool = False) -> Any:
    """A fitted probe from a file: a ``LinearProbe.save`` ``.npz``, or a pickle only with ``trust_pickle``.

    :meth:`bertology.analyses.probes.LinearProbe.save` writes the ``.npz``, which is read
    with pickling disabled.

    Unpickling runs whatever code the file holds, so a pickle or joblib file (e.g. a
    scikit-learn ``LogisticRegression`` saved with ``joblib.dump``) is read only when the
    caller says the file is trusted.

    Parameters
    ----------
    probe
        The probe file.
    trust_pickle
        Read a pickle or joblib file too (``bertology attribute --trust-pickle``).

    Returns
    -------
    LinearProbe or the unpickled estimator
        A fitted probe with ``coef_``, ``intercept_`` and ``classes_``.

    Raises
    ------
    InputError
        When the file does not exist, is a pickle and ``trust_pickle`` is false, or cannot
        be read.

    Examples
    --------
    >>> import tempfile
    >>> path = LinearProbe().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]).save(Path(tempfile.mkdtemp()) / "p")
    >>> read_probe(path).coef_.shape
    (1, 1)
    """
    path = Path(probe)
    if not path.is_file():
        state = "is a directory" if path.is_dir() else "does not exist"
        raise InputError(f"Probe file {path} {state}: save a fitted LinearProbe with probe.save(path), or pass "
                         "--train-probe/probe_data to fit one.")
    with open(path, "rb") as handle:
        magic = handle.read(len(_ZIP_MAGIC))
    if magic == _ZIP_MAGIC:
        return LinearProbe.load(path)
    if not trust_pickle:
        raise InputError(f"Probe file {path} is not a LinearProbe .npz file, and reading a pickle or joblib file "
                         "runs any code it holds: re-save the probe with LinearProbe.save(path), or, only for a file "
                         "you trust, pass --trust-pickle (trust_pickle=True).")
    try:
        return joblib.load(path)
    except Exception as error:
        raise InputError(f"Probe file {path} could not be unpickled ({error.__class__.__name__}: {error}): save the "
                         "fitted probe with LinearProbe.save(path) and pass that file.") from None


def build_classifier(model: str | LoadedModel, probe: str | Path | None = None, probe_data: str | Path | None = None,
                     layer: int = -1, pool: str = "cls", device: str | None = None, progress: bool = True,
                     trust_pickle: bool = False) -> Classifier:
    """A classifier from a fine-tuned checkpoint, a saved probe, or a probe trained here.

    ``probe`` (a fitted probe saved with :meth:`LinearProbe.save
    <bertology.analyses.probes.LinearProbe.save>`) or ``probe_data`` (an SST-2-style TSV)
    wrap the encoder with a probe. Otherwise a model loaded with ``head="classifier"``
    uses its own sequence-classification head, a model name is loaded with that head,
    and an encoder without one (``"minilm"``, or a model loaded with another head) gets
    a probe trained on the shipped SST-2 sample. The probe file is read before the model
    loads.

    Parameters
    ----------
    model
        A model name or path, or a model from :func:`bertology.load_model`.
    probe
        ``.npz`` file of a fitted linear probe on the encoder's pooled features, written by
        ``LinearProbe.save``; a pickle or joblib file only with ``trust_pickle``.
    probe_data
        SST-2-style TSV to fit a probe on (see :func:`train_probe_classifier`).
    layer, pool
        Hidden state and pooling the probe reads.
    device
        Device a model name is loaded on (see :func:`bertology.load_model`).
    progress
        Show a progress bar while extracting the probe's features.
    trust_pickle
        Let ``probe`` be a pickle or joblib file (see :func:`read_probe`).

    Returns
    -------
    Classifier

    Raises
    ------
    InputError
        When ``probe`` does not exist, cannot be read, or is a pickle without ``trust_pickle``.

    Examples
    --------
    >>> build_classifier("minilm", progress=False).description["kind"]
    'probe'
    """
    if probe is not None or probe_data is not None or model == "minilm" or (
            isinstance(model, LoadedModel) and model.head != "classifier"):
        fitted = None if probe is None else read_probe(probe, trust_pickle)
        loaded = model if isinstance(model, LoadedModel) else load_model(model, device=device)
        if fitted is None:
            return train_probe_classifier(loaded, probe_data, layer, pool, progress)
        labels = ["negative", "positive"] if len(fitted.classes_) == 2 else None
        clf = Classifier.from_probe(loaded, fitted, layer=layer, pool=pool, labels=labels)
        clf.description["probe_file"] = str(probe)
        return clf
    if isinstance(model, LoadedModel):
        return Classifier.from_pretrained(model)
    return Classifier.from_pretrained(model, device=device)


def _read_texts(input: str | Path | Sequence[str], text_column: str | None, limit: int | None) -> list[str]:
    """The first ``limit`` sentences of a list or of a TXT (one per line), TSV/CSV (column ``sentence`` or ``text``)
    or JSONL file."""
    if isinstance(input, (str, Path)):
        rows = read_table(input)
        texts = [str(text) for text in column(rows, find_text_column(rows, text_column), input)]
    else:
        texts = list(input)
    return texts[:limit]


def save_attribution_figures(scores: FaithfulnessResult, attributions: Sequence[AttributionResult], out: str | Path,
                             n_examples: int = 1) -> list[Path]:
    """The faithfulness figure and the word heatmaps of the first sentences, into ``out/figures``.

    Parameters
    ----------
    scores
        The faithfulness of ``attributions``.
    attributions
        The attributions, in sentence order (see
        :func:`~bertology.analyses.attribution.records.load_attributions`).
    out
        The task's output directory.
    n_examples
        Sentences that get a heatmap per method (``example<i>_<method>``).

    Returns
    -------
    list of pathlib.Path
        The PDF and PNG files written.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> r = AttributionResult("good film", ["[CLS]", "good", "film", "[SEP]"], [-1, 0, 1, -1],
    ...                       [0.0, 0.7, 0.1, 0.0], ["good", "film"], [0.7, 0.1], "positive", 1, "lime", 0.9)
    >>> f = FaithfulnessResult(pd.DataFrame({"item": [0], "method": ["lime"], "bin": [1],
    ...     "comprehensiveness": [0.2], "sufficiency": [0.1]}), pd.DataFrame())
    >>> sorted(p.name for p in save_attribution_figures(f, [r], tempfile.mkdtemp()))
    ['example0_lime.pdf', 'example0_lime.png', 'faithfulness.pdf', 'faithfulness.png']
    """
    target = Path(out) / "figures"
    figure = scores.plot()
    written = save_figure(figure, target / "faithfulness")
    plt.close(figure)
    positions: dict[str, int] = {}
    for result in attributions:
        position = positions.setdefault(result.text, len(positions))
        if position < n_examples:
            figure = result.plot(words=True)
            written += save_figure(figure, target / f"example{position}_{result.method}")
            plt.close(figure)
    return written


def attribute_task(model: str | LoadedModel, input: str | Path | Sequence[str], out: str | Path, *,
                   methods: Sequence[str] = ("integrated_gradients", "lime"), probe: str | Path | None = None,
                   probe_data: str | Path | None = None, layer: int = -1, target: str | int | None = None,
                   n_steps: int = 50, baseline: str = "pad", num_samples: int = 1000, seed: int = 0,
                   removal: str = "remove", text_column: str | None = None, limit: int | None = None,
                   batch_size: int = 32, device: str | None = None, trust_pickle: bool = False,
                   figures: bool = True, progress: bool = True) -> FaithfulnessResult:
    """What ``bertology attribute`` does: attribute sentences with every method and score ERASER faithfulness.

    The classifier comes from :func:`build_classifier`: a model loaded with
    ``head="classifier"`` is explained through its own head; a model name through its
    sequence-classification head, or through a linear probe (``probe``, ``probe_data``,
    or one trained on the shipped SST-2 sample for an encoder such as ``"minilm"``).
    Writes into ``out``: ``attributions.jsonl`` (resumable, see
    :func:`~bertology.analyses.attribution.records.attribute_texts`), the saved
    :class:`~bertology.analyses.attribution.faithfulness.FaithfulnessResult`
    (``faithfulness.csv``, ``rank_agreement.csv``), ``faithfulness_summary.csv``,
    ``classifier.json``, one HTML page per method for the first sentence
    (``example_<method>.html``) and, unless ``figures=False``, ``figures/`` (see
    :func:`save_attribution_figures`). ``out``, the input, the methods, the removal mode and
    the probe file are checked before the model loads. Under ``torchrun`` / ``accelerate launch`` the
    sentences are shared out between ranks and rank 0 scores and writes the tables and
    figures once every rank is done.

    Parameters
    ----------
    model
        A model name or path, or a model from :func:`bertology.load_model`.
    input
        A TXT (one sentence a line), TSV, CSV or JSONL file, or a list of sentences.
    out
        Output directory (a re-run resumes).
    methods
        Names of :func:`bertology.methods`, e.g. ``"integrated_gradients"`` (alias ``"ig"``)
        and ``"lime"``.
    probe, probe_data, layer
        As in :func:`build_classifier`.
    target
        Label name or index to explain; ``None`` explains each sentence's predicted class.
    n_steps, baseline
        Integrated gradients' steps; the baseline token (``"pad"``, ``"mask"``, ``"unk"``) of
        integrated gradients, DeepLift and GradientSHAP.
    num_samples
        LIME's and KernelSHAP's perturbed texts per sentence.
    seed
        The random state of LIME, KernelSHAP and GradientSHAP.
    removal
        ``"remove"`` or ``"mask"`` (see :func:`~bertology.analyses.attribution.faithfulness.faithfulness`).
    text_column
        Column of ``input`` holding the sentences (default ``sentence``, else ``text``).
    limit
        Attribute only the first ``limit`` sentences.
    batch_size
        Texts per forward pass: LIME's, KernelSHAP's and occlusion's perturbed inputs and the
        faithfulness variants.
    device
        Device a model name is loaded on.
    trust_pickle
        Let ``probe`` be a pickle or joblib file, which can run code (see :func:`read_probe`).
    figures
        Render the figures.
    progress
        Show progress bars.

    Returns
    -------
    FaithfulnessResult

    Raises
    ------
    InputError
        An output that cannot be written, a missing or empty input, an unknown method,
        target or removal mode, or a probe file that is missing or a pickle without
        ``trust_pickle``.

    Examples
    --------
    >>> import tempfile
    >>> result = attribute_task("minilm", ["a gorgeous, witty film"], tempfile.mkdtemp(), methods=["lime"],
    ...                         num_samples=20, figures=False, progress=False)
    >>> result.summary()["method"].tolist()
    ['lime']
    """
    out = check_output(out)
    texts = _read_texts(input, text_column, limit)
    for method in methods:
        resolve_method(method)
    if removal not in ("remove", "mask"):
        raise InputError(f"Unknown removal {removal!r}: choose 'remove' (delete tokens) or 'mask' ([MASK]).")
    clf = build_classifier(model, probe=probe, probe_data=probe_data, layer=layer, device=device, progress=progress,
                           trust_pickle=trust_pickle)
    options = {"integrated_gradients": {"n_steps": n_steps, "baseline": baseline},
               "lime": {"num_samples": num_samples, "seed": seed, "batch_size": batch_size},
               "deeplift": {"baseline": baseline}, "gradient_shap": {"baseline": baseline, "seed": seed},
               "occlusion": {"batch_size": batch_size},
               "kernel_shap": {"num_samples": num_samples, "seed": seed, "batch_size": batch_size}}
    results = attribute_texts(clf, texts, out, methods=methods, target=target, options=options, progress=progress)
    if rank_info().rank != 0:
        barrier()
        return FaithfulnessResult.load(out)
    scores = faithfulness(clf, results, removal=removal, batch_size=batch_size)
    scores.save(out)
    scores.summary().to_csv(out / SUMMARY_FILE, index=False)
    (out / CLASSIFIER_FILE).write_text(json.dumps(clf.description, indent=1, default=str), encoding="utf-8")
    first: dict[str, AttributionResult] = {}
    for result in results:
        first.setdefault(result.method, result)
    for method, result in first.items():
        result.save_html(out / f"example_{method}.html")
    if figures:
        save_attribution_figures(scores, results, out)
    barrier()
    return scores


def explanation_task(model: str | LoadedModel, out: str | Path, input: str | Path | Sequence[str] | None = None, *,
                     rationales: str | Path | None = None, split: str = "test",
                     methods: Sequence[str] | None = None, probe: str | Path | None = None,
                     probe_data: str | Path | None = None, layer: int = -1, target: str | int | None = None,
                     n_steps: int = 50, num_samples: int = 1000, seed: int = 0, removal: str = "remove",
                     text_column: str | None = None, limit: int | None = None, n_boot: int = 1000,
                     batch_size: int = 32, device: str | None = None, trust_pickle: bool = False,
                     figures: bool = True, progress: bool = True) -> ExplanationBenchmark:
    """What ``bertology explanations`` does: every method on the same texts, scored side by side.

    Runs :func:`~bertology.analyses.attribution.benchmark.explanation_benchmark` on the
    sentences of ``input`` or, with ``rationales``, on the documents of an ERASER dataset
    (then plausibility against the human rationales too), with the classifier of
    :func:`build_classifier`. Writes the saved
    :class:`~bertology.analyses.attribution.benchmark.ExplanationBenchmark` into ``out``
    (``benchmark_scores.csv``, ``benchmark_faithfulness.csv``, ``benchmark_plausibility.csv``,
    ``benchmark_agreement.csv``, ``benchmark_attributions.jsonl``, ``benchmark.json``),
    ``classifier.json`` and, unless ``figures=False``, ``figures/explanation_benchmark``.
    ``out``, the input or rationales, the methods, the removal mode and the probe file are
    checked before the model loads.

    Parameters
    ----------
    model
        A model name or path, or a model from :func:`bertology.load_model`.
    out
        Output directory.
    input
        A TXT (one sentence a line), TSV, CSV or JSONL file, or a list of sentences; ``None``
        with ``rationales``.
    rationales, split
        An ERASER dataset directory and the split to read (see
        :func:`~bertology.analyses.attribution.plausibility.load_eraser`).
    methods
        Names of :func:`bertology.methods` (default
        :data:`~bertology.analyses.attribution.names.DEFAULT_METHODS`).
    probe, probe_data, layer, trust_pickle
        As in :func:`build_classifier`.
    target
        Label name or index to explain; ``None`` explains each text's predicted class.
    n_steps, num_samples, seed
        Integrated gradients' steps; LIME's and KernelSHAP's samples; the seed of the random methods.
    removal
        ``"remove"`` or ``"mask"`` (see :func:`~bertology.analyses.attribution.faithfulness.faithfulness`).
    text_column, limit
        Column of ``input`` with the sentences; benchmark only the first ``limit`` texts.
    n_boot
        Bootstrap resamples of the confidence intervals.
    batch_size, device, figures, progress
        Texts per forward pass; device a model name is loaded on; render the figure; show progress bars.

    Returns
    -------
    ExplanationBenchmark
        The benchmark, as saved in ``out``.

    Raises
    ------
    InputError
        An output that cannot be written, no input or both input and rationales, an empty
        input, an unknown method or removal mode, or a bad probe file.

    Examples
    --------
    >>> import tempfile
    >>> bench = explanation_task("minilm", tempfile.mkdtemp(), ["a gorgeous, witty film", "dull and long"],
    ...                          methods=["saliency", "occlusion"], n_boot=20, figures=False, progress=False)
    >>> sorted(bench.to_frame()["method"].unique())
    ['occlusion', 'saliency']
    """
    out = check_output(out)
    if (input is None) == (rationales is None):
        raise InputError("Give the texts to explain (--input FILE) or an ERASER dataset (--rationales DIR), "
                         "not both and not neither.")
    names = [resolve_method(method) for method in methods or DEFAULT_METHODS]
    if removal not in ("remove", "mask"):
        raise InputError(f"Unknown removal {removal!r}: choose 'remove' (delete tokens) or 'mask' ([MASK]).")
    human = None if rationales is None else load_eraser(rationales, split)[:limit]
    texts = None if input is None else _read_texts(input, text_column, limit)
    if texts == []:
        raise InputError(f"No texts in {input}: give a file with at least one sentence.")
    clf = build_classifier(model, probe=probe, probe_data=probe_data, layer=layer, device=device, progress=progress,
                           trust_pickle=trust_pickle)
    options = {"integrated_gradients": {"n_steps": n_steps}, "lime": {"num_samples": num_samples, "seed": seed},
               "kernel_shap": {"num_samples": num_samples, "seed": seed}, "gradient_shap": {"seed": seed}}
    bench = explanation_benchmark(clf, texts, methods=names, rationales=human, target=target, removal=removal,
                                  batch_size=batch_size, n_boot=n_boot, seed=seed, progress=progress,
                                  options={name: value for name, value in options.items() if name in names})
    bench.save(out)
    (out / CLASSIFIER_FILE).write_text(json.dumps(clf.description, indent=1, default=str), encoding="utf-8")
    if figures:
        figure = bench.plot()
        save_figure(figure, out / "figures" / "explanation_benchmark")
        plt.close(figure)
    return bench
