"""Plausibility of attributions against human rationales (DeYoung et al. 2020, ERASER).

Reads the ERASER format as distributed (``{train,val,test}.jsonl`` annotation files next to
a ``docs/`` directory or a ``docs.jsonl`` file) and scores word-level attributions with the
metrics of ERASER's ``rationale_benchmark/metrics.py``: token-level precision, recall and F1
of the top-k words, IOU F1 of their spans, and the area under the precision-recall curve of
the soft scores.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bertology.analyses.attribution.result import AttributionResult
from bertology.core.data.tables import jsonl_objects, read_text
from bertology.core.errors import InputError
from bertology.core.results import META_FILE, TABLE_FILE, TableResult
from bertology.core.stats import bootstrap_ci
from bertology.core.viz import PALETTE, new_figure, paper_style

logger = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")
METRICS = ("token_f1", "iou_f1", "auprc")
"""The metrics :meth:`PlausibilityResult.plot` draws."""
SUMMARY_METRICS = ("token_precision", "token_recall", "token_f1", "iou_precision", "iou_recall", "iou_f1", "auprc",
                   "average_precision")


@dataclass(frozen=True)
class HumanRationale:
    """The human rationale of one (annotation, document) pair of an ERASER dataset.

    Attributes
    ----------
    annotation_id
        ERASER's ``annotation_id``.
    docid
        The document the evidence lies in.
    tokens
        The document's whitespace tokens (its sentences flattened, as ERASER's
        ``load_flattened_documents``).
    spans
        The distinct evidence spans ``(start_token, end_token)``, end exclusive, in file order.
    classification
        The annotation's label.
    query
        The annotation's query (a question, a hypothesis...).

    Examples
    --------
    >>> r = HumanRationale("a1", "d1", ("a", "fine", "film"), ((1, 2),), "POS", "")
    >>> r.text, r.mask.tolist()
    ('a fine film', [False, True, False])
    """

    annotation_id: str
    docid: str
    tokens: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    classification: str | None = None
    query: str | None = None

    @property
    def text(self) -> str:
        """The document as one string, to pass to :func:`bertology.attribute`."""
        return " ".join(self.tokens)

    @property
    def mask(self) -> np.ndarray:
        """Per token, whether any evidence span covers it."""
        return spans_to_mask(self.spans, len(self.tokens))


def _document_tokens(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines()]
    return [token for line in lines if line for token in line.split(" ") if token]


def _load_documents(data_dir: Path, docids: set[str]) -> dict[str, list[str]]:
    docs_file, docs_dir = data_dir / "docs.jsonl", data_dir / "docs"
    if docs_file.is_file():
        documents = {}
        for number, row in jsonl_objects(read_text(docs_file, "ERASER documents file"), docs_file):
            if "docid" not in row or "document" not in row:
                raise InputError(f"{docs_file}:{number}: a document line needs 'docid' and 'document'.")
            documents[str(row["docid"])] = _document_tokens(str(row["document"]))
        missing = sorted(docids - documents.keys())
        if missing:
            raise InputError(f"{docs_file} has no document {missing[0]!r}: give the dataset's complete docs.jsonl.")
        return {d: documents[d] for d in docids}
    if not docs_dir.is_dir():
        raise InputError(f"{data_dir} has neither a docs/ directory nor docs.jsonl: an ERASER dataset keeps its "
                         f"documents next to its annotation files.")
    return {d: _document_tokens(read_text(docs_dir / d, "ERASER document")) for d in sorted(docids)}


def _annotation_file(path: Path, split: str) -> Path:
    if path.is_dir():
        if split not in SPLITS:
            raise InputError(f"Unknown split {split!r}: choose one of {', '.join(SPLITS)}.")
        return path / f"{split}.jsonl"
    return path


def _spans(row: dict[str, Any], where: str) -> list[tuple[str, int, int]]:
    evidences = row.get("evidences")
    if not isinstance(evidences, list) or not all(isinstance(group, list) for group in evidences):
        raise InputError(f"{where}: 'evidences' must be a list of evidence groups (lists of evidence objects).")
    spans = []
    for group in evidences:
        for evidence in group:
            if not isinstance(evidence, dict) or not {"docid", "start_token", "end_token"} <= evidence.keys():
                raise InputError(f"{where}: every evidence needs 'docid', 'start_token' and 'end_token'.")
            start, end = evidence["start_token"], evidence["end_token"]
            if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end:
                raise InputError(f"{where}: evidence {evidence.get('text', '')!r} has span [{start}, {end}); "
                                 f"tokens must satisfy 0 <= start_token < end_token.")
            spans.append((str(evidence["docid"]), start, end))
    return spans


def load_eraser(path: str | Path, split: str = "test") -> list[HumanRationale]:
    """Human rationales of an ERASER dataset (DeYoung et al. 2020), one per (annotation, document).

    Reads the format of ERASER's ``rationale_benchmark/utils.py``: each line of the
    annotation file is ``{"annotation_id", "query", "evidences": [[{"docid", "start_token",
    "end_token", "text", ...}, ...], ...], "classification", "docids", ...}`` (evidence groups
    of spans, end exclusive); documents are the files of ``docs/`` named by docid (or the
    lines of ``docs.jsonl``), sentences on lines of space-separated tokens. An annotation
    gives one rationale per document named by its evidences or its ``docids``; an annotation
    with neither uses the document named like the annotation (as in Movies).

    Parameters
    ----------
    path
        The dataset directory, or one annotation file inside it.
    split
        ``"train"``, ``"val"`` or ``"test"`` when ``path`` is a directory.

    Returns
    -------
    list of HumanRationale
        In file order.

    Raises
    ------
    InputError
        A missing file, a line that is not an annotation, an evidence outside its document,
        or a document that is missing; the message names the file and line.

    Examples
    --------
    >>> rationales = load_eraser("tests/fixtures/eraser", split="test")
    >>> rationales[0].annotation_id, rationales[0].spans
    ('negR_000.txt', ((4, 7), (11, 13), (17, 18)))
    """
    path = Path(path)
    annotation_file = _annotation_file(path, split)
    rows = jsonl_objects(read_text(annotation_file, "ERASER annotation file"), annotation_file)
    parsed = []
    for number, row in rows:
        where = f"{annotation_file}:{number}"
        if "annotation_id" not in row or "evidences" not in row:
            raise InputError(f"{where}: an ERASER annotation needs 'annotation_id' and 'evidences'.")
        spans = _spans(row, where)
        docids = list(dict.fromkeys([d for d, _, _ in spans] + [str(d) for d in row.get("docids") or []]))
        parsed.append((where, row, spans, docids or [str(row["annotation_id"])]))
    documents = _load_documents(annotation_file.parent, {d for *_, docids in parsed for d in docids})
    rationales = []
    for where, row, spans, docids in parsed:
        for docid in docids:
            tokens = documents[docid]
            own = list(dict.fromkeys((start, end) for d, start, end in spans if d == docid))
            for start, end in own:
                if end > len(tokens):
                    raise InputError(f"{where}: evidence [{start}, {end}) lies outside document {docid!r} of "
                                     f"{len(tokens)} tokens: check that docs/ belongs to this annotation file.")
            query = row.get("query")
            rationales.append(HumanRationale(str(row["annotation_id"]), docid, tuple(tokens), tuple(own),
                                             row.get("classification"), None if query is None else str(query)))
    return rationales


def spans_to_mask(spans: Sequence[tuple[int, int]], n_tokens: int) -> np.ndarray:
    """Boolean mask of the tokens covered by ``spans`` (end exclusive).

    Examples
    --------
    >>> spans_to_mask([(0, 2), (3, 4)], 5).astype(int).tolist()
    [1, 1, 0, 1, 0]
    """
    mask = np.zeros(n_tokens, dtype=bool)
    for start, end in spans:
        mask[start:end] = True
    return mask


def mask_to_spans(mask: np.ndarray) -> list[tuple[int, int]]:
    """The maximal runs of ``True`` in ``mask`` as ``(start, end)`` spans, end exclusive.

    Examples
    --------
    >>> mask_to_spans(np.array([1, 1, 0, 1, 0], dtype=bool))
    [(0, 2), (3, 4)]
    """
    padded = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2])]


def top_k_mask(scores: Sequence[float] | np.ndarray, fraction: float) -> np.ndarray:
    """The ``ceil(fraction · n)`` highest-scoring tokens, as ERASER's baselines discretise soft scores.

    Ties go to the later token (the last ``k`` of a stable ascending sort).

    Examples
    --------
    >>> top_k_mask([0.1, 0.9, 0.5, 0.2], 0.5).astype(int).tolist()
    [0, 1, 1, 0]
    """
    scores = np.asarray(scores, dtype=float)
    k = math.ceil(len(scores) * fraction)
    mask = np.zeros(len(scores), dtype=bool)
    if k > 0:
        mask[np.argsort(scores, kind="stable")[-k:]] = True
    return mask


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision == 0 or recall == 0 else 2 * precision * recall / (precision + recall)


def token_prf(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    """Token precision, recall and F1 of one instance (ERASER's ``score_hard_rationale_predictions``).

    Precision is 0 for an empty prediction, recall 0 for an empty truth.

    Examples
    --------
    >>> token_prf(np.array([1, 1, 0, 0], bool), np.array([0, 1, 1, 1], bool))
    (0.5, 0.3333333333333333, 0.4)
    """
    predicted, truth = np.asarray(predicted, dtype=bool), np.asarray(truth, dtype=bool)
    both = int((predicted & truth).sum())
    precision = both / predicted.sum() if predicted.any() else 0.0
    recall = both / truth.sum() if truth.any() else 0.0
    return float(precision), float(recall), _f1(float(precision), float(recall))


def iou_prf(predicted: Sequence[tuple[int, int]], truth: Sequence[tuple[int, int]],
            threshold: float = 0.5) -> tuple[float, float, float]:
    """IOU precision, recall and F1 of one instance (ERASER's ``partial_match_score``).

    A predicted span is a true positive when its best intersection-over-union with a
    human span is at least ``threshold``; precision = TP / predicted spans, recall =
    TP / human spans.

    Examples
    --------
    >>> iou_prf([(0, 2), (5, 6)], [(0, 3), (8, 9)])
    (0.5, 0.5, 0.5)
    """
    predicted, truth = list(dict.fromkeys(predicted)), list(dict.fromkeys(truth))
    hits = 0
    for start, end in predicted:
        best = 0.0
        for t_start, t_end in truth:
            overlap = max(0, min(end, t_end) - max(start, t_start))
            union = (end - start) + (t_end - t_start) - overlap
            best = max(best, overlap / union if union else 0.0)
        hits += best >= threshold
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(truth) if truth else 0.0
    return float(precision), float(recall), _f1(float(precision), float(recall))


def auprc(scores: Sequence[float] | np.ndarray, truth: np.ndarray) -> float:
    """Area under the precision-recall curve of one instance (ERASER's ``_auprc``).

    The trapezoidal area (sklearn ``auc``) under sklearn's ``precision_recall_curve``.

    Examples
    --------
    >>> round(auprc([0.9, 0.1, 0.8, 0.2], np.array([1, 0, 1, 0], bool)), 3)
    1.0
    """
    from sklearn.metrics import auc, precision_recall_curve

    precision, recall, _ = precision_recall_curve(np.asarray(truth, dtype=int), np.asarray(scores, dtype=float))
    return float(auc(recall, precision))


def average_precision(scores: Sequence[float] | np.ndarray, truth: np.ndarray) -> float:
    """sklearn's average precision of one instance; NaN when the truth is all one class (ERASER skips those).

    Examples
    --------
    >>> round(average_precision([0.9, 0.1, 0.8, 0.2], np.array([1, 0, 0, 0], bool)), 3)
    1.0
    """
    from sklearn.metrics import average_precision_score

    truth = np.asarray(truth, dtype=int)
    if truth.min(initial=0) == truth.max(initial=0):
        return float("nan")
    return float(average_precision_score(truth, np.asarray(scores, dtype=float)))


def rationale_fraction(rationales: Sequence[HumanRationale]) -> float:
    """The average share of a document's tokens in its human rationale: ERASER's ``k`` for soft scores.

    Examples
    --------
    >>> rationale_fraction([HumanRationale("a", "d", ("x", "y"), ((0, 1),)),
    ...                     HumanRationale("b", "e", ("x", "y", "z", "w"), ((0, 1),))])
    0.375
    """
    return float(np.mean([r.mask.mean() if r.tokens else 0.0 for r in rationales]))


def _iou_f1_statistic(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    p, r = precision.mean(axis=-1), recall.mean(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((p > 0) & (r > 0), 2 * p * r / (p + r), 0.0)


def _nanmean_rows(values: np.ndarray) -> np.ndarray:
    counts = np.isfinite(values).sum(axis=-1)
    sums = np.where(np.isfinite(values), values, 0.0).sum(axis=-1)
    return np.divide(sums, counts, out=np.full(len(sums), np.nan), where=counts > 0)


class PlausibilityResult(TableResult):
    """Plausibility of attributions against human rationales: one row per (method, example).

    Columns: ``method``, ``item`` (index of the rationale), ``annotation_id``, ``docid``,
    ``n_words`` (the document's), ``n_seen`` (words the model saw, fewer when the document was
    cut to its length limit), ``n_human`` (human rationale tokens), ``k`` (top-k words predicted),
    ``token_precision``, ``token_recall``, ``token_f1``, ``iou_precision``, ``iou_recall``,
    ``iou_f1``, ``auprc``, ``average_precision``. ``meta`` holds ``fraction`` (k / n),
    ``iou_threshold``, ``n_boot``, ``level``, ``seed`` and ``n_truncated`` (documents the model
    saw only in part).

    Examples
    --------
    >>> import tempfile
    >>> frame = pd.DataFrame({"method": ["lime"], "item": [0], "annotation_id": ["1"], "docid": ["1"],
    ...     **{m: [0.5] for m in SUMMARY_METRICS}})
    >>> PlausibilityResult.load(PlausibilityResult(frame, {"fraction": 0.3}).save(tempfile.mkdtemp())).meta
    {'fraction': 0.3}
    """

    def summary(self) -> pd.DataFrame:
        """Per method and metric: the dataset value with a percentile bootstrap CI over examples.

        Token scores and AUPRC are means over examples (ERASER's ``instance_macro`` and
        ``_auprc``); IOU F1 is the F1 of the mean IOU precision and recall (their macro
        ``partial_match_score``); average precision skips single-class examples.

        Examples
        --------
        >>> frame = pd.DataFrame({"method": ["lime"] * 2, "item": [0, 1], "annotation_id": ["a", "b"],
        ...     "docid": ["a", "b"], **{m: [0.5, 1.0] for m in SUMMARY_METRICS}})
        >>> PlausibilityResult(frame).summary().query("metric == 'token_f1'")["value"].tolist()
        [0.75]
        """
        n_boot, level, seed = self.meta.get("n_boot", 1000), self.meta.get("level", 0.95), self.meta.get("seed", 0)
        records = []
        for method, rows in self.frame.groupby("method", sort=False):
            for metric in SUMMARY_METRICS:
                if metric == "iou_f1":
                    arrays = (rows["iou_precision"].to_numpy(float), rows["iou_recall"].to_numpy(float))
                    value = float(_iou_f1_statistic(*(a[None] for a in arrays))[0])
                    low, high = bootstrap_ci(arrays, n_boot, level, seed, _iou_f1_statistic)
                else:
                    values = rows[metric].to_numpy(float)
                    value = float(_nanmean_rows(values[None])[0])
                    low, high = bootstrap_ci(values, n_boot, level, seed, _nanmean_rows)
                records.append({"method": method, "metric": metric, "value": value, "low": low, "high": high,
                                "n_items": len(rows)})
        return pd.DataFrame(records)

    @classmethod
    def _read(cls, directory: Path) -> PlausibilityResult:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        return cls(pd.read_csv(directory / TABLE_FILE, dtype={"annotation_id": str, "docid": str}), meta)

    def plot(self) -> Figure:
        """Bars per method for token F1, IOU F1 and AUPRC, with bootstrap CIs.

        Returns
        -------
        matplotlib.figure.Figure

        Examples
        --------
        >>> frame = pd.DataFrame({"method": ["lime"], "item": [0], "annotation_id": ["a"], "docid": ["a"],
        ...     **{m: [0.5] for m in SUMMARY_METRICS}})
        >>> type(PlausibilityResult(frame).plot()).__name__
        'Figure'
        """
        with paper_style():
            summary = self.summary().set_index(["metric", "method"])
            methods = list(dict.fromkeys(self.frame["method"]))
            fig, ax = new_figure("column", height=2.3)
            width = 0.8 / max(len(methods), 1)
            positions = np.arange(len(METRICS))
            for offset, (colour, method) in enumerate(zip(PALETTE * (len(methods) // len(PALETTE) + 1), methods)):
                rows = summary.xs(method, level="method").loc[list(METRICS)]
                values = rows["value"].to_numpy(float)
                low, high = rows["low"].to_numpy(float), rows["high"].to_numpy(float)
                errors = np.abs(np.vstack([values - low, high - values]))
                ax.bar(positions - 0.4 + width * (offset + 0.5), values, width, yerr=np.nan_to_num(errors),
                       color=colour, capsize=2, label=method, error_kw={"linewidth": 0.8})
            ax.set_xticks(positions, ["token F1", f"IOU F1 ({self.meta.get('iou_threshold', 0.5):g})", "AUPRC"])
            ax.set_ylim(0, 1)
            ax.set_ylabel("agreement with humans")
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=min(len(methods), 4), fontsize=6,
                      frameon=False)
            ax.set_title(f"ERASER plausibility, n = {self.frame['item'].nunique()}", loc="left")
        return fig


def seen_words(result: AttributionResult, rationale: HumanRationale) -> int | None:
    """How many of the rationale's document tokens ``result`` explains: all of them, or for a text the model
    cut to its length limit (``result.truncated``) the leading ones it saw; ``None`` when the result explains
    another text.

    The last word seen may be cut inside (the model saw its first pieces); it counts as seen.

    Examples
    --------
    >>> doc = HumanRationale("a", "d", ("a", "fine", "unbelievable", "film"), ((1, 2),))
    >>> cut = AttributionResult("a fine unbeliev", [], [], [], ["a", "fine", "unbeliev"], [0.1, 0.2, 0.3], "POS", 1,
    ...                         "lime", 0.9, truncated=True)
    >>> seen_words(cut, doc)
    3
    """
    words, tokens = list(result.words), list(rationale.tokens)
    if words == tokens:
        return len(tokens)
    n = len(words)
    if result.truncated and 0 < n <= len(tokens) and words[:-1] == tokens[:n - 1] and tokens[n - 1].startswith(
            words[-1]):
        return n
    return None


def plausibility(results: Sequence[AttributionResult], rationales: Sequence[HumanRationale] | str | Path,
                 fraction: float | None = None, iou_threshold: float = 0.5, split: str = "test",
                 n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> PlausibilityResult:
    """Agreement of word attributions with human rationales, with ERASER's metrics (DeYoung et al. 2020).

    For each method, its results align one-to-one, in order, with ``rationales``: the
    ``i``-th result of a method explains the text of the ``i``-th rationale, and its words
    must be the document's tokens. Following ERASER's ``metrics.py`` and baselines:

    - the soft word scores are discretised to the top ``k = ceil(fraction · n)`` words,
      ``fraction`` the average share of human rationale tokens in the dataset
      (:func:`rationale_fraction`) unless given;
    - token precision, recall and F1 of those words against the human tokens
      (``score_hard_rationale_predictions`` on token-level rationales, averaged per example);
    - IOU F1: the top-k words' contiguous spans match a human span when their
      intersection over union is ``>= iou_threshold`` (``partial_match_score``, macro);
    - AUPRC of the soft scores against the human token labels (``_auprc``), and sklearn's
      average precision (single-class examples skipped).

    A document longer than the model's limit is explained in the part the model sees (the
    classifier cuts it, and the result records ``truncated=True``). It is scored, as ERASER's
    scorer does, on the full document's token vector: each word past the cut gets the
    score 0 (it cannot change the output), so human rationale words there count as
    missed unless a zero score ranks them into the top ``k``; ``k`` is taken of the whole
    document. ``meta["n_truncated"]`` counts those documents, and a warning is logged.

    Parameters
    ----------
    results
        Attributions (:func:`bertology.attribute`), any number of methods.
    rationales
        From :func:`load_eraser`, or a path given to it (with ``split``).
    fraction
        Share of each document's words to predict; default the human average.
    iou_threshold
        IOU at which a predicted span counts as matched.
    split
        Split read when ``rationales`` is a dataset directory.
    n_boot, level, seed
        Bootstrap resamples, coverage and seed of the confidence intervals.

    Returns
    -------
    PlausibilityResult

    Raises
    ------
    InputError
        No results or rationales, a method with a different number of results than
        rationales, or a result whose words are not its rationale's document tokens (or,
        when truncated, their beginning).

    Examples
    --------
    >>> rationales = load_eraser("tests/fixtures/eraser", split="val")
    >>> words = list(rationales[0].tokens)
    >>> r = AttributionResult(rationales[0].text, words, list(range(len(words))), [0.0] * len(words), words,
    ...                       rationales[0].mask.astype(float).tolist(), "POS", 1, "oracle", 1.0)
    >>> float(plausibility([r], rationales).summary().set_index("metric").loc["token_f1", "value"])
    1.0
    """
    if isinstance(rationales, (str, Path)):
        rationales = load_eraser(rationales, split)
    if not results or not rationales:
        raise InputError("plausibility needs attributions and human rationales: run bertology.attribute on each "
                         "rationale's .text, and load the rationales with load_eraser.")
    if not 0 < iou_threshold <= 1:
        raise InputError(f"iou_threshold {iou_threshold} must lie in (0, 1].")
    if fraction is not None and not 0 < fraction <= 1:
        raise InputError(f"fraction {fraction} must lie in (0, 1]: the share of each text's words to predict.")
    by_method: dict[str, list[AttributionResult]] = {}
    for result in results:
        by_method.setdefault(result.method, []).append(result)
    for method, group in by_method.items():
        if len(group) != len(rationales):
            raise InputError(f"Method {method!r} has {len(group)} results for {len(rationales)} rationales: give one "
                             f"result per rationale per method, in the rationales' order.")
    fraction = rationale_fraction(rationales) if fraction is None else float(fraction)
    truths = [(r.mask, list(dict.fromkeys(r.spans))) for r in rationales]
    records = []
    truncated: set[int] = set()
    for method, group in by_method.items():
        for item, (result, rationale, (truth, spans)) in enumerate(zip(group, rationales, truths)):
            seen = seen_words(result, rationale)
            if seen is None:
                raise InputError(f"The {method} result {item} does not explain document {rationale.docid!r} of "
                                 f"annotation {rationale.annotation_id!r}: attribute each rationale's "
                                 f".text, and keep the results in the rationales' order.")
            if seen < len(rationale.tokens):
                truncated.add(item)
            scores = np.zeros(len(rationale.tokens))
            scores[:seen] = np.asarray(result.word_scores, dtype=float)
            predicted = top_k_mask(scores, fraction)
            token = token_prf(predicted, truth)
            iou = iou_prf(mask_to_spans(predicted), spans, iou_threshold)
            records.append({
                "method": method, "item": item, "annotation_id": rationale.annotation_id, "docid": rationale.docid,
                "n_words": len(scores), "n_seen": seen, "n_human": int(truth.sum()), "k": int(predicted.sum()),
                "token_precision": token[0], "token_recall": token[1], "token_f1": token[2],
                "iou_precision": iou[0], "iou_recall": iou[1], "iou_f1": iou[2],
                "auprc": auprc(scores, truth), "average_precision": average_precision(scores, truth)})
    if truncated:
        logger.warning("%d of %d documents are longer than the model's limit: plausibility scores the words the "
                       "model saw, and every word past the cut scores 0 (ERASER's full-document token vectors).",
                       len(truncated), len(rationales))
    meta = {"fraction": fraction, "iou_threshold": iou_threshold, "n_boot": n_boot, "level": level, "seed": seed,
            "n_truncated": len(truncated)}
    return PlausibilityResult(pd.DataFrame(records), meta)
