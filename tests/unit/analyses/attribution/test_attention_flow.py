"""The max-flow of attention flow equals a hand computation on two layers and Edmonds–Karp on the full graph."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from networkx.algorithms.flow import edmonds_karp

from bertology.analyses.attribution.attention_methods import _max_flows


def mixing(n_layers, n, seed):
    rng = np.random.default_rng(seed)
    attention = rng.random((n_layers, n, n)) ** 3
    mixed = 0.5 * attention / attention.sum(-1, keepdims=True) + 0.5 * np.eye(n)
    return mixed / mixed.sum(-1, keepdims=True)


def test_two_layers_are_disjoint_paths_through_the_middle():
    # sink j is reached only by the paths CLS -> (1, k) -> (0, j): each carries min of its two capacities
    mixed = mixing(2, 5, seed=0)
    expected = [sum(min(mixed[1, 0, k], mixed[0, k, j]) for k in range(5)) for j in range(5)]
    np.testing.assert_allclose(_max_flows(mixed), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("n_layers, n, seed", [(1, 4, 1), (3, 6, 2), (4, 9, 3)])
def test_equals_edmonds_karp_on_the_whole_graph(n_layers, n, seed):
    mixed = mixing(n_layers, n, seed)
    adjacency = np.zeros(((n_layers + 1) * n, (n_layers + 1) * n))
    for layer in range(n_layers):
        adjacency[(layer + 1) * n:(layer + 2) * n, layer * n:(layer + 1) * n] = mixed[layer]
    graph = nx.from_numpy_array(adjacency, create_using=nx.DiGraph(), edge_attr="capacity")
    expected = [nx.maximum_flow_value(graph, n_layers * n, j, flow_func=edmonds_karp) for j in range(n)]
    np.testing.assert_allclose(_max_flows(mixed), expected, rtol=1e-12, atol=1e-15)
    if n_layers == 1:
        np.testing.assert_allclose(_max_flows(mixed), mixed[0, 0], rtol=1e-12)
