"""``explanation_benchmark``: every attribution method on one dataset, scored for faithfulness, plausibility,
rank agreement and time (the benchmark table of ferret, Attanasio et al. 2023)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bertology.analyses.attribution.attention_methods import remember_attention
from bertology.analyses.attribution.batched import batched_gradients, is_batched
from bertology.analyses.attribution.classifier import Classifier
from bertology.analyses.attribution.faithfulness import BINS, faithfulness, rank_correlations
from bertology.analyses.attribution.methods import get_method, resolve_method
from bertology.analyses.attribution.names import DEFAULT_METHODS, TITLES
from bertology.analyses.attribution.plausibility import (
    HumanRationale,
    PlausibilityResult,
    load_eraser,
    plausibility,
)
from bertology.analyses.attribution.result import AttributionResult
from bertology.analyses.attribution.words import (
    TokenizedText,
    tokenize_words,
)
from bertology.core.errors import InputError
from bertology.core.extraction import length_sorted_batches
from bertology.core.io import write_json_atomic
from bertology.core.progress import progress_bar
from bertology.core.results import Result
from bertology.core.stats import bootstrap_ci
from bertology.core.viz import new_figure, paper_style
from bertology.core.viz.style import DIVERGING_CMAP, SEQUENTIAL_CMAP

FAITHFULNESS_METRICS = ("aopc_comprehensiveness", "aopc_sufficiency")
PLAUSIBILITY_METRICS = ("token_f1", "iou_f1", "auprc")
HIGHER_IS_BETTER = {"aopc_comprehensiveness": True, "aopc_sufficiency": False, "token_f1": True, "iou_f1": True,
                    "auprc": True, "time_per_example_s": False}
LABELS = {"aopc_comprehensiveness": "AOPC\ncomp. ↑", "aopc_sufficiency": "AOPC\nsuff. ↓",
          "token_f1": "token\nF1 ↑", "iou_f1": "IOU\nF1 ↑", "auprc": "AUPRC\n↑", "time_per_example_s": "ms per\ntext ↓"}
SCORES_FILE = "benchmark_scores.csv"
BINS_FILE = "benchmark_faithfulness.csv"
PLAUSIBILITY_FILE = "benchmark_plausibility.csv"
AGREEMENT_FILE = "benchmark_agreement.csv"
ATTRIBUTIONS_FILE = "benchmark_attributions.jsonl"
META_FILE = "benchmark.json"


@dataclass
class ExplanationBenchmark(Result):
    """Methods × examples: faithfulness, plausibility, rank agreement and time.

    ``save(out)`` writes ``benchmark_scores.csv``, ``benchmark_faithfulness.csv``,
    ``benchmark_plausibility.csv``, ``benchmark_agreement.csv``,
    ``benchmark_attributions.jsonl`` and ``benchmark.json`` into ``out``.

    Attributes
    ----------
    scores
        One row per (method, example): ``method``, ``example``, ``target``, ``time_s``,
        ``aopc_comprehensiveness``, ``aopc_sufficiency`` (ERASER's AOPC, the mean over the bins).
    faithfulness
        One row per (method, example, bin), as
        :class:`~bertology.analyses.attribution.faithfulness.FaithfulnessResult` ``.scores`` with
        ``example`` for ``item``.
    plausibility
        One row per (method, example) as :class:`~bertology.analyses.attribution.plausibility.PlausibilityResult`
        (empty without rationales).
    pairs
        One row per (example, method_a, method_b), both orders and each method with itself:
        ``spearman`` and ``kendall`` of the word scores.
    attributions
        The attributions, example-major.
    meta
        ``methods``, ``n_examples``, ``removal``, ``bins``, ``n_boot``, ``level``, ``seed``, ``options``,
        ``plausibility`` (its fraction and IOU threshold) and the classifier.

    Examples
    --------
    >>> import tempfile
    >>> scores = pd.DataFrame({"method": ["lime"] * 2, "example": [0, 1], "target": ["pos"] * 2,
    ...     "time_s": [0.1, 0.2], "aopc_comprehensiveness": [0.3, 0.5], "aopc_sufficiency": [0.1, 0.0]})
    >>> bench = ExplanationBenchmark(scores, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), [], {"methods": ["lime"]})
    >>> ExplanationBenchmark.load(bench.save(tempfile.mkdtemp())).to_frame()["metric"].tolist()
    ['aopc_comprehensiveness', 'aopc_sufficiency', 'time_per_example_s']
    """

    scores: pd.DataFrame
    faithfulness: pd.DataFrame
    plausibility: pd.DataFrame
    pairs: pd.DataFrame
    attributions: list[AttributionResult] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def methods(self) -> list[str]:
        """The methods, in the order they were run."""
        return list(self.meta.get("methods") or dict.fromkeys(self.scores["method"]))

    def to_frame(self) -> pd.DataFrame:
        """Tidy method × metric table: the dataset value with a percentile bootstrap CI over examples.

        Faithfulness and time are means over examples; plausibility follows
        :meth:`PlausibilityResult.summary
        <bertology.analyses.attribution.plausibility.PlausibilityResult.summary>` (IOU F1 is
        the F1 of the mean IOU precision and recall).

        Returns
        -------
        pandas.DataFrame
            Columns ``method``, ``metric``, ``mean``, ``low``, ``high``, ``n_examples``.

        Examples
        --------
        >>> scores = pd.DataFrame({"method": ["lime"] * 2, "example": [0, 1], "target": ["pos"] * 2,
        ...     "time_s": [0.1, 0.3], "aopc_comprehensiveness": [0.2, 0.4], "aopc_sufficiency": [0.1, 0.0]})
        >>> ExplanationBenchmark(scores, pd.DataFrame(), pd.DataFrame(), pd.DataFrame()).to_frame()["mean"].round(2).tolist()
        [0.3, 0.05, 0.2]
        """
        n_boot, level, seed = self.meta.get("n_boot", 1000), self.meta.get("level", 0.95), self.meta.get("seed", 0)
        plausible = None
        if len(self.plausibility):
            summary = PlausibilityResult(self.plausibility, {"n_boot": n_boot, "level": level, "seed": seed}).summary()
            plausible = summary.set_index(["method", "metric"])
        records = []
        for method in self.methods:
            rows = self.scores[self.scores["method"] == method]
            columns = {**{metric: metric for metric in FAITHFULNESS_METRICS}, "time_per_example_s": "time_s"}
            for metric, column in columns.items():
                values = rows[column].to_numpy(float)
                low, high = bootstrap_ci(values, n_boot, level, seed)
                records.append({"method": method, "metric": metric, "mean": float(np.mean(values)), "low": low,
                                "high": high, "n_examples": len(values)})
            if plausible is not None:
                for metric in PLAUSIBILITY_METRICS:
                    row = plausible.loc[(method, metric)]
                    records.append({"method": method, "metric": metric, "mean": float(row["value"]),
                                    "low": float(row["low"]), "high": float(row["high"]),
                                    "n_examples": int(row["n_items"])})
        frame = pd.DataFrame(records, columns=["method", "metric", "mean", "low", "high", "n_examples"])
        order = {metric: i for i, metric in enumerate(HIGHER_IS_BETTER)}
        return frame.sort_values(["method", "metric"], key=lambda c: c.map(
            order if c.name == "metric" else {m: i for i, m in enumerate(self.methods)}), kind="stable"
        ).reset_index(drop=True)

    def agreement(self, statistic: str = "spearman") -> pd.DataFrame:
        """Method × method rank agreement: the per-example correlation of word scores, averaged over examples.

        Parameters
        ----------
        statistic
            ``"spearman"`` (ρ) or ``"kendall"`` (τ).

        Returns
        -------
        pandas.DataFrame
            Square, indexed and labelled by method; examples where a correlation is undefined
            (constant scores) are left out of that pair's mean.

        Raises
        ------
        InputError
            For another statistic.

        Examples
        --------
        >>> pairs = pd.DataFrame({"example": [0] * 4, "method_a": ["a", "a", "b", "b"],
        ...     "method_b": ["a", "b", "a", "b"], "spearman": [1.0, -0.5, -0.5, 1.0], "kendall": [1.0, -0.3, -0.3, 1.0]})
        >>> ExplanationBenchmark(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pairs,
        ...                      meta={"methods": ["a", "b"]}).agreement().values.tolist()
        [[1.0, -0.5], [-0.5, 1.0]]
        """
        if statistic not in ("spearman", "kendall"):
            raise InputError(f"Unknown agreement statistic {statistic!r}: choose 'spearman' or 'kendall'.")
        methods = self.methods
        if not len(self.pairs):
            return pd.DataFrame(np.nan, index=pd.Index(methods, name="method"), columns=methods)
        table = self.pairs.groupby(["method_a", "method_b"])[statistic].mean().unstack()
        return table.reindex(index=methods, columns=methods).rename_axis(index="method", columns=None)

    def plot(self, statistic: str = "spearman") -> Figure:
        """The benchmark table as a heatmap (methods × metrics, each column coloured on its own scale, darker =
        better) above the rank-agreement matrix, values in the cells.

        Returns
        -------
        matplotlib.figure.Figure

        Examples
        --------
        >>> scores = pd.DataFrame({"method": ["lime"] * 2, "example": [0, 1], "target": ["pos"] * 2,
        ...     "time_s": [0.1, 0.3], "aopc_comprehensiveness": [0.2, 0.4], "aopc_sufficiency": [0.1, 0.0]})
        >>> len(ExplanationBenchmark(scores, pd.DataFrame(), pd.DataFrame(), pd.DataFrame()).plot().axes)
        2
        """
        methods = self.methods
        table = self.to_frame().pivot(index="method", columns="metric", values="mean")
        metrics = [metric for metric in HIGHER_IS_BETTER if metric in table.columns]
        table = table.reindex(index=methods, columns=metrics)
        agreement = self.agreement(statistic)
        names = [_title(method) for method in methods]
        row_height = 0.17
        with paper_style():
            top, bottom = row_height * len(methods) + 0.6, row_height * len(methods) + 0.9
            fig, (ax, ax2) = new_figure("column", height=top + bottom, nrows=2,
                                        gridspec_kw={"height_ratios": [top, bottom]})
            values = table.to_numpy(float)
            shown = values * np.where(np.array(metrics) == "time_per_example_s", 1000.0, 1.0)
            low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                goodness = np.where(high > low, (values - low) / (high - low), 0.5)
            goodness = np.where([HIGHER_IS_BETTER[m] for m in metrics], goodness, 1 - goodness)
            ax.imshow(np.nan_to_num(goodness, nan=0.5), cmap=SEQUENTIAL_CMAP, vmin=-0.15, vmax=1.15, aspect="auto")
            for (i, j), value in np.ndenumerate(shown):
                text = _cell(value, metrics[j] == "time_per_example_s")
                ax.text(j, i, text, ha="center", va="center", fontsize=5.5,
                        color="white" if np.nan_to_num(goodness[i, j], nan=0.5) < 0.55 else "black")
            ax.set_xticks(range(len(metrics)), [LABELS[m] for m in metrics], fontsize=5.5)
            ax.xaxis.tick_top()
            ax.set_yticks(range(len(methods)), names, fontsize=5.5)
            ax.tick_params(length=0)
            n = int(self.scores["example"].nunique()) if len(self.scores) else 0
            ax.set_title(f"Explanation benchmark, n = {n} texts\n(lighter = better)", fontsize=6.5, loc="left",
                         pad=16)
            matrix = agreement.to_numpy(float)
            ax2.imshow(matrix, cmap=DIVERGING_CMAP, vmin=-1, vmax=1, aspect="auto")
            for (i, j), value in np.ndenumerate(matrix):
                ax2.text(j, i, "–" if not np.isfinite(value) else f"{value:.2f}".replace("0.", ".").replace(
                    "1.00", "1"), ha="center", va="center", fontsize=4.5,
                    color="white" if np.isfinite(value) and abs(value) > 0.6 else "black")
            ax2.set_xticks(range(len(methods)), names, rotation=45, ha="right", rotation_mode="anchor", fontsize=5.5)
            ax2.set_yticks(range(len(methods)), names, fontsize=5.5)
            ax2.tick_params(length=0)
            ax2.set_title(f"Rank agreement ({'Spearman ρ' if statistic == 'spearman' else 'Kendall τ'}, "
                          "mean over texts)", fontsize=6.5, loc="left")
        return fig

    def _write(self, directory: Path) -> None:
        self.scores.to_csv(directory / SCORES_FILE, index=False)
        self.faithfulness.to_csv(directory / BINS_FILE, index=False)
        self.plausibility.to_csv(directory / PLAUSIBILITY_FILE, index=False)
        self.pairs.to_csv(directory / AGREEMENT_FILE, index=False)
        (directory / ATTRIBUTIONS_FILE).write_text(
            "".join(json.dumps(r.to_dict()) + "\n" for r in self.attributions), encoding="utf-8")
        write_json_atomic(directory / META_FILE, self.meta)

    @classmethod
    def _read(cls, directory: Path) -> ExplanationBenchmark:
        def table(name: str, **kwargs: Any) -> pd.DataFrame:
            try:
                return pd.read_csv(directory / name, **kwargs)
            except pd.errors.EmptyDataError:
                return pd.DataFrame()
        lines = (directory / ATTRIBUTIONS_FILE).read_text(encoding="utf-8").splitlines()
        return cls(table(SCORES_FILE), table(BINS_FILE),
                   table(PLAUSIBILITY_FILE, dtype={"annotation_id": str, "docid": str}), table(AGREEMENT_FILE),
                   [AttributionResult.from_dict(json.loads(line)) for line in lines if line.strip()],
                   json.loads((directory / META_FILE).read_text(encoding="utf-8")))


def _cell(value: float, milliseconds: bool) -> str:
    """A table cell: two decimals, milliseconds as integers from 10 on, tiny values in scientific notation."""
    if not np.isfinite(value):
        return "–"
    if milliseconds and abs(value) >= 10:
        return f"{value:.0f}"
    return f"{value:.2f}" if abs(value) >= 0.01 or value == 0 else f"{value:.0e}"


def _title(method: str) -> str:
    return TITLES.get(method, method.replace("_", " "))


def _targets(clf: Classifier, tokenized: Sequence[TokenizedText], target: Any, batch_size: int) -> list[int]:
    if target is None:
        probs = clf.probabilities_of_ids([t.input_ids for t in tokenized], batch_size)
        return [int(i) for i in probs.argmax(axis=1)]
    if isinstance(target, (str, int, np.integer)):
        return [clf.label_index(target)] * len(tokenized)
    target = list(target)
    if len(target) != len(tokenized):
        raise InputError(f"Got {len(target)} targets for {len(tokenized)} texts: give one target per text, one "
                         "label for all, or None for each text's predicted class.")
    return [clf.label_index(t) for t in target]


def _method_options(names: Sequence[str], options: Mapping[str, Mapping[str, Any]] | None,
                    shared: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per method, its options: ``shared`` ones go to every method that takes them; ``options`` per method."""
    taken = {key for name in names for key in get_method(name).options}
    unknown = sorted(set(shared) - taken)
    if unknown:
        raise InputError(f"No chosen method takes the option(s) {', '.join(map(repr, unknown))}: bertology.methods() "
                         "lists each method's options.")
    chosen = {name: {k: v for k, v in shared.items() if k in get_method(name).options} for name in names}
    for key, value in (options or {}).items():
        name = resolve_method(key)
        if name not in chosen:
            raise InputError(f"options names {key!r}, which is not among the benchmarked methods {list(chosen)}.")
        get_method(name).check_options(value)
        chosen[name].update(value)
    return chosen


def _pairs(results: Sequence[Sequence[AttributionResult]], names: Sequence[str]) -> pd.DataFrame:
    """Spearman's ρ and Kendall's τ-b of every two methods' word scores on each example
    (:func:`~bertology.analyses.attribution.faithfulness.rank_correlations`), the diagonal included."""
    frames = []
    for example, row in enumerate(results):
        scores = np.array([result.word_scores for result in row], dtype=np.float64)  # (methods, words)
        if scores.shape[1] < 2:
            continue
        spearman, kendall = rank_correlations(scores)
        a, b = np.meshgrid(np.arange(len(names)), np.arange(len(names)), indexing="ij")
        frames.append(pd.DataFrame({"example": example, "method_a": np.asarray(names)[a.ravel()],
                                    "method_b": np.asarray(names)[b.ravel()],
                                    "spearman": spearman.ravel(), "kendall": kendall.ravel()}))
    columns = ["example", "method_a", "method_b", "spearman", "kendall"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def explanation_benchmark(clf: Classifier, texts: Sequence[str] | None = None,
                          methods: Sequence[str] = DEFAULT_METHODS,
                          rationales: Sequence[HumanRationale] | str | Path | None = None,
                          target: str | int | Sequence[str | int] | None = None, *, split: str = "test",
                          removal: str = "remove", bins: Sequence[float] = BINS, batch_size: int = 32,
                          options: Mapping[str, Mapping[str, Any]] | None = None, n_boot: int = 1000,
                          level: float = 0.95, seed: int = 0, progress: bool = True,
                          **method_options: Any) -> ExplanationBenchmark:
    """Run several attribution methods on the same texts and score them side by side.

    For every method × text: the attribution (through the method registry, see
    :func:`bertology.methods`; the gradient methods run over padded, length-sorted batches of
    texts (:func:`~bertology.analyses.attribution.batched.batched_gradients`), the attention of
    every text is read in the same batches, the others run text by text), its ERASER faithfulness — comprehensiveness and
    sufficiency over the top-k bins and their AOPC (DeYoung et al. 2020,
    :func:`~bertology.analyses.attribution.faithfulness.faithfulness`) —, with human
    rationales its plausibility (token F1, IOU F1 at 0.5, AUPRC,
    :func:`~bertology.analyses.attribution.plausibility.plausibility`), and its time. The
    whole run is inside :meth:`Classifier.memoized
    <bertology.analyses.attribution.classifier.Classifier.memoized>`: a token sequence that
    several steps classify (a text itself, a LIME perturbation that is also a KernelSHAP
    coalition, a faithfulness variant that several methods or bins share) runs once, so does
    the attention reading of a text that the attention-based methods share, and its time
    counts for the step that ran it first. Methods
    are compared by Spearman's ρ and Kendall's τ of their word scores on each text, averaged
    over texts. The table follows ferret's benchmark (Attanasio et al. 2023, "ferret: a
    Framework for Benchmarking Explainers on Transformers").

    Parameters
    ----------
    clf
        The classifier to explain.
    texts
        The sentences; with ``rationales`` they default to the rationales' documents.
    methods
        Names of :func:`bertology.methods`.
    rationales
        Human rationales (:func:`~bertology.analyses.attribution.plausibility.load_eraser`) or
        an ERASER dataset path; the texts are then their documents, in order.
    target
        Label name or index for every text, one per text, or ``None`` (each text's predicted class).
    split
        Split read when ``rationales`` is an ERASER directory.
    removal
        ``"remove"`` or ``"mask"`` (see :func:`~bertology.analyses.attribution.faithfulness.faithfulness`).
    bins
        Faithfulness rationale sizes in percent.
    batch_size
        Texts per batched gradient call and per forward pass of the faithfulness variants.
    options
        Per method, its options, e.g. ``{"lime": {"num_samples": 200}}``.
    n_boot, level, seed
        Bootstrap resamples, coverage and seed of the confidence intervals.
    progress
        Show a progress bar.
    **method_options
        Options given to every chosen method that takes them (``n_steps=16``,
        ``num_samples=200``...).

    Returns
    -------
    ExplanationBenchmark

    Raises
    ------
    InputError
        No texts, texts that differ from the rationales' documents, an unknown method, an
        option no chosen method takes, or a wrong number of targets.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from tests.tiny_models import build_tiny_model
    >>> clf = Classifier.from_pretrained(str(build_tiny_model("bert", "classifier", pathlib.Path(tempfile.mkdtemp()))))
    >>> bench = explanation_benchmark(clf, ["a fine film", "dull and long"], methods=["saliency", "occlusion"],
    ...                               n_boot=50, progress=False)
    >>> bench.agreement().shape
    (2, 2)
    """
    names = list(dict.fromkeys(resolve_method(method) for method in methods))
    if not names:
        raise InputError("No methods to benchmark: give at least one name of bertology.methods().")
    chosen = _method_options(names, options, method_options)
    if removal not in ("remove", "mask"):
        raise InputError(f"Unknown removal {removal!r}: choose 'remove' (delete tokens) or 'mask' ([MASK]).")
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}.")
    if isinstance(rationales, (str, Path)):
        rationales = load_eraser(rationales, split)
    if isinstance(texts, str):
        raise InputError("explanation_benchmark takes a list of texts, not one string: wrap it as [text].")
    if rationales is not None:
        documents = [r.text for r in rationales]
        if texts is not None and list(texts) != documents:
            raise InputError("The texts are not the rationales' documents: leave texts=None to benchmark on the "
                             "rationales' documents, in order.")
        texts = documents
    texts = list(texts or [])
    if not texts:
        raise InputError("No texts to explain: give at least one sentence (or ERASER rationales).")
    tokenized = [tokenize_words(clf, text) for text in texts]
    with clf.memoized():
        targets = _targets(clf, tokenized, target, batch_size)
        if any(get_method(name).family == "attention" for name in names):
            remember_attention(clf, tokenized, batch_size)
        results: list[list[AttributionResult | None]] = [[None] * len(names) for _ in texts]
        seconds = np.zeros((len(texts), len(names)))
        lengths = np.array([len(t.input_ids) for t in tokenized])
        work = [(column, name, rows) for column, name in enumerate(names)
                for rows in (length_sorted_batches(lengths, batch_size) if is_batched(name, chosen[name]) else
                             [np.array([row]) for row in range(len(texts))])]
        for column, name, rows in progress_bar(work, desc="benchmark", unit="batch", progress=progress):
            start = time.perf_counter()
            if is_batched(name, chosen[name]):
                made = batched_gradients(clf, name, [tokenized[r] for r in rows], [targets[r] for r in rows],
                                          chosen[name])
            else:
                made = [get_method(name).function(clf, tokenized[rows[0]], targets[rows[0]], **chosen[name])]
            elapsed = (time.perf_counter() - start) / len(rows)
            for row, result in zip(rows, made):
                results[row][column] = result
                seconds[row, column] = elapsed
        flat = [result for row in results for result in row]
        faithful = faithfulness(clf, flat, bins=bins, removal=removal, batch_size=batch_size).scores
    faithful = faithful.assign(example=np.repeat(np.arange(len(texts)), len(names) * len(bins))).drop(columns="item")
    faithful = faithful[["method", "example"] + [c for c in faithful.columns if c not in ("method", "example")]]
    aopc = faithful.groupby(["method", "example"], sort=False)[["comprehensiveness", "sufficiency"]].mean()
    scores = pd.DataFrame([{"method": name, "example": example, "target": clf.labels[targets[example]],
                            "time_s": seconds[example, column],
                            "aopc_comprehensiveness": aopc.loc[(name, example), "comprehensiveness"],
                            "aopc_sufficiency": aopc.loc[(name, example), "sufficiency"]}
                           for column, name in enumerate(names) for example in range(len(texts))])
    plausible = pd.DataFrame()
    meta: dict[str, Any] = {"methods": names, "n_examples": len(texts), "removal": removal, "bins": list(bins),
                            "n_boot": n_boot, "level": level, "seed": seed, "options": chosen,
                            "classifier": clf.description}
    if rationales is not None:
        scored = plausibility([r[column] for column in range(len(names)) for r in results], rationales,
                              n_boot=n_boot, level=level, seed=seed)
        plausible = scored.frame
        meta["plausibility"] = {k: scored.meta[k] for k in ("fraction", "iou_threshold", "n_truncated")}
    return ExplanationBenchmark(scores, faithful, plausible, _pairs(results, names), flat, meta)
