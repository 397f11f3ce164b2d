"""Tree distances, spanning trees and the structural-probe metrics against hand-computed values."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from scipy.stats import spearmanr

from bertology.analyses.syntax.trees import (
    PUNCTUATION_XPOS,
    length_average,
    length_average_resampled,
    linear_chain_heads,
    minimum_spanning_tree,
    punctuation_mask,
    root_correct,
    spearman_rows,
    tree_depths,
    tree_distances,
    uuas_counts,
)
from bertology.core.errors import InputError


def _bfs_distances(heads):
    n = len(heads)
    neighbours = [[] for _ in range(n)]
    for child, head in enumerate(heads):
        if head:
            neighbours[child].append(head - 1)
            neighbours[head - 1].append(child)
    out = np.zeros((n, n), dtype=int)
    for source in range(n):
        seen, queue = {source: 0}, deque([source])
        while queue:
            node = queue.popleft()
            for other in neighbours[node]:
                if other not in seen:
                    seen[other] = seen[node] + 1
                    queue.append(other)
        out[source] = [seen[j] for j in range(n)]
    return out


def _reporter_mst(matrix, keep):
    """The released reporter's procedure, written out: every ordered pair of kept words in row-major order,
    a stable sort by distance, and union-find that merges the first word's set into the second's."""
    pairs = [((i, j), matrix[i][j]) for i in range(len(matrix)) for j in range(len(matrix)) if keep[i] and keep[j]]
    parent = list(range(len(matrix)))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    edges = []
    for (i, j), _ in sorted(pairs, key=lambda item: item[1]):
        if find(i) != find(j):
            parent[find(i)] = j
            edges.append((i, j))
    return edges


def test_distances_and_depths_match_breadth_first_search():
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 15):
        order = rng.permutation(n)
        heads = [0] * n
        for position, word in enumerate(order[1:], start=1):
            heads[word] = int(order[rng.integers(0, position)]) + 1
        np.testing.assert_array_equal(tree_distances(heads), _bfs_distances(heads))
        np.testing.assert_array_equal(tree_depths(heads), _bfs_distances(heads)[heads.index(0)])


def test_depths_and_distances_by_hand():
    heads = [2, 0, 4, 2, 4]  # 2 is the root; 1 and 4 hang from it; 3 and 5 from 4
    assert tree_depths(heads).tolist() == [1, 0, 2, 1, 2]
    assert tree_distances(heads)[0].tolist() == [0, 1, 3, 2, 3]
    assert tree_distances(heads)[2].tolist() == [3, 2, 0, 1, 2]


def test_bad_heads_are_input_errors():
    with pytest.raises(InputError, match="cycle"):
        tree_depths([2, 1, 0])
    with pytest.raises(InputError, match="outside"):
        tree_distances([0, 5])


def test_linear_chain_attaches_each_word_to_the_next():
    assert linear_chain_heads(3) == (2, 3, 0)
    assert tree_depths(linear_chain_heads(4)).tolist() == [3, 2, 1, 0]
    assert tree_distances(linear_chain_heads(4))[0].tolist() == [0, 1, 2, 3]


def test_mst_by_hand_with_ties_broken_row_major():
    # pairs (0,1)=1, (2,3)=1, (0,2)=2, (1,3)=2, (0,3)=2, (1,2)=3: Kruskal takes both 1s, then the first 2 in
    # row-major order, (0,2); (0,3) and (1,3) would close cycles.
    d = np.array([[0, 1, 2, 2], [1, 0, 3, 2], [2, 3, 0, 1], [2, 2, 1, 0]])
    assert minimum_spanning_tree(d).tolist() == [[0, 1], [2, 3], [0, 2]]
    assert minimum_spanning_tree(d, np.array([True, False, True, True])).tolist() == [[2, 3], [0, 2]]
    assert minimum_spanning_tree(np.zeros((1, 1))).shape == (0, 2)


def test_mst_equals_the_reporter_procedure_on_tied_matrices():
    rng = np.random.default_rng(1)
    for _ in range(200):
        n = int(rng.integers(2, 9))
        upper = np.triu(rng.integers(1, 4, size=(n, n)), 1)
        matrix = upper + upper.T
        keep = rng.random(n) > 0.2
        ours = {tuple(e) for e in minimum_spanning_tree(matrix, keep).tolist()}
        theirs = {tuple(sorted(e)) for e in _reporter_mst(matrix, keep)}
        assert ours == theirs


def test_punctuation_tags_are_the_reporters():
    assert PUNCTUATION_XPOS == {"''", ",", ".", ":", "``", "-LRB-", "-RRB-"}
    upos = ["PUNCT", "NOUN", "PUNCT", "PUNCT", "SYM"]
    xpos = ["-LRB-", "NN", "HYPH", "``", "$"]
    assert punctuation_mask(upos, xpos, punct="xpos").tolist() == [True, False, False, True, False]
    assert punctuation_mask(upos, xpos, "upos").tolist() == [True, False, True, True, False]
    with pytest.raises(InputError, match="punct"):
        punctuation_mask(upos, xpos, "all")


def test_uuas_leaves_punctuation_out_of_both_trees():
    # "dogs bark , loudly ." with heads bark <- dogs, bark <- ",", bark <- loudly, bark <- "."
    heads = [2, 0, 2, 2, 2]
    gold = tree_distances(heads)
    punct = punctuation_mask(["NOUN", "VERB", "PUNCT", "ADV", "PUNCT"], ["NNS", "VBP", ",", "RB", "."])
    # prediction: the chain dogs-bark-,-loudly-. ; without punctuation the chain's MST over {dogs, bark, loudly}
    # is dogs-bark (1), bark-loudly (2): both gold edges.
    chain = tree_distances(linear_chain_heads(5))
    assert uuas_counts(chain, gold, ~punct) == (2, 2)
    # with punctuation kept, the chain's edges bark-, ,-loudly loudly-. miss two of four gold edges
    assert uuas_counts(chain, gold) == (2, 4)
    # a wrong prediction among non-punctuation words: dogs-loudly closest
    wrong = gold.astype(float).copy()
    wrong[0, 3] = wrong[3, 0] = 0.5
    assert uuas_counts(wrong, gold, ~punct) == (1, 2)


def test_spearman_rows_match_scipy():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(6, 9)), rng.integers(0, 4, size=(6, 9)).astype(float)
    expected = [spearmanr(x, y).correlation for x, y in zip(a, b)]
    np.testing.assert_allclose(spearman_rows(a, b), expected)
    assert np.isnan(spearman_rows(np.ones(4), np.arange(4.0)))


def test_dspr_length_averaging_by_hand():
    # two sentences of length 5 (0.9, 0.5), one of 6 (0.2); lengths 4 and 51 fall outside 5-50
    values, lengths = [0.9, 0.5, 0.2, 0.0, 0.0], [5, 5, 6, 4, 51]
    assert length_average(values, lengths) == pytest.approx(((0.9 + 0.5) / 2 + 0.2) / 2)
    assert np.isnan(length_average([1.0], [3]))
    resampled = length_average_resampled(np.array([values, values]), np.array([lengths, lengths]))
    np.testing.assert_allclose(resampled, [0.45, 0.45])


def test_dspr_of_a_sentence_averages_its_words():
    heads = [2, 0, 2, 3, 2]
    gold = tree_distances(heads).astype(float)
    predicted = gold + np.diag(np.zeros(5))
    predicted[0, 2] = predicted[2, 0] = 0.5  # word 0 and 2 look close
    per_word = spearman_rows(predicted, gold)
    expected = [spearmanr(p, g).correlation for p, g in zip(predicted, gold)]
    np.testing.assert_allclose(per_word, expected)
    assert per_word[1] == pytest.approx(1.0) and per_word[0] < 1.0


def test_nspr_by_hand():
    gold = np.array([1.0, 0.0, 2.0, 1.0, 2.0])
    predicted = np.array([0.8, 0.1, 2.5, 1.7, 1.9])
    # ranks gold [2.5, 1, 4.5, 2.5, 4.5] (mean 3), predicted [2, 1, 5, 3, 4] (mean 3):
    # centred products sum to 9, squares to 9 and 10, so rho = 9 / sqrt(90) = 3 / sqrt(10)
    assert float(spearman_rows(predicted, gold)) == pytest.approx(3 / np.sqrt(10))


def test_root_accuracy_skips_punctuation():
    heads = [2, 0, 2]
    punct = np.array([False, False, True])
    assert root_correct(np.array([0.5, 0.2, 0.1]), heads, punct)
    assert not root_correct(np.array([0.5, 0.2, 0.1]), heads)
    assert not root_correct(np.array([0.1, 0.2, 0.0]), heads, punct)
    assert root_correct(np.array([1.0, 1.0]), [0, 1], np.array([True, True]))
