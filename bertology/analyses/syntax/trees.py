"""Dependency-tree quantities and the evaluation metrics of Hewitt & Manning (2019) structural probes.

Gold tree distances (path length between two words) and depths (edges to the root) from
CoNLL-U heads; the minimum spanning tree of a distance matrix; UUAS, DSpr., root accuracy
and NSpr. exactly as the authors' released evaluation (``reporter.py`` of
github.com/john-hewitt/structural-probes) computes them:

- **Punctuation** is left out of both spanning trees (UUAS) and of the root choice: by
  default a word is punctuation when its XPOS is one of the released reporter's tags
  :data:`PUNCTUATION_XPOS` (``'' , . : `` -LRB- -RRB-``, the Penn Treebank punctuation tags
  that UD English XPOS columns use); ``punct="upos"`` uses UPOS ``PUNCT`` instead (for
  treebanks whose XPOS is not Penn Treebank). The two differ on English UD for hyphens
  (XPOS ``HYPH``) and some symbols (``NFP``), which UPOS counts as ``PUNCT``.
- **Spanning trees** are Kruskal's algorithm on the word pairs sorted by distance (the
  reporter's ``prims_matrix_to_edges``), ties broken by the pair's row-major position;
  the gold edges are the spanning tree of the *gold* distances over the same words, which
  equals the gold arcs among non-punctuation words whenever no punctuation word is
  internal to the tree.
- **UUAS** pools edges over the corpus: correct edges / gold edges.
- **DSpr.** is the Spearman correlation of each word's row of predicted and gold
  distances (all words, the word itself included), averaged over the sentences of each
  length, then over the lengths 5–50; **NSpr.** the same with one Spearman correlation
  of predicted and gold depths per sentence.
- **Root accuracy** is the share of sentences whose shallowest non-punctuation word (by
  predicted depth) is the gold root.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata

from bertology.core.errors import InputError

PUNCTUATION_XPOS = frozenset({"''", ",", ".", ":", "``", "-LRB-", "-RRB-"})
"""Penn Treebank punctuation tags that Hewitt & Manning's reporter leaves out of trees and root choice."""

PUNCT_RULES = ("xpos", "upos")
MIN_LENGTH, MAX_LENGTH = 5, 50
"""Sentence lengths over which DSpr. and NSpr. are averaged (Hewitt & Manning 2019, §3)."""


def check_punct_rule(punct: str) -> None:
    """``punct`` must be ``"xpos"`` (the authors' tags) or ``"upos"`` (UPOS ``PUNCT``).

    Examples
    --------
    >>> check_punct_rule("xpos")
    >>> check_punct_rule("none")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: ...
    """
    if punct not in PUNCT_RULES:
        raise InputError(f"punct={punct!r} is not a punctuation rule: use 'xpos' (Hewitt & Manning's Penn Treebank "
                         "tags) or 'upos' (UPOS PUNCT).")


def punctuation_mask(upos: Sequence[str], xpos: Sequence[str], punct: str = "upos") -> np.ndarray:
    """Which words count as punctuation for UUAS and root accuracy.

    Parameters
    ----------
    upos, xpos
        The words' UPOS and XPOS tags.
    punct
        ``"upos"``: UPOS is ``PUNCT`` (every UD treebank has UPOS);
        ``"xpos"``: XPOS in :data:`PUNCTUATION_XPOS`, as the authors' reporter on the PTB.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` bool.

    Examples
    --------
    >>> punctuation_mask(["PUNCT", "NOUN", "PUNCT"], [".", "NN", "HYPH"]).tolist()
    [True, False, True]
    >>> punctuation_mask(["PUNCT", "NOUN", "PUNCT"], [".", "NN", "HYPH"], punct="xpos").tolist()
    [True, False, False]
    """
    check_punct_rule(punct)
    if punct == "upos":
        return np.array([tag == "PUNCT" for tag in upos], dtype=bool)
    return np.array([tag in PUNCTUATION_XPOS for tag in xpos], dtype=bool)


def _parents(heads: Sequence[int]) -> np.ndarray:
    """0-based parent of each word, -1 for a root; a HEAD outside the sentence or a cycle is an InputError."""
    parents = np.asarray(heads, dtype=np.int64) - 1
    n = len(parents)
    if n == 0:
        raise InputError("A dependency tree needs at least one word: got no heads.")
    if parents.min() < -1 or parents.max() >= n:
        raise InputError(f"Heads {list(heads)} point outside the sentence: each HEAD is 0 (root) or a 1-based word "
                         f"index up to {n}.")
    return parents


def ancestors(heads: Sequence[int]) -> np.ndarray:
    """Ancestor-or-self matrix: ``A[i, a]`` is true when ``a`` lies on the path from word ``i`` to its root.

    Raises
    ------
    InputError
        For a HEAD outside the sentence or a cycle.

    Examples
    --------
    >>> ancestors([2, 0, 2]).astype(int).tolist()
    [[1, 1, 0], [0, 1, 0], [0, 1, 1]]
    """
    parents = _parents(heads)
    n = len(parents)
    rows = np.arange(n)
    found = np.zeros((n, n), dtype=bool)
    current = rows.copy()
    alive = np.ones(n, dtype=bool)
    for _ in range(n):
        found[rows[alive], current[alive]] = True
        current = np.where(alive, parents[current], -1)
        alive = current >= 0
        if not alive.any():
            return found
    raise InputError(f"Heads {list(heads)} contain a cycle: the HEAD chain of every word must reach a root (0).")


def tree_depths(heads: Sequence[int]) -> np.ndarray:
    """Depth of each word: edges on its path to the root (the root has depth 0).

    Parameters
    ----------
    heads
        CoNLL-U HEADs: 1-based index of each word's head, 0 for the root.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` int64.

    References
    ----------
    Hewitt & Manning (2019), "A Structural Probe for Finding Syntax in Word Representations", NAACL, §2.

    Examples
    --------
    >>> tree_depths([2, 0, 4, 2]).tolist()
    [1, 0, 2, 1]
    """
    return ancestors(heads).sum(axis=1) - 1


def tree_distances(heads: Sequence[int]) -> np.ndarray:
    """Path length in the dependency tree between every pair of words.

    ``d(i, j) = depth(i) + depth(j) − 2·depth(lca(i, j))``, where the depth of the lowest
    common ancestor is the number of common ancestors minus one. Words of different roots
    (a forest) are joined through a virtual root, as the authors' ``task.py`` does.

    Parameters
    ----------
    heads
        CoNLL-U HEADs: 1-based index of each word's head, 0 for the root.

    Returns
    -------
    numpy.ndarray
        ``(n, n)`` int64, symmetric, zero diagonal.

    References
    ----------
    Hewitt & Manning (2019), §2 (``d_T(w_i, w_j)``).

    Examples
    --------
    >>> tree_distances([2, 0, 4, 2]).tolist()
    [[0, 1, 3, 2], [1, 0, 2, 1], [3, 2, 0, 1], [2, 1, 1, 0]]
    """
    found = ancestors(heads).astype(np.int64)
    depths = found.sum(axis=1) - 1
    common = found @ found.T
    return depths[:, None] + depths[None, :] - 2 * (common - 1)


def linear_chain_heads(n: int) -> tuple[int, ...]:
    """HEADs of the linear-chain baseline tree: each word attached to the next, the last word the root.

    Examples
    --------
    >>> linear_chain_heads(4)
    (2, 3, 4, 0)
    """
    return tuple(range(2, n + 1)) + (0,)


def minimum_spanning_tree(distances: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """Edges of the minimum spanning tree of a distance matrix, as the authors' reporter builds it.

    Kruskal's algorithm over the pairs of kept words sorted by distance (a stable sort, so
    ties go to the pair that comes first in row-major order, as ``prims_matrix_to_edges``
    in Hewitt & Manning's ``reporter.py``); only the upper triangle is read, which is the
    first of the two orderings of each pair in that order.

    Parameters
    ----------
    distances
        ``(n, n)`` symmetric distances.
    keep
        ``(n,)`` bool, the words that take part (default all); the reporter leaves out
        punctuation.

    Returns
    -------
    numpy.ndarray
        ``(m − 1, 2)`` int64 edges ``(i, j)`` with ``i < j``, in the order they were added,
        where ``m`` is the number of kept words (``(0, 2)`` for fewer than two).

    Examples
    --------
    >>> d = np.array([[0, 1, 5], [1, 0, 2], [5, 2, 0]])
    >>> minimum_spanning_tree(d).tolist()
    [[0, 1], [1, 2]]
    >>> minimum_spanning_tree(d, keep=np.array([True, False, True])).tolist()
    [[0, 2]]
    """
    distances = np.asarray(distances)
    n = len(distances)
    kept = np.arange(n) if keep is None else np.flatnonzero(np.asarray(keep, dtype=bool))
    if len(kept) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    rows, cols = np.triu_indices(len(kept), k=1)
    rows, cols = kept[rows], kept[cols]
    order = np.argsort(distances[rows, cols], kind="stable")
    component = np.arange(n)
    edges = []
    for i, j in zip(rows[order].tolist(), cols[order].tolist()):
        a, b = component[i], component[j]
        if a != b:
            component[component == a] = b
            edges.append((i, j))
            if len(edges) == len(kept) - 1:
                break
    return np.asarray(edges, dtype=np.int64).reshape(-1, 2)


def uuas_counts(predicted: np.ndarray, gold: np.ndarray, keep: np.ndarray | None = None) -> tuple[int, int]:
    """Correct and gold undirected edges of one sentence (the reporter's ``report_uuas_and_tikz``).

    Both trees are the minimum spanning trees of the predicted and the gold distances over
    the kept (non-punctuation) words; corpus UUAS is the sum of correct edges over the sum
    of gold edges.

    Parameters
    ----------
    predicted, gold
        ``(n, n)`` predicted and gold tree distances.
    keep
        ``(n,)`` bool, the non-punctuation words.

    Returns
    -------
    tuple of int
        ``(correct, total)``.

    Examples
    --------
    >>> gold = tree_distances([2, 0, 2])
    >>> uuas_counts(tree_distances(linear_chain_heads(3)), gold)
    (2, 2)
    >>> uuas_counts(tree_distances([0, 1, 2]), tree_distances([3, 3, 0]))
    (1, 2)
    """
    predicted_edges = {tuple(edge) for edge in minimum_spanning_tree(predicted, keep).tolist()}
    gold_edges = [tuple(edge) for edge in minimum_spanning_tree(gold, keep).tolist()]
    return sum(edge in predicted_edges for edge in gold_edges), len(gold_edges)


def _row_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    denominator = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (a * b).sum(axis=-1) / denominator, np.nan)


def spearman_rows(predicted: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Spearman correlation of each row of ``predicted`` with the same row of ``gold``.

    Ranks with ties averaged (as :func:`scipy.stats.spearmanr`); a constant row gives NaN.

    Parameters
    ----------
    predicted, gold
        Arrays of the same shape ``(..., n)``.

    Returns
    -------
    numpy.ndarray
        ``(...)`` correlations.

    Examples
    --------
    >>> spearman_rows(np.array([[0.1, 0.5, 0.3], [3.0, 2.0, 1.0]]), np.array([[0, 2, 1], [0, 1, 2]])).tolist()
    [1.0, -1.0]
    """
    return _row_pearson(rankdata(predicted, axis=-1), rankdata(gold, axis=-1))


def length_average(values: Sequence[float] | np.ndarray, lengths: Sequence[int] | np.ndarray,
                   low: int = MIN_LENGTH, high: int = MAX_LENGTH) -> float:
    """Mean of per-sentence values within each sentence length, then mean over the lengths ``low..high``.

    The averaging of DSpr. and NSpr. (Hewitt & Manning 2019, §3; ``report_spearmanr``):
    for DSpr. a sentence's value is the mean over its words, which makes the per-length
    mean the mean over all words of that length's sentences, as in the reporter.

    Parameters
    ----------
    values
        One value per sentence.
    lengths
        Words per sentence.
    low, high
        The lengths averaged over (inclusive); lengths that no sentence has are skipped.

    Returns
    -------
    float
        NaN when no sentence has a length in range.

    Examples
    --------
    >>> length_average([1.0, 0.0, 0.5, 0.9], [5, 5, 6, 70])
    0.5
    """
    values = np.asarray(values, dtype=np.float64)
    lengths = np.asarray(lengths)
    means = [values[lengths == n].mean() for n in range(low, high + 1) if (lengths == n).any()]
    return float(np.mean(means)) if means else float("nan")


def length_average_resampled(values: np.ndarray, lengths: np.ndarray, low: int = MIN_LENGTH,
                             high: int = MAX_LENGTH) -> np.ndarray:
    """:func:`length_average` of each row of ``(n_boot, n_items)`` resampled values (for bootstrap CIs).

    Examples
    --------
    >>> length_average_resampled(np.array([[1.0, 0.0, 0.5]]), np.array([[5, 5, 6]])).tolist()
    [0.5]
    """
    totals, counts = [], []
    for n in range(low, high + 1):
        mask = lengths == n
        totals.append(np.where(mask, values, 0.0).sum(axis=-1))
        counts.append(mask.sum(axis=-1))
    totals, counts = np.stack(totals, axis=-1), np.stack(counts, axis=-1)
    means = np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(means, axis=-1)


def root_correct(predicted_depths: np.ndarray, heads: Sequence[int], punct: np.ndarray | None = None) -> bool:
    """Whether the shallowest non-punctuation word by predicted depth is the gold root.

    The reporter's ``get_nopunct_argmin``: the first word of minimal predicted depth among
    non-punctuation words (all words when every word is punctuation).

    Examples
    --------
    >>> root_correct(np.array([0.1, 0.5, 0.9]), [0, 1, 2], punct=np.array([False, False, False]))
    True
    >>> root_correct(np.array([0.1, 0.5, 0.9]), [2, 0, 2], punct=np.array([True, False, False]))
    True
    """
    predicted_depths = np.asarray(predicted_depths, dtype=np.float64)
    if punct is not None and not np.all(punct):
        predicted_depths = np.where(punct, np.inf, predicted_depths)
    return int(np.argmin(predicted_depths)) == list(heads).index(0)
