"""``similarity``: a layer × layer similarity matrix of two activation stores, or of two models on the same texts."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bertology.analyses.similarity.features import count_rows, model_features
from bertology.analyses.similarity.measures import check_cca_rows
from bertology.analyses.similarity.names import METRICS, POOLS
from bertology.analyses.similarity.result import SimilarityMatrix
from bertology.analyses.similarity.streaming import RBF_MAX_ROWS, layer_similarity
from bertology.core.errors import InputError
from bertology.core.extraction import ActivationStore, parse_layers, resolve_layers, target_spans
from bertology.core.extraction.align import as_integer
from bertology.core.extraction.store import MANIFEST
from bertology.core.models import LoadedModel, load_model

Source = str | Path | LoadedModel | ActivationStore


def check_similarity_arguments(metric: str = "linear_cka", layers: Any = "all", pool: str = "all_words",
                               batch_size: int = 32, minibatch: int = 1024) -> None:
    """Check the arguments of :func:`similarity` that need no model, before any model loads.

    Raises
    ------
    InputError
        For an unknown metric or pooling, unreadable layers, a batch size below 1 or a
        minibatch below 4 rows.

    Examples
    --------
    >>> check_similarity_arguments("pwcca", "0,6", "mean")
    >>> check_similarity_arguments("cca")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: metric = 'cca': choose one of linear_cka, rbf_cka, ...
    """
    if metric not in METRICS:
        raise InputError(f"metric = {metric!r}: choose one of {', '.join(METRICS)}.")
    if pool not in POOLS:
        raise InputError(f"pool = {pool!r}: choose one of {', '.join(POOLS)} (all_words: one row per word of every "
                         "text; the others: one pooled row per text).")
    if as_integer(batch_size) is None or batch_size < 1:
        raise InputError(f"batch_size = {batch_size!r}: it must be an integer of at least 1.")
    if as_integer(minibatch) is None or minibatch < 4:
        raise InputError(f"minibatch = {minibatch!r}: the unbiased HSIC of minibatch CKA needs at least 4 rows per "
                         "minibatch, e.g. 1024.")
    parse_layers(layers)


def is_store(source: object) -> bool:
    """Whether ``source`` is an activation store or the directory of one (it holds a store manifest).

    Examples
    --------
    >>> is_store("minilm"), is_store("/nonexistent")
    (False, False)
    """
    if isinstance(source, ActivationStore):
        return True
    return isinstance(source, (str, Path)) and (Path(source) / MANIFEST).is_file()


def _short_name(name: str) -> str:
    return Path(name).name if ("/" in name or "\\" in name) and Path(name).name else name


def _store_layers(store: ActivationStore, layers: Any) -> list[int]:
    if parse_layers(layers) == "all":
        return store.layers
    wanted = resolve_layers(layers, int(store.manifest["model"]["num_layers"]))
    missing = [layer for layer in wanted if layer not in store.layers]
    if missing:
        raise InputError(f"Layers {missing} are not in the store {store.directory} (it holds {store.layers}): ask for "
                         "those, or extract the missing layers.")
    return wanted


def _compare_stores(a: Source, b: Source, metric: str, layers: Any, minibatch: int, seed: int,
                    progress: bool) -> SimilarityMatrix:
    store_a = a if isinstance(a, ActivationStore) else ActivationStore(a)
    within = a is b or (not isinstance(b, ActivationStore) and Path(b).resolve() == store_a.directory.resolve())
    store_b = store_a if within else (b if isinstance(b, ActivationStore) else ActivationStore(b))
    request_a, request_b = store_a.manifest["request"], store_b.manifest["request"]
    if request_a["n_items"] != request_b["n_items"] or request_a.get("input_sha256") != request_b.get("input_sha256"):
        raise InputError(f"The stores {store_a.directory} ({request_a['n_items']} items) and {store_b.directory} "
                         f"({request_b['n_items']} items) were extracted from different inputs: extract both from "
                         "the same texts, in the same order.")
    layers_a, layers_b = _store_layers(store_a, layers), _store_layers(store_b, layers)
    rows = store_a.valid & store_b.valid
    arrays_a = {k: store_a[k] for k in layers_a}
    arrays_b = None if within else {k: store_b[k] for k in layers_b}
    values = layer_similarity(arrays_a, layers_a, arrays_b, layers_b, metric, rows=None if rows.all() else rows,
                              minibatch=minibatch, seed=seed, progress=progress)
    meta = {"model_a": _short_name(str(store_a.manifest["model"].get("name", store_a.directory.name))),
            "model_b": _short_name(str(store_b.manifest["model"].get("name", store_b.directory.name))),
            "within": within, "n_rows": int(rows.sum()),
            "pool": request_a["pool"] if request_a["pool"] == request_b["pool"] else
            f"{request_a['pool']} / {request_b['pool']}",
            "stores": {"a": str(store_a.directory), "b": str(store_b.directory)}}
    return _result(values, layers_a, layers_b, metric, meta, minibatch, seed)


def _result(values: np.ndarray, layers_a: list[int], layers_b: list[int], metric: str, meta: dict[str, Any],
            minibatch: int, seed: int) -> SimilarityMatrix:
    if metric == "minibatch_cka":
        meta.update(minibatch=int(minibatch), seed=int(seed))
    return SimilarityMatrix.from_values(values, layers_a, layers_b, metric, meta)


def _identity(model: LoadedModel) -> dict[str, Any]:
    return {key: model.describe()[key] for key in ("name", "source", "revision", "weights_sha256", "num_layers",
                                                    "hidden_size")}


def _compare_models(a: str | Path | LoadedModel, b: str | Path | LoadedModel, texts: Sequence[str], metric: str,
                    layers: Any, pool: str, batch_size: int, minibatch: int, seed: int, device: str | None,
                    progress: bool) -> SimilarityMatrix:
    target_spans(texts)
    n_rows = count_rows(texts, pool)
    if metric == "rbf_cka" and n_rows > RBF_MAX_ROWS:
        raise InputError(f"RBF CKA keeps an (n, n) kernel per layer in memory and allows at most {RBF_MAX_ROWS} rows; "
                         f"these texts give {n_rows} ({pool}): give fewer texts, pool per text, or use "
                         "metric='linear_cka' or 'minibatch_cka', which stream.")
    within = a is b or (not isinstance(a, LoadedModel) and not isinstance(b, LoadedModel) and str(a) == str(b))
    model_a = a if isinstance(a, LoadedModel) else load_model(str(a), device=device)
    model_b = model_a if within else (b if isinstance(b, LoadedModel) else
                                      load_model(str(b), device=device or str(model_a.device)))
    layers_a, layers_b = resolve_layers(layers, model_a.num_layers), resolve_layers(layers, model_b.num_layers)
    if metric == "pwcca":
        check_cca_rows(n_rows, model_a.hidden_size, model_b.hidden_size)
    with tempfile.TemporaryDirectory(prefix="bertology-similarity-") as directory:
        features = {}
        for side, model, side_layers in (("a", model_a, layers_a), ("b", None if within else model_b, layers_b)):
            if model is not None:
                Path(directory, side).mkdir()
                features[side] = model_features(model, texts, side_layers, pool, Path(directory, side), batch_size,
                                                progress)
        values = layer_similarity(features["a"], layers_a, features.get("b"), layers_b, metric, minibatch=minibatch,
                                  seed=seed, progress=progress)
        features.clear()
    meta = {"model_a": _short_name(model_a.name), "model_b": _short_name(model_b.name), "within": within,
            "n_rows": n_rows, "n_texts": len(texts), "pool": pool,
            "models": {"a": _identity(model_a), "b": _identity(model_b)}}
    return _result(values, layers_a, layers_b, metric, meta, minibatch, seed)


def similarity(a: Source, b: Source | None = None, texts: Sequence[str] | None = None, metric: str = "linear_cka",
               layers: str | int | Sequence[int] = "all", pool: str = "all_words", batch_size: int = 32,
               minibatch: int = 1024, seed: int = 0, device: str | None = None,
               progress: bool = True) -> SimilarityMatrix:
    """Layer × layer similarity of two representations: two stores, two models on the same texts, or one with itself.

    Measures (``metric``): ``linear_cka`` and ``rbf_cka`` (Kornblith et al. 2019),
    ``minibatch_cka`` (Nguyen, Raghu & Kornblith 2021), ``svcca`` (Raghu et al. 2017,
    99 % of the variance kept), ``pwcca`` (Morcos et al. 2018) and ``procrustes`` (Ding et
    al. 2021; a distance, 0 for the same representation). Every measure but the RBF
    CKA streams the rows in chunks, so memory does not grow with their number:
    linear CKA, SVCCA, PWCCA and Procrustes come from the covariances of all layers,
    accumulated in one pass (see :mod:`bertology.analyses.similarity.streaming`).

    Parameters
    ----------
    a, b
        Two :class:`~bertology.ActivationStore` s (or their directories) extracted from
        the same texts, or two models (names, paths or :class:`~bertology.LoadedModel` s);
        ``b=None`` or ``b`` the same as ``a`` compares ``a``'s layers with each other.
    texts
        The sentences, for models only; both models see the same ones.
    metric
        One of ``linear_cka``, ``rbf_cka``, ``minibatch_cka``, ``svcca``, ``pwcca``, ``procrustes``.
    layers
        Hidden states as in :func:`bertology.extract` (``"all"``: every layer of each side).
    pool
        Features of models: ``"all_words"`` (one row per whitespace word of every text, the
        mean of its word-pieces; the same rows for models with different tokenizers) or a
        pooling of :func:`bertology.extract` (``cls``, ``mean``, ``first``, ``last``) for one
        row per text. Stores keep their own pooling.
    batch_size
        Texts per forward pass.
    minibatch, seed
        Rows per minibatch, and the seed of the random minibatches, for ``minibatch_cka``.
    device
        Device for models given by name.
    progress
        Show progress bars.

    Returns
    -------
    SimilarityMatrix

    Raises
    ------
    InputError
        An unknown metric or pooling, a store with a model, texts with stores or none with
        models, stores of different inputs, layers a store lacks, too few rows for PWCCA or
        too many for RBF CKA; all before any model loads where no model is needed to tell.

    Examples
    --------
    >>> import bertology as bt
    >>> texts = ["The bank raised its rates.", "We sat on the river bank.", "A cat slept."]
    >>> sim = bt.similarity("minilm", "minilm", texts=texts, layers="0,3,6", progress=False)
    >>> sim.values.shape, round(float(sim.values[1, 1]), 6)
    ((3, 3), 1.0)
    >>> store = bt.extract(bt.load_model("minilm"), texts, pool="mean", progress=False)
    >>> bt.similarity(store, store, metric="procrustes").to_frame().shape
    (49, 4)
    """
    check_similarity_arguments(metric, layers, pool, batch_size, minibatch)
    b = a if b is None else b
    if is_store(a) != is_store(b):
        raise InputError("Compare two activation stores or two models, not one of each: extract the model's "
                         "activations for the store's texts with bt.extract and compare the two stores.")
    if is_store(a):
        if texts is not None:
            raise InputError("texts are for models: stores already hold their activations, so leave texts out.")
        return _compare_stores(a, b, metric, layers, minibatch, seed, progress)
    if texts is None:
        raise InputError("Comparing models needs texts: pass texts=[...] (both models see the same sentences).")
    return _compare_models(a, b, texts, metric, layers, pool, batch_size, minibatch, seed, device, progress)
