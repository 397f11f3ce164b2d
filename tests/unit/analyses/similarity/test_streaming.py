"""Streamed layer × layer statistics equal the in-memory measures; each chunk of rows is read once per layer."""

from __future__ import annotations

import numpy as np
import pytest

from bertology.analyses.similarity.measures import linear_cka, minibatch_cka, procrustes, pwcca, rbf_cka, svcca
from bertology.analyses.similarity.streaming import GramAccumulator, layer_similarity, stream_covariances
from bertology.core.errors import InputError

IN_MEMORY = {"linear_cka": linear_cka, "rbf_cka": rbf_cka, "svcca": svcca, "pwcca": pwcca, "procrustes": procrustes,
             "minibatch_cka": lambda x, y: minibatch_cka(x, y, batch_size=64, seed=2)}


def _layers(n=300, widths=(5, 5, 7), seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 4))
    return {k: np.tanh(base @ rng.normal(size=(4, w))) + 0.2 * rng.normal(size=(n, w)) + offset
            for k, w in zip((0, 2, 4), widths)}


class CountingLayers(dict):
    """A layer mapping that records every slice read from it."""

    def __init__(self, layers):
        super().__init__({k: _Recorded(v, k, self) for k, v in layers.items()})
        self.reads = []


class _Recorded:
    def __init__(self, array, layer, owner):
        self.array, self.layer, self.owner, self.shape = array, layer, owner, array.shape

    def __getitem__(self, key):
        self.owner.reads.append((self.layer, key))
        return self.array[key]


@pytest.mark.parametrize("metric", IN_MEMORY)
def test_streamed_matrix_equals_the_measure_on_each_pair(metric):
    a, b = _layers(), _layers(seed=1, widths=(6, 4, 5))
    within = layer_similarity(a, [0, 2, 4], metric=metric, minibatch=64, seed=2, progress=False)
    across = layer_similarity(a, [0, 4], b, [2, 0, 4], metric=metric, minibatch=64, seed=2, progress=False)
    measure = IN_MEMORY[metric]
    for i, k in enumerate([0, 2, 4]):
        for j, m in enumerate([0, 2, 4]):
            assert within[i, j] == pytest.approx(measure(a[k], a[m]), abs=1e-9)
    for i, k in enumerate([0, 4]):
        for j, m in enumerate([2, 0, 4]):
            assert across[i, j] == pytest.approx(measure(a[k], b[m]), abs=1e-9)


def test_rows_mask_selects_the_rows():
    a, b = _layers(), _layers(seed=1)
    rows = np.random.default_rng(0).random(300) < 0.7
    values = layer_similarity(a, [0, 2], b, [4], rows=rows, progress=False)
    assert values[1, 0] == pytest.approx(linear_cka(a[2][rows], b[4][rows]), abs=1e-12)


@pytest.mark.parametrize("chunk_rows", [1, 7, 64, 1000])
def test_covariances_do_not_depend_on_the_chunking_even_far_from_the_origin(chunk_rows):
    a, b = _layers(offset=1e4), _layers(seed=1, offset=-3e3)
    cov = stream_covariances(a, [0, 2], b, [4], chunk_rows=chunk_rows, progress=False)
    full = np.cov(np.hstack([a[0], a[2]]).T, b[4].T)
    assert np.allclose(cov.xx(1), full[5:10, 5:10], rtol=1e-9, atol=1e-9)
    assert np.allclose(cov.yy(0), full[10:, 10:], rtol=1e-9, atol=1e-9)
    assert np.allclose(cov.xy(0, 0), full[:5, 10:], rtol=1e-9, atol=1e-9)
    within = stream_covariances(a, [0, 2, 4], chunk_rows=chunk_rows, progress=False)
    assert np.allclose(within.xy(2, 0), np.cov(a[4].T, a[0].T)[:7, 7:], rtol=1e-9, atol=1e-9)


def test_each_chunk_is_read_once_per_layer_and_never_whole():
    layers = CountingLayers(_layers(n=100))
    stream_covariances(layers, [0, 2, 4], chunk_rows=30, progress=False)
    assert sorted(layers.reads, key=str) == sorted([(k, slice(s, min(s + 30, 100))) for k in (0, 2, 4)
                                                    for s in range(0, 100, 30)], key=str)


def test_accumulator_memory_is_the_statistics_only():
    accumulator = GramAccumulator([5, 7], [3])
    buffers = [accumulator.cross, accumulator.sum_a, accumulator.sum_b, *accumulator.gram_a, *accumulator.gram_b]
    for _ in range(5):
        accumulator.update(np.ones((50, 12)), np.ones((50, 3)))
    assert sum(buffer.nbytes for buffer in buffers) == 8 * (12 * 3 + 12 + 3 + 25 + 49 + 9)
    assert accumulator.n == 250


def test_rbf_refuses_too_many_rows_and_pwcca_too_few():
    big = {0: np.zeros((3000, 2))}
    with pytest.raises(InputError, match="at most 2500 rows"):
        layer_similarity(big, [0], metric="rbf_cka", progress=False)
    with pytest.raises(InputError, match="more examples than features"):
        layer_similarity({0: np.ones((4, 8))}, [0], metric="pwcca", progress=False)
    with pytest.raises(InputError, match="choose one of"):
        layer_similarity(big, [0], metric="cca", progress=False)
