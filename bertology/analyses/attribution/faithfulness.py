"""ERASER faithfulness (DeYoung et al. 2020): comprehensiveness, sufficiency, AOPC, and rank agreement."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from bertology.analyses.attribution.classifier import Classifier
from bertology.analyses.attribution.result import AttributionResult
from bertology.analyses.attribution.words import TokenizedText, tokenize_input
from bertology.core.errors import InputError
from bertology.core.io import write_json_atomic
from bertology.core.results import Result
from bertology.core.viz import PALETTE, new_figure

BINS = (1, 5, 10, 20, 50)
"""ERASER's top-k bins, in percent of the words."""
SCORES_FILE = "faithfulness.csv"
AGREEMENT_FILE = "rank_agreement.csv"
META_FILE = "faithfulness.json"
AGREEMENT_COLUMNS = ["item", "method_a", "method_b", "spearman", "kendall"]
MARKERS = ("o", "s", "^")
LINESTYLES = ("-", "--", ":")


@dataclass
class FaithfulnessResult(Result):
    """Faithfulness of a set of attributions.

    ``save(out)`` writes ``faithfulness.csv`` (``scores``), ``rank_agreement.csv``
    (``agreement``) and ``faithfulness.json`` (``removal`` and the bins) into ``out``.

    Attributes
    ----------
    scores
        One row per (item, method, bin): ``item``, ``method``, ``target``, ``bin`` (percent),
        ``k`` (words in the rationale), ``p_full``, ``p_without`` p(y|x∖r), ``p_only`` p(y|r),
        ``comprehensiveness``, ``sufficiency``. For a regression head the ``p_*`` columns are
        predicted values (see ``output``).
    agreement
        One row per (item, method pair): ``item``, ``method_a``, ``method_b``, ``spearman``,
        ``kendall`` of their word scores.
    removal
        ``"remove"`` (tokens deleted) or ``"mask"`` (replaced by the mask token).
    output
        What was explained: ``"probability"``, or ``"regression value"`` (the scores are then
        differences of predicted values).

    Examples
    --------
    >>> import tempfile
    >>> f = FaithfulnessResult(pd.DataFrame({"item": [0], "method": ["lime"], "bin": [1],
    ...     "comprehensiveness": [0.2], "sufficiency": [0.1]}), pd.DataFrame(columns=AGREEMENT_COLUMNS), "mask")
    >>> FaithfulnessResult.load(f.save(tempfile.mkdtemp())).removal
    'mask'
    """

    scores: pd.DataFrame
    agreement: pd.DataFrame
    removal: str = "remove"
    output: str = "probability"

    def summary(self) -> pd.DataFrame:
        """Per method: AOPC comprehensiveness and sufficiency (mean over bins, then items).

        Examples
        --------
        >>> f = FaithfulnessResult(pd.DataFrame({"item": [0, 0], "method": ["lime"] * 2, "bin": [1, 5],
        ...     "comprehensiveness": [0.2, 0.4], "sufficiency": [0.1, 0.0]}), pd.DataFrame())
        >>> f.summary()["aopc_comprehensiveness"].round(2).tolist()
        [0.3]
        """
        per_item = self.scores.groupby(["method", "item"])[["comprehensiveness", "sufficiency"]].mean()
        table = per_item.groupby("method").agg(["mean", "count"])
        return pd.DataFrame({
            "method": table.index,
            "aopc_comprehensiveness": table[("comprehensiveness", "mean")].to_numpy(),
            "aopc_sufficiency": table[("sufficiency", "mean")].to_numpy(),
            "n_items": table[("comprehensiveness", "count")].to_numpy(),
        }).reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Per method and bin: mean comprehensiveness and sufficiency over items.

        Examples
        --------
        >>> f = FaithfulnessResult(pd.DataFrame({"item": [0, 1], "method": ["lime"] * 2, "bin": [1, 1],
        ...     "comprehensiveness": [0.2, 0.4], "sufficiency": [0.1, 0.0]}), pd.DataFrame())
        >>> f.to_frame()["comprehensiveness"].round(2).tolist()
        [0.3]
        """
        return self.scores.groupby(["method", "bin"], as_index=False)[["comprehensiveness", "sufficiency"]].mean()

    def _write(self, directory: Path) -> None:
        self.scores.to_csv(directory / SCORES_FILE, index=False)
        self.agreement.to_csv(directory / AGREEMENT_FILE, index=False)
        write_json_atomic(directory / META_FILE, {"removal": self.removal, "bins": list(BINS), "output": self.output})

    @classmethod
    def _read(cls, directory: Path) -> FaithfulnessResult:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        try:
            agreement = pd.read_csv(directory / AGREEMENT_FILE)
        except pd.errors.EmptyDataError:
            agreement = pd.DataFrame(columns=AGREEMENT_COLUMNS)
        return cls(pd.read_csv(directory / SCORES_FILE), agreement, meta["removal"], meta.get("output", "probability"))

    def plot(self) -> Figure:
        """Comprehensiveness (higher = more faithful) and sufficiency (lower = more faithful) per bin.

        Returns
        -------
        matplotlib.figure.Figure

        Examples
        --------
        >>> f = FaithfulnessResult(pd.DataFrame({"item": [0, 0], "method": ["lime"] * 2, "bin": [1, 5],
        ...     "comprehensiveness": [0.2, 0.4], "sufficiency": [0.1, 0.0]}), pd.DataFrame())
        >>> len(f.plot().axes)
        2
        """
        methods = sorted(self.scores["method"].unique())
        legend_rows = math.ceil(len(methods) / 2)
        fig, axes = new_figure("page", height=2.0 + 0.13 * legend_rows, ncols=2)
        means = self.scores.groupby(["method", "bin"])[["comprehensiveness", "sufficiency"]]
        table, spread = means.mean(), means.sem()
        summary = self.summary().set_index("method")
        for ax, metric, better in zip(axes, ("comprehensiveness", "sufficiency"), ("higher", "lower")):
            for position, method in enumerate(methods):
                rows = table.loc[method]
                err = spread.loc[method][metric].fillna(0.0)
                ax.errorbar(rows.index, rows[metric], yerr=err, marker=MARKERS[position // len(PALETTE) % len(MARKERS)],
                            color=PALETTE[position % len(PALETTE)], capsize=2,
                            linestyle=LINESTYLES[position // len(PALETTE) % len(LINESTYLES)],
                            label=f"{method} (AOPC {summary.loc[method, f'aopc_{metric}']:.3g})")
            ax.set_xscale("log")
            ax.set_xticks(BINS, [f"{b}%" for b in BINS])
            ax.axhline(0, color="0.6", linewidth=0.6)
            ax.set_xlabel(f"top-k words {'removed' if metric == 'comprehensiveness' else 'kept'}")
            ax.set_ylabel(f"{metric}\n({better} is better)")
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), fontsize=5.5, ncols=2, handlelength=2.5,
                      columnspacing=1.0, frameon=False)
        measured = "" if self.output == "probability" else ", changes of the predicted value"
        fig.suptitle(f"ERASER faithfulness ({self.removal}){measured}, n = {self.scores['item'].nunique()} texts")
        return fig


def rationale_size(n_words: int, percent: float) -> int:
    """Words in the top-``percent`` rationale: ``ceil(percent / 100 · n_words)``, at least 1.

    Examples
    --------
    >>> [rationale_size(8, b) for b in BINS]
    [1, 1, 1, 2, 4]
    """
    return max(1, math.ceil(percent / 100 * n_words - 1e-9))


def _variants(tokenized: TokenizedText, chosen: np.ndarray, mask_id: int | None
              ) -> tuple[tuple[list[int], list[int] | None], tuple[list[int], list[int] | None]]:
    """(x without the rationale, the rationale only), each as token ids and segment ids (``None`` without them).

    Special tokens always stay; a removed token takes its segment id with it, a masked one keeps it.
    """
    ids, types, token_words = tokenized.input_ids, tokenized.token_type_ids, tokenized.token_words
    in_rationale = np.isin(token_words, chosen) & (token_words >= 0)
    outside = (token_words >= 0) & ~in_rationale
    variants = []
    for hidden in (in_rationale, outside):
        if mask_id is None:
            kept = [ids[i] for i in np.flatnonzero(~hidden)]
            kept_types = None if types is None else [types[i] for i in np.flatnonzero(~hidden)]
        else:
            kept = [mask_id if h else t for t, h in zip(ids, hidden)]
            kept_types = None if types is None else list(types)
        variants.append((kept, kept_types))
    return variants[0], variants[1]


def _tokenized(clf: Classifier, result: AttributionResult, seen: dict[tuple[str, str | None], TokenizedText]
               ) -> TokenizedText:
    """The result's text (or sentence pair, ``parameters["text_pair"]``) tokenized as the method saw it, once per
    text in ``seen``."""
    key = _item_key(result)
    if key not in seen:
        seen[key] = tokenize_input(clf, key[0] if key[1] is None else key)
    tokenized = seen[key]
    if tokenized.tokens != result.tokens:
        raise InputError(f"The result for {result.text[:40]!r} was made with another tokenizer: score "
                         "faithfulness with the classifier that produced the attributions.")
    return tokenized


def _item_key(result: AttributionResult) -> tuple[str, str | None]:
    return result.text, result.parameters.get("text_pair")


def faithfulness(clf: Classifier, results: Sequence[AttributionResult], bins: Sequence[float] = BINS,
                 removal: str = "remove", batch_size: int = 32) -> FaithfulnessResult:
    """ERASER comprehensiveness, sufficiency and AOPC of attributions, and rank agreement between methods.

    For each result, the words are ranked by score (for the result's target class) and the
    top ``k`` % form the rationale ``r`` (:func:`rationale_size` words). Following
    DeYoung et al. (2020), "ERASER: A Benchmark to Evaluate Rationalized NLP Models":

    - comprehensiveness = p(y|x) − p(y|x∖r): the tokens of the rationale words removed;
    - sufficiency = p(y|x) − p(y|r): only the rationale's tokens (and special tokens) kept;
    - AOPC = the mean of each over the bins ``{1, 5, 10, 20, 50}`` %.

    Tokens are deleted (``removal="remove"``) or replaced by the mask token (``"mask"``).
    For a sentence pair (results of ``bt.attribute(clf, (first, second))``) the rationale
    holds words of both segments; ``[CLS]`` and both ``[SEP]`` always stay, and every kept
    token keeps its segment id (``token_type_ids``), so each variant is still a pair. For a
    regression head (``clf.regression``) ``p`` is the predicted value, and comprehensiveness
    and sufficiency are differences of predicted values. All variants of all texts run in
    length-sorted batches. Results on the same text and target from different methods are
    compared by Spearman's ρ and Kendall's τ of their word scores (scipy).

    Parameters
    ----------
    clf
        The classifier that was explained.
    results
        Attributions from :func:`bertology.attribute` (any methods, any texts).
    bins
        Rationale sizes in percent of the words.
    removal
        ``"remove"`` or ``"mask"``.
    batch_size
        Variants per forward pass.

    Returns
    -------
    FaithfulnessResult

    Raises
    ------
    InputError
        No results, an unknown removal mode, or a result whose text tokenizes differently
        (made with another classifier).

    Examples
    --------
    >>> f = faithfulness(clf, [ig, lime])  # doctest: +SKIP
    >>> f.summary().columns.tolist()  # doctest: +SKIP
    ['method', 'aopc_comprehensiveness', 'aopc_sufficiency', 'n_items']
    """
    if not results:
        raise InputError("faithfulness needs at least one AttributionResult: run bertology.attribute first.")
    if removal not in ("remove", "mask"):
        raise InputError(f"Unknown removal {removal!r}: choose 'remove' (delete tokens) or 'mask' ([MASK]).")
    mask_id = clf.tokenizer.mask_token_id if removal == "mask" else None
    if removal == "mask" and mask_id is None:
        raise InputError("This tokenizer has no mask token: use removal='remove'.")
    items: dict[tuple[str, str | None], int] = {}
    seen: dict[tuple[str, str | None], TokenizedText] = {}
    sequences: list[tuple[list[int], list[int] | None]] = []
    rows = []
    for result in results:
        tokenized = _tokenized(clf, result, seen)
        item = items.setdefault(_item_key(result), len(items))
        full_index = len(sequences)
        sequences.append((tokenized.input_ids, tokenized.token_type_ids))
        order = np.argsort(-np.asarray(result.word_scores), kind="stable")
        for percent in bins:
            k = rationale_size(len(result.words), percent)
            rows.append((item, result.method, result.target_index, result.target, percent, k, full_index,
                         len(sequences), len(sequences) + 1))
            sequences.extend(_variants(tokenized, order[:k], mask_id))
    segments = None
    if any(types is not None for _, types in sequences):
        segments = [[0] * len(ids) if types is None else types for ids, types in sequences]
    probs = clf.probabilities_of_ids([ids for ids, _ in sequences], batch_size, segments=segments)
    records = []
    for item, method, index, target, percent, k, full, without, only in rows:
        p_full, p_without, p_only = probs[full, index], probs[without, index], probs[only, index]
        records.append({"item": item, "method": method, "target": target, "bin": percent, "k": k,
                        "p_full": p_full, "p_without": p_without, "p_only": p_only,
                        "comprehensiveness": p_full - p_without, "sufficiency": p_full - p_only})
    return FaithfulnessResult(pd.DataFrame(records), rank_agreement(results, items), removal, clf.output)


def rank_agreement(results: Sequence[AttributionResult],
                   items: dict[tuple[str, str | None], int] | None = None) -> pd.DataFrame:
    """Spearman's ρ and Kendall's τ between the word scores of every pair of methods on the same text (or
    sentence pair) and target.

    Examples
    --------
    >>> a = AttributionResult("x y z", [], [], [], ["x", "y", "z"], [3.0, 2.0, 1.0], "p", 1, "integrated_gradients", .5)
    >>> b = AttributionResult("x y z", [], [], [], ["x", "y", "z"], [1.0, 2.0, 3.0], "p", 1, "lime", .5)
    >>> rank_agreement([a, b])[["spearman", "kendall"]].round(2).values.tolist()
    [[-1.0, -1.0]]
    """
    items = items if items is not None else {}
    groups: dict[tuple[tuple[str, str | None], int], list[AttributionResult]] = {}
    for result in results:
        items.setdefault(_item_key(result), len(items))
        groups.setdefault((_item_key(result), result.target_index), []).append(result)
    records = []
    for (key, _), group in groups.items():
        if len(group) < 2 or len(group[0].word_scores) < 2:
            continue
        spearman, kendall = rank_correlations(np.array([r.word_scores for r in group], dtype=np.float64))
        for i, j in combinations(range(len(group)), 2):
            if group[i].method != group[j].method:
                records.append({"item": items[key], "method_a": group[i].method, "method_b": group[j].method,
                                "spearman": spearman[i, j], "kendall": kendall[i, j]})
    return pd.DataFrame(records, columns=AGREEMENT_COLUMNS)


def rank_correlations(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spearman's ρ (Pearson's r of average ranks) and Kendall's τ-b (Σ sign products over word pairs,
    normalised) between every two rows of ``scores`` ``(methods, words)``, all pairs at once: scipy's
    ``spearmanr`` and ``kendalltau`` values, NaN where a row is constant.

    Examples
    --------
    >>> rho, tau = rank_correlations(np.array([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0], [1.0, 1.0, 2.0]]))
    >>> rho[0, 1].round(2), tau[1, 2].round(2)
    (np.float64(-1.0), np.float64(0.82))
    """
    ranks = stats.rankdata(scores, axis=1)
    first, second = np.triu_indices(scores.shape[1], k=1)
    signs = np.sign(scores[:, first] - scores[:, second])
    return _cosines(ranks - ranks.mean(axis=1, keepdims=True)), _cosines(signs)


def _cosines(vectors: np.ndarray) -> np.ndarray:
    """Cosine of every pair of rows; NaN where a row is all zeros."""
    norms = np.sqrt((vectors ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (vectors @ vectors.T) / np.outer(norms, norms)
