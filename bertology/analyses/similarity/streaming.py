"""Layer × layer similarity streamed over stored rows: memory independent of the number of rows.

The covariance measures (linear CKA, SVCCA, PWCCA, Procrustes) need only ``Σxx``,
``Σyy`` and ``Σxy`` of every layer pair. :class:`GramAccumulator` sums them over row
chunks: the layers of each side are stacked side by side, so one chunk of rows is read
once per layer and one matrix product ``ZₐᵀZ_b`` updates every layer pair at once
(``ZᵀZ`` within one model). Peak memory is the ``(Σ widths)²`` statistics plus one chunk,
whatever the number of rows. Minibatch CKA (Nguyen et al. 2021) streams random
minibatches and sums their unbiased HSIC; RBF CKA (Kornblith et al. 2019) needs the
``(n, n)`` Gram matrices and so caps the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np
from scipy.linalg.blas import dgemm, dsyrk

from bertology.analyses.similarity.measures import (
    center_gram,
    check_cca_rows,
    gram_rbf,
    hsic_unbiased_matrix,
    linear_cka_from_covariance,
    minibatches,
    principal_directions,
    procrustes_from_covariance,
    pwcca_from_covariance,
    svcca_from_covariance,
    whiten,
)
from bertology.analyses.similarity.names import METRICS
from bertology.core.errors import InputError
from bertology.core.progress import progress_bar

Layers = Mapping[int, np.ndarray]
CHUNK_BYTES = 1 << 25
BLOCK_ROWS = 256
RBF_MAX_ROWS = 2500
"""RBF CKA holds one ``(n, n)`` Gram matrix per layer in memory; larger inputs are refused."""


class GramAccumulator:
    """Running centred Gram statistics of stacked layers, updated one chunk of rows at a time.

    Rows are shifted by the first chunk's mean before they are summed (the shifted-data
    algorithm), so that subtracting ``n μμᵀ`` at the end loses no precision when the
    features' means are large against their spread. The products are added in place by
    BLAS (``syrk`` within one model, which fills one triangle, ``gemm`` across two), so
    no temporary of the statistics' size is made.

    Parameters
    ----------
    widths_a
        Width of each layer of side ``a``, in stacking order.
    widths_b
        Widths of side ``b``; ``None`` when both sides are the same rows (one model):
        then ``ZᵀZ`` alone gives every pair.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(50, 2)), rng.normal(size=(50, 3))
    >>> acc = GramAccumulator([2], [3])
    >>> acc.update(x[:20], y[:20]); acc.update(x[20:], y[20:])
    >>> bool(np.allclose(acc.covariances().xy(0, 0), np.cov(x.T, y.T)[:2, 2:]))
    True
    """

    def __init__(self, widths_a: Sequence[int], widths_b: Sequence[int] | None = None) -> None:
        self.same = widths_b is None
        self.offsets_a = np.concatenate([[0], np.cumsum(widths_a)]).astype(int)
        self.offsets_b = self.offsets_a if widths_b is None else np.concatenate([[0], np.cumsum(widths_b)]).astype(int)
        size_a, size_b = int(self.offsets_a[-1]), int(self.offsets_b[-1])
        self.n = 0
        self.shift_a: np.ndarray | None = None
        self.shift_b: np.ndarray | None = None
        self.sum_a = np.zeros(size_a)
        self.sum_b = self.sum_a if self.same else np.zeros(size_b)
        self.cross = np.zeros((size_a, size_b), order="F")
        self.gram_a = [] if self.same else [np.zeros((k, k)) for k in np.diff(self.offsets_a)]
        self.gram_b = [] if self.same else [np.zeros((k, k)) for k in np.diff(self.offsets_b)]

    def update(self, chunk_a: np.ndarray, chunk_b: np.ndarray | None = None) -> None:
        """Add a chunk of rows: ``chunk_a`` is ``(m, Σ widths_a)`` (and ``chunk_b`` likewise); modified in place."""
        if not len(chunk_a):
            return
        if self.shift_a is None:
            self.shift_a = chunk_a.mean(axis=0)
            self.shift_b = None if self.same else chunk_b.mean(axis=0)
        chunk_a -= self.shift_a
        self.sum_a += chunk_a.sum(axis=0)
        self.n += len(chunk_a)
        if self.same:
            dsyrk(1.0, chunk_a.T, beta=1.0, c=self.cross, overwrite_c=True)
            return
        chunk_b -= self.shift_b
        self.sum_b += chunk_b.sum(axis=0)
        dgemm(1.0, chunk_a.T, chunk_b.T, beta=1.0, c=self.cross, trans_b=True, overwrite_c=True)
        for gram, start, stop in zip(self.gram_a, self.offsets_a[:-1], self.offsets_a[1:]):
            block = chunk_a[:, start:stop]
            gram += block.T @ block
        for gram, start, stop in zip(self.gram_b, self.offsets_b[:-1], self.offsets_b[1:]):
            block = chunk_b[:, start:stop]
            gram += block.T @ block

    def _mirror_upper_triangle(self) -> None:
        """Copy the upper triangle that ``syrk`` filled into the lower one, a block of rows at a time."""
        for start in range(0, len(self.cross), BLOCK_ROWS):
            stop = start + BLOCK_ROWS
            self.cross[start:stop, :start] = self.cross[:start, start:stop].T
            diagonal = self.cross[start:stop, start:stop]
            diagonal[...] = np.triu(diagonal) + np.triu(diagonal, 1).T

    def covariances(self) -> LayerCovariances:
        """The centred covariances (divided by ``n - 1``); the accumulator's buffers are reused."""
        if self.n < 2:
            raise InputError(f"Similarity needs at least 2 rows, got {self.n}: give more texts.")
        mean_a, mean_b = self.sum_a / self.n, self.sum_b / self.n
        scale = 1.0 / (self.n - 1)
        if self.same:
            self._mirror_upper_triangle()
        for start in range(0, len(self.cross), BLOCK_ROWS):
            block = self.cross[start:start + BLOCK_ROWS]
            block -= self.n * np.outer(mean_a[start:start + BLOCK_ROWS], mean_b)
            block *= scale
        if self.same:
            blocks = list(zip(self.offsets_a[:-1], self.offsets_a[1:]))
            grams = [self.cross[start:stop, start:stop] for start, stop in blocks]
            return LayerCovariances(self.n, self.cross, grams, grams, self.offsets_a, self.offsets_a)
        for grams, offsets, mean in ((self.gram_a, self.offsets_a, mean_a), (self.gram_b, self.offsets_b, mean_b)):
            for gram, start, stop in zip(grams, offsets[:-1], offsets[1:]):
                gram -= self.n * np.outer(mean[start:stop], mean[start:stop])
                gram *= scale
        return LayerCovariances(self.n, self.cross, self.gram_a, self.gram_b, self.offsets_a, self.offsets_b)


class LayerCovariances:
    """Centred covariances of every layer of two sides: ``xx(i)``, ``yy(j)`` and ``xy(i, j)``.

    Attributes
    ----------
    n
        Rows summed.
    """

    def __init__(self, n: int, cross: np.ndarray, grams_a: list[np.ndarray], grams_b: list[np.ndarray],
                 offsets_a: np.ndarray, offsets_b: np.ndarray) -> None:
        self.n = n
        self._cross = cross
        self._grams_a, self._grams_b = grams_a, grams_b
        self._offsets_a, self._offsets_b = offsets_a, offsets_b

    def xx(self, i: int) -> np.ndarray:
        """Covariance of layer ``i`` of side a (its position in the stacking order)."""
        return self._grams_a[i]

    def yy(self, j: int) -> np.ndarray:
        """Covariance of layer ``j`` of side b."""
        return self._grams_b[j]

    def xy(self, i: int, j: int) -> np.ndarray:
        """Cross-covariance of layer ``i`` of side a with layer ``j`` of side b."""
        return self._cross[self._offsets_a[i]:self._offsets_a[i + 1], self._offsets_b[j]:self._offsets_b[j + 1]]


def _row_chunks(total: int, rows: np.ndarray | None, chunk_rows: int) -> Iterator[tuple[int, int, np.ndarray | None]]:
    """``(start, stop, keep)``: consecutive ranges of the underlying rows and which of them to use."""
    for start in range(0, total, chunk_rows):
        stop = min(total, start + chunk_rows)
        yield start, stop, None if rows is None else rows[start:stop]


def _stacked(layers: Layers, order: Sequence[int], start: int, stop: int, keep: np.ndarray | None) -> np.ndarray:
    """Rows ``start:stop`` (those ``keep`` marks) of every layer in ``order``, side by side, as float64."""
    widths = [layers[k].shape[1] for k in order]
    count = stop - start if keep is None else int(keep.sum())
    out = np.empty((count, sum(widths)))
    column = 0
    for layer, width in zip(order, widths):
        block = np.asarray(layers[layer][start:stop])
        out[:, column:column + width] = block if keep is None else block[keep]
        column += width
    return out


def _total_rows(a: Layers, order: Sequence[int]) -> int:
    return int(a[order[0]].shape[0])


def stream_covariances(a: Layers, layers_a: Sequence[int], b: Layers | None = None,
                       layers_b: Sequence[int] | None = None, rows: np.ndarray | None = None,
                       chunk_rows: int | None = None, progress: bool = True) -> LayerCovariances:
    """Centred covariances of every layer pair from one pass over the rows.

    Parameters
    ----------
    a
        ``{layer: (n, d)}`` arrays (an :class:`~bertology.ActivationStore`, memory-mapped
        arrays or in-memory ones).
    layers_a
        The layers of ``a`` to use, in order.
    b, layers_b
        The other side, with the same rows; ``None`` for ``a`` against itself.
    rows
        ``(n,)`` bool: rows to use (``None``: all).
    chunk_rows
        Rows per chunk; default about 32 MiB of stacked float64 features.
    progress
        Show a progress bar.

    Returns
    -------
    LayerCovariances

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(30, 4))
    >>> cov = stream_covariances({0: x, 1: 2 * x}, [0, 1], chunk_rows=7, progress=False)
    >>> bool(np.allclose(cov.xy(0, 1), 2 * np.cov(x.T)))
    True
    """
    total = _total_rows(a, layers_a)
    widths_a = [a[k].shape[1] for k in layers_a]
    widths_b = None if b is None else [b[k].shape[1] for k in layers_b]
    if chunk_rows is None:
        chunk_rows = max(64, CHUNK_BYTES // (8 * (sum(widths_a) + sum(widths_b or []))))
    accumulator = GramAccumulator(widths_a, widths_b)
    chunks = list(_row_chunks(total, rows, chunk_rows))
    for start, stop, keep in progress_bar(chunks, total=len(chunks), desc="similarity", unit="chunk",
                                          progress=progress):
        chunk_a = _stacked(a, layers_a, start, stop, keep)
        accumulator.update(chunk_a, None if b is None else _stacked(b, layers_b, start, stop, keep))
    return accumulator.covariances()


def _minibatch_grams(layers: Layers, order: Sequence[int], indices: np.ndarray) -> np.ndarray:
    """``(L, m, m)`` linear Gram matrices of the rows ``indices`` (sorted) of every layer."""
    grams = []
    for layer in order:
        block = np.asarray(layers[layer][indices], dtype=np.float64)
        grams.append(block @ block.T)
    return np.stack(grams)


def stream_minibatch_cka(a: Layers, layers_a: Sequence[int], b: Layers | None = None,
                         layers_b: Sequence[int] | None = None, rows: np.ndarray | None = None,
                         batch_size: int = 1024, seed: int = 0, progress: bool = True) -> np.ndarray:
    """Minibatch linear CKA of every layer pair (Nguyen, Raghu & Kornblith 2021).

    Each random minibatch's rows are read once per layer; its unbiased HSIC₁ for all
    layer pairs is added to running sums; CKA is the ratio of the sums (see
    :func:`~bertology.analyses.similarity.measures.minibatch_cka`).

    Returns
    -------
    numpy.ndarray
        ``(len(layers_a), len(layers_b))``.

    Examples
    --------
    >>> from bertology.analyses.similarity.measures import minibatch_cka
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(60, 3)), rng.normal(size=(60, 2))
    >>> m = stream_minibatch_cka({0: x}, [0], {5: y}, [5], batch_size=20, progress=False)
    >>> bool(np.isclose(m[0, 0], minibatch_cka(x, y, batch_size=20)))
    True
    """
    total = _total_rows(a, layers_a)
    available = np.arange(total) if rows is None else np.flatnonzero(rows)
    batches = minibatches(len(available), batch_size, seed)
    cross = np.zeros((len(layers_a), len(layers_a if b is None else layers_b)))
    self_a, self_b = np.zeros(len(layers_a)), np.zeros(cross.shape[1])
    for batch in progress_bar(batches, total=len(batches), desc="minibatch CKA", unit="batch", progress=progress):
        indices = available[batch]
        grams_a = _minibatch_grams(a, layers_a, indices)
        grams_b = grams_a if b is None else _minibatch_grams(b, layers_b, indices)
        hsic = hsic_unbiased_matrix(grams_a, grams_b)
        cross += hsic
        if b is None:
            self_a += np.diag(hsic)
        else:
            self_a += np.diag(hsic_unbiased_matrix(grams_a, grams_a))
            self_b += np.diag(hsic_unbiased_matrix(grams_b, grams_b))
    if b is None:
        self_b = self_a
    return cross / np.sqrt(np.outer(self_a, self_b))


def _normalised_rbf(layers: Layers, layer: int, rows: np.ndarray | None) -> np.ndarray:
    values = np.asarray(layers[layer], dtype=np.float64)
    gram = center_gram(gram_rbf(values if rows is None else values[rows]))
    return gram / np.linalg.norm(gram)


def rbf_cka_matrix(a: Layers, layers_a: Sequence[int], b: Layers | None = None, layers_b: Sequence[int] | None = None,
                   rows: np.ndarray | None = None, progress: bool = True) -> np.ndarray:
    """RBF CKA (bandwidth = median distance, Kornblith et al. 2019) of every layer pair, in memory.

    Raises
    ------
    InputError
        For more than :data:`RBF_MAX_ROWS` rows.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(40, 3))
    >>> np.round(rbf_cka_matrix({0: x, 1: 3 * x}, [0, 1], progress=False), 6).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    n = _total_rows(a, layers_a) if rows is None else int(rows.sum())
    if n > RBF_MAX_ROWS:
        raise InputError(f"RBF CKA keeps an (n, n) kernel per layer in memory and allows at most {RBF_MAX_ROWS} rows, "
                         f"got {n}: give fewer texts, or use metric='linear_cka' or 'minibatch_cka', which stream.")
    side_b = [_normalised_rbf(a if b is None else b, k, rows)
              for k in progress_bar(layers_a if b is None else layers_b, desc="RBF kernels", progress=progress)]
    values = np.empty((len(layers_a), len(side_b)))
    for i, layer in enumerate(layers_a):
        gram = side_b[i] if b is None else _normalised_rbf(a, layer, rows)
        values[i] = [float(gram.ravel() @ other.ravel()) for other in side_b]
    return values


def layer_similarity(a: Layers, layers_a: Sequence[int], b: Layers | None = None,
                     layers_b: Sequence[int] | None = None, metric: str = "linear_cka", rows: np.ndarray | None = None,
                     minibatch: int = 1024, seed: int = 0, progress: bool = True) -> np.ndarray:
    """The ``metric`` of every pair of a layer of ``a`` and a layer of ``b`` (``a`` with itself when ``b`` is None).

    Covariance measures (``linear_cka``, ``svcca``, ``pwcca``, ``procrustes``) come from
    one streamed pass (:func:`stream_covariances`); ``minibatch_cka`` from
    :func:`stream_minibatch_cka`; ``rbf_cka`` from :func:`rbf_cka_matrix`.

    Parameters
    ----------
    a, b
        ``{layer: (n, d)}`` arrays with the same rows.
    layers_a, layers_b
        Layers to compare, in order.
    metric
        One of :data:`~bertology.analyses.similarity.names.METRICS`.
    rows
        ``(n,)`` bool: rows to use.
    minibatch, seed
        Minibatch size and seed of ``minibatch_cka``.
    progress
        Show progress bars.

    Returns
    -------
    numpy.ndarray
        ``(len(layers_a), len(layers_b))``.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(200, 4))
    >>> np.round(layer_similarity({0: x, 1: x @ np.diag([1.0, 1.0, 1.0, 0.0])}, [0, 1], progress=False), 3).tolist()
    [[1.0, 0.84], [0.84, 1.0]]
    """
    if metric not in METRICS:
        raise InputError(f"metric = {metric!r}: choose one of {', '.join(METRICS)}.")
    layers_b = list(layers_a if b is None else layers_b)
    a = {k: a[k] for k in layers_a}
    b = None if b is None else {k: b[k] for k in layers_b}
    side_b = a if b is None else b
    if metric == "minibatch_cka":
        return stream_minibatch_cka(a, layers_a, b, layers_b, rows, minibatch, seed, progress)
    if metric == "rbf_cka":
        return rbf_cka_matrix(a, layers_a, b, layers_b, rows, progress)
    if metric == "pwcca":
        n = _total_rows(a, layers_a) if rows is None else int(rows.sum())
        check_cca_rows(n, max(a[k].shape[1] for k in layers_a), max(side_b[k].shape[1] for k in layers_b))
    cov = stream_covariances(a, layers_a, b, layers_b, rows, progress=progress)
    pairs = [(i, j) for i in range(len(layers_a)) for j in range(len(layers_b))]
    values = np.empty((len(layers_a), len(layers_b)))
    if metric == "linear_cka":
        for i, j in pairs:
            values[i, j] = linear_cka_from_covariance(cov.xx(i), cov.yy(j), cov.xy(i, j))
    elif metric == "procrustes":
        for i, j in pairs:
            values[i, j] = procrustes_from_covariance(cov.xx(i), cov.yy(j), cov.xy(i, j))
    elif metric == "svcca":
        prepared_a = [principal_directions(cov.xx(i)) for i in range(len(layers_a))]
        prepared_b = prepared_a if b is None else [principal_directions(cov.yy(j)) for j in range(len(layers_b))]
        for i, j in pairs:
            values[i, j] = svcca_from_covariance(prepared_a[i], prepared_b[j], cov.xy(i, j))
    else:
        prepared_a = [whiten(cov.xx(i)) for i in range(len(layers_a))]
        prepared_b = prepared_a if b is None else [whiten(cov.yy(j)) for j in range(len(layers_b))]
        for i, j in pairs:
            values[i, j] = pwcca_from_covariance(prepared_a[i], prepared_b[j], cov.xy(i, j))
    return values
