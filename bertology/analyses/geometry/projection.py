"""2-D projections (PCA, UMAP) of a word's contextual vectors per layer, coloured by sense."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bertology.core.data.dataset import ProbeDataset
from bertology.core.errors import InputError
from bertology.core.extraction.features import Source, layer_features
from bertology.core.io import write_json_atomic
from bertology.core.results import META_FILE, TABLE_FILE, Result
from bertology.core.viz import PALETTE, new_figure
from bertology.core.viz.style import paper_style


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """Coordinates on the first two principal components (centred SVD; signs fixed by the largest loading).

    Examples
    --------
    >>> pca_2d(np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 0.0]]))[:, 0].tolist()
    [-2.0, 0.0, 2.0]
    """
    centred = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    components = components[:2]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    coords = centred @ (components * signs[:, None]).T
    return np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))


def umap_2d(vectors: np.ndarray, seed: int = 0, n_neighbors: int = 15) -> np.ndarray:
    """UMAP (McInnes et al. 2018) coordinates; imports ``umap`` only when called (it is slow to import).

    Examples
    --------
    >>> umap_2d(np.random.default_rng(0).normal(size=(30, 5))).shape  # doctest: +SKIP
    (30, 2)
    """
    import umap

    reducer = umap.UMAP(n_components=2, n_neighbors=min(n_neighbors, len(vectors) - 1), random_state=seed)
    return reducer.fit_transform(vectors)


@dataclass
class ProjectionResult(Result):
    """2-D coordinates of each item at each layer.

    Saved with ``save(out)`` as ``table.csv`` (the :meth:`to_frame` table) and ``meta.json``
    (method, sense names, metadata) in directory ``out``.

    Attributes
    ----------
    coords
        ``{layer: (n, 2)}``.
    labels
        ``(n,)`` class index of each item.
    label_names
        Name of each class.
    method
        ``"pca"`` or ``"umap"``.
    meta
        Dataset and settings.

    Examples
    --------
    >>> import tempfile
    >>> r = ProjectionResult({0: np.zeros((2, 2))}, np.array([0, 1]), ["fruit", "company"], "pca")
    >>> ProjectionResult.load(r.save(tempfile.mkdtemp())).label_names
    ['fruit', 'company']
    """

    coords: dict[int, np.ndarray]
    labels: np.ndarray
    label_names: list[str]
    method: str
    meta: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Columns ``layer, item, x, y, label, sense``.

        Examples
        --------
        >>> r = ProjectionResult({0: np.zeros((2, 2))}, np.array([0, 1]), ["a", "b"], "pca")
        >>> r.to_frame()["sense"].tolist()
        ['a', 'b']
        """
        frames = [pd.DataFrame({"layer": layer, "item": np.arange(len(xy)), "x": xy[:, 0], "y": xy[:, 1],
                                "label": self.labels, "sense": np.asarray(self.label_names)[self.labels]})
                  for layer, xy in sorted(self.coords.items())]
        return pd.concat(frames, ignore_index=True)

    def _write(self, directory: Path) -> None:
        self.to_frame().to_csv(directory / TABLE_FILE, index=False)
        write_json_atomic(directory / META_FILE, {"method": self.method, "label_names": self.label_names,
                                                  "meta": self.meta})

    @classmethod
    def _read(cls, directory: Path) -> ProjectionResult:
        stored = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        frame = pd.read_csv(directory / TABLE_FILE)
        first = frame[frame["layer"] == frame["layer"].min()].sort_values("item")
        coords = {int(layer): rows.sort_values("item")[["x", "y"]].to_numpy() for layer, rows in frame.groupby("layer")}
        return cls(coords, first["label"].to_numpy(dtype=np.int64), list(stored["label_names"]), stored["method"],
                   stored["meta"])

    def plot(self, ncols: int | None = None) -> Figure:
        """Small multiples over layers: one scatter per layer, points coloured by sense.

        Examples
        --------
        >>> r = ProjectionResult({0: np.zeros((2, 2)), 1: np.ones((2, 2))}, np.array([0, 1]), ["a", "b"], "pca")
        >>> len(r.plot().axes)
        2
        """
        with paper_style():
            layers = sorted(self.coords)
            ncols = ncols or min(len(layers), 4)
            nrows = math.ceil(len(layers) / ncols)
            figure, axes = new_figure("page", height=1.75 * nrows + 0.35, nrows=nrows, ncols=ncols, squeeze=False)
            for axis in axes.flat[len(layers):]:
                axis.set_visible(False)
            for axis, layer in zip(axes.flat, layers):
                for label, name in enumerate(self.label_names):
                    points = self.coords[layer][self.labels == label]
                    axis.scatter(points[:, 0], points[:, 1], s=9, color=PALETTE[label % len(PALETTE)], alpha=0.8,
                                 linewidths=0, label=name)
                axis.set_title(f"layer {layer}" if layer else "layer 0 (emb.)")
                axis.set_xticks([])
                axis.set_yticks([])
            figure.legend(*axes.flat[0].get_legend_handles_labels(), loc="outside lower center",
                          ncols=min(len(self.label_names), 4), markerscale=1.5)
            return figure


def project_layers(source: Source, data: ProbeDataset, layers: str | int | Sequence[int] = "all",
                   method: Literal["pca", "umap"] = "pca", pool: str = "auto", seed: int = 0,
                   batch_size: int = 32, progress: bool = True) -> ProjectionResult:
    """Project a word's vectors at each layer to 2-D (PCA or UMAP), to see senses separate.

    The classic picture: the vectors of "apple" in fruit and company contexts overlap in
    the embedding layer and separate in later layers.

    Parameters
    ----------
    source
        A model, an ActivationStore or ``{layer: (n, d)}`` features aligned with ``data``.
    data
        Items with labels (senses), e.g. :func:`bertology.core.data.load_coarsewsd20`.
    layers
        Hidden states.
    method
        ``"pca"`` or ``"umap"`` (imported lazily; slow to start).
    pool
        Pooling; ``"auto"`` is ``word_mean`` for word-level data.
    seed
        Seed of UMAP.
    batch_size, progress
        Extraction settings.

    Returns
    -------
    ProjectionResult

    Examples
    --------
    >>> import bertology as bt
    >>> r = project_layers(bt.load_model("minilm"), bt.data.load_coarsewsd20("apple"), layers="0,6", progress=False)
    >>> sorted(r.coords), r.coords[6].shape[1]
    ([0, 6], 2)
    """
    if method not in {"pca", "umap"}:
        raise InputError(f"Unknown projection method {method!r}: use 'pca' or 'umap'.")
    features, valid = layer_features(source, data, layers, pool, batch_size, None, progress)
    project = pca_2d if method == "pca" else (lambda x: umap_2d(x, seed=seed))
    coords = {layer: project(values[valid].astype(np.float64)) for layer, values in features.items()}
    return ProjectionResult(coords, data.labels[valid], list(data.label_names), method,
                            {"dataset": data.name, "n_items": int(valid.sum())})
