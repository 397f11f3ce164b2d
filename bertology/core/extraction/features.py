"""Per-layer feature matrices of a labelled dataset, from a model or from stored activations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from bertology.core.data.dataset import ProbeDataset
from bertology.core.errors import InputError
from bertology.core.extraction.extractor import extract, resolve_layers
from bertology.core.models import LoadedModel

Source = LoadedModel | Mapping[int, np.ndarray]


def auto_pool(pool: str, data: ProbeDataset) -> str:
    """``"auto"`` pooling: ``word_mean`` for word-level data, ``cls`` otherwise.

    Examples
    --------
    >>> auto_pool("auto", ProbeDataset(["a b"], np.array([0]), ["x"], words=[1]))
    'word_mean'
    """
    if pool != "auto":
        return pool
    return "word_mean" if data.words is not None else "cls"


def layer_features(source: Source, data: ProbeDataset, layers: str | int | Sequence[int] = "all",
                   pool: str = "auto", batch_size: int = 32, store: str | Path | None = None,
                   progress: bool = True) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Per-layer features of a dataset, from a model (extracted) or an existing mapping/ActivationStore.

    Parameters
    ----------
    source
        A :class:`~bertology.LoadedModel`, an :class:`~bertology.ActivationStore` or a dict
        ``{layer: (n, d) array}`` aligned with ``data``.
    data
        The dataset.
    layers
        As in :func:`bertology.extract`; for a mapping, ``"all"`` means all its keys.
    pool
        Pooling; ``"auto"`` is ``word_mean`` for word-level data, ``cls`` otherwise.
    batch_size, progress
        Passed to :func:`bertology.extract`.
    store
        Directory of the activation store (``out`` of :func:`bertology.extract`); ``None``: a temporary one.
        Passed to :func:`bertology.extract`.

    Returns
    -------
    tuple
        ``({layer: (n, d) float32 array}, valid (n,) bool mask)``.

    Examples
    --------
    >>> d = ProbeDataset(["a", "b"], np.array([0, 1]), ["x", "y"])
    >>> feats, valid = layer_features({3: np.ones((2, 4))}, d)
    >>> list(feats), valid.tolist()
    ([3], [True, True])
    """
    if isinstance(source, LoadedModel):
        activations = extract(source, data.texts, layers=layers, pool=auto_pool(pool, data), words=data.words,
                              batch_size=batch_size, out=store, progress=progress)
        valid = np.asarray(activations.valid, dtype=bool)
        return {k: np.asarray(activations[k], dtype=np.float32) for k in activations.layers}, valid
    if not isinstance(source, Mapping) or not len(source):
        raise InputError(f"Cannot probe a {type(source).__name__}: pass a LoadedModel (bt.load_model), an "
                         "ActivationStore or a dict {layer: (n_items, hidden) array}.")
    available = sorted(int(k) for k in source)
    wanted = available if layers == "all" else resolve_layers(layers, max(available))
    missing = [k for k in wanted if k not in available]
    if missing:
        raise InputError(f"Layers {missing} are not in the features (available: {available}); ask for those.")
    features = {k: np.asarray(source[k], dtype=np.float32) for k in wanted}
    for k, values in features.items():
        if values.ndim != 2 or len(values) != len(data):
            raise InputError(f"Layer {k} features have shape {values.shape}; expected ({len(data)}, hidden) "
                             "(one row per dataset item).")
    valid = np.asarray(getattr(source, "valid", np.ones(len(data), dtype=bool)), dtype=bool)
    return features, valid
