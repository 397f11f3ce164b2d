"""``probe_layers``: layer-wise linear probes with cross-validation, baselines, controls and MDL."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin, clone
from sklearn.model_selection import StratifiedKFold

from bertology.analyses.probes.controls import control_task_labels, majority_predictions, selectivity
from bertology.analyses.probes.encoders import random_encoder as make_random_encoder
from bertology.analyses.probes.mdl import PORTIONS, online_codelength
from bertology.analyses.probes.metrics import accuracy, macro_f1
from bertology.analyses.probes.result import ProbeResult
from bertology.analyses.probes.solver import fit_predict_proba
from bertology.core.data.dataset import ProbeDataset
from bertology.core.errors import InputError
from bertology.core.extraction.features import Source, auto_pool, layer_features
from bertology.core.models import LoadedModel
from bertology.core.progress import progress_bar
from bertology.core.stats import bootstrap_ci, mean_ci

logger = logging.getLogger(__name__)


def check_cv(cv: int | None) -> None:
    """``cv`` must be ``None`` (the official split) or a whole number of folds of at least 2.

    Raises
    ------
    InputError
        Naming the value and the fix.

    Examples
    --------
    >>> check_cv(5), check_cv(None)
    (None, None)
    >>> check_cv(1)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: cv must be >= 2 folds, got 1: ...
    """
    if cv is None:
        return
    if isinstance(cv, bool) or not isinstance(cv, Integral) or cv < 2:
        raise InputError(f"cv must be >= 2 folds, got {cv!r}: pass the number of folds (e.g. 5), or None for the "
                         "dataset's official train/test split (--cv 0 on the command line).")


def check_classes(labels: np.ndarray, label_names: Sequence[str] = (), where: str = "The data") -> None:
    """A probe needs items of at least two classes: with one, every prediction is right.

    Parameters
    ----------
    labels
        ``(n,)`` class indices.
    label_names
        Names of the classes, for the message.
    where
        What holds the labels, for the message.

    Raises
    ------
    InputError
        When the labels hold fewer than two classes.

    Examples
    --------
    >>> check_classes(np.array([0, 1, 1]))
    >>> check_classes(np.array([1, 1]), ["neg", "pos"])  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: The data has one class ('pos', 2 items): ...
    """
    present = np.unique(labels)
    if len(present) >= 2:
        return
    if len(present) == 0:
        raise InputError(f"{where} has no items: a probe needs items of at least two classes.")
    index = int(present[0])
    name = label_names[index] if index < len(label_names) else index
    raise InputError(f"{where} has one class ({name!r}, {len(labels)} items): a probe on it scores accuracy 1 "
                     "whatever the features; give data with at least two classes.")


def fold_splits(labels: np.ndarray, cv: int | None, seed: int = 0,
                split: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test row indices: stratified, seeded ``cv``-fold, or the official split when ``cv`` is None.

    Parameters
    ----------
    labels
        ``(n,)`` class indices.
    cv
        Number of folds, or ``None`` to use ``split``.
    seed
        Seed of the fold shuffle.
    split
        ``(n,)`` ``"train"``/``"test"`` markers (needed when ``cv`` is None).

    Returns
    -------
    list of tuple
        ``(train_rows, test_rows)`` pairs; within a pair the two never share a row.

    Raises
    ------
    InputError
        A ``cv`` below 2, fewer than two classes (in the training rows of the official
        split), too few items of a class for ``cv`` folds, or no split to use.

    Examples
    --------
    >>> [(a.tolist(), b.tolist()) for a, b in fold_splits(np.array([0, 1, 0, 1]), None,
    ...                                                    split=np.array(["train", "train", "test", "test"]))]
    [([0, 1], [2, 3])]
    """
    check_cv(cv)
    check_classes(labels)
    if cv is None:
        if split is None:
            raise InputError("cv=None uses the dataset's official train/test split, but this dataset has none: "
                             "pass cv=5 (k-fold) or a dataset with a split column.")
        train, test = np.flatnonzero(split == "train"), np.flatnonzero(split == "test")
        if not len(train) or not len(test):
            raise InputError(f"The official split has {len(train)} train and {len(test)} test items: both are "
                             "needed; pass cv=5 to cross-validate instead.")
        check_classes(labels[train], where="The training rows of the official split")
        return [(train, test)]
    present = np.bincount(labels)
    smallest = present[present > 0].min()
    if smallest < cv:
        raise InputError(f"cv={cv} folds need at least {cv} items of every class, but the rarest class has "
                         f"{smallest}: lower cv (>= 2) or add data.")
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    return [(train, test) for train, test in folds.split(np.zeros(len(labels)), labels)]


def _predict(stack: np.ndarray, label_sets: list[np.ndarray], train: np.ndarray, test: np.ndarray, n_classes: int,
             estimator: ClassifierMixin | None, C: float, max_iter: int) -> list[np.ndarray]:
    """Test-row predictions ``(L, n_test)`` for each label set, fitted on ``train`` rows only.

    A label set with a single class among the training rows predicts that class.
    """
    out: list[np.ndarray | None] = [None] * len(label_sets)
    fitted = []
    for index, y in enumerate(label_sets):
        seen = np.unique(y[train])
        if len(seen) == 1:
            out[index] = np.full((len(stack), len(test)), seen[0])
        elif estimator is None:
            fitted.append(index)
        else:
            out[index] = np.stack([clone(estimator).fit(layer[train], y[train]).predict(layer[test])
                                   for layer in stack])
    if fitted:
        train_x = np.concatenate([stack[:, train]] * len(fitted))
        labels = np.concatenate([np.broadcast_to(label_sets[i][train], (len(stack), len(train))) for i in fitted])
        test_x = np.concatenate([stack[:, test]] * len(fitted))
        predictions = fit_predict_proba(train_x, labels, test_x, n_classes, C=C, max_iter=max_iter).argmax(-1)
        for position, index in enumerate(fitted):
            out[index] = predictions[position * len(stack):(position + 1) * len(stack)]
    return out


def _evaluate(stack: np.ndarray, labels: np.ndarray, types: list[str], layers: list[int], n_classes: int,
              splits: dict[int, list[tuple[np.ndarray, np.ndarray]]], controls: bool, estimator, C: float,
              max_iter: int, level: float, encoder: str, progress: bool) -> list[dict]:
    scores: dict[str, list[np.ndarray]] = {key: [] for key in ("accuracy", "macro_f1", "control_accuracy",
                                                               "control_macro_f1", "base_accuracy", "base_macro_f1")}
    single: tuple[np.ndarray, np.ndarray] | None = None
    jobs = [(seed, train, test) for seed, folds in splits.items() for train, test in folds]
    control_labels = {seed: control_task_labels(types, labels, seed) for seed in splits} if controls else {}
    for seed, train, test in progress_bar(jobs, total=len(jobs), desc=f"probe ({encoder})", progress=progress):
        label_sets = [labels] + ([control_labels[seed]] if controls else [])
        predictions = _predict(stack, label_sets, train, test, n_classes, estimator, C, max_iter)
        scores["accuracy"].append(accuracy(labels[test], predictions[0]))
        scores["macro_f1"].append(macro_f1(labels[test], predictions[0], n_classes))
        if controls:
            scores["control_accuracy"].append(accuracy(label_sets[1][test], predictions[1]))
            scores["control_macro_f1"].append(macro_f1(label_sets[1][test], predictions[1], n_classes))
        base = majority_predictions(labels[train], len(test))
        scores["base_accuracy"].append(np.full(len(stack), accuracy(labels[test], base)))
        scores["base_macro_f1"].append(np.full(len(stack), macro_f1(labels[test], base, n_classes)))
        single = (labels[test], predictions[0])
    arrays = {key: np.stack(values) for key, values in scores.items() if values}  # (runs, L)
    rows = []
    for index, layer in enumerate(layers):
        boot = None
        if len(jobs) == 1:
            gold, predicted = single[0], single[1][index]
            boot = {"accuracy": bootstrap_ci((gold, predicted), level=level, statistic=accuracy),
                    "macro_f1": bootstrap_ci((gold, predicted), level=level,
                                             statistic=lambda g, p: macro_f1(g, p, n_classes))}
        for metric in ("accuracy", "macro_f1"):
            mean, low, high = mean_ci(arrays[metric][:, index], level)
            if boot is not None:
                low, high = boot[metric]
            low, high = max(low, 0.0), min(high, 1.0)
            control = float(arrays[f"control_{metric}"][:, index].mean()) if controls else float("nan")
            rows.append({"encoder": encoder, "layer": layer, "metric": metric, "mean": mean, "ci_low": low,
                         "ci_high": high, "n": len(jobs), "baseline": float(arrays[f"base_{metric}"][:, index].mean()),
                         "control": control, "selectivity": selectivity(mean, control)})
    return rows


def _mdl_rows(stack: np.ndarray, labels: np.ndarray, layers: list[int], n_classes: int, seeds: Sequence[int],
              C: float, max_iter: int, level: float, encoder: str) -> list[dict]:
    runs = [online_codelength(stack, labels, n_classes, PORTIONS, seed=seed, C=C, max_iter=max_iter) for seed in seeds]
    rows = []
    for index, layer in enumerate(layers):
        for metric, values in (("mdl_codelength", [run[index].codelength for run in runs]),
                               ("mdl_compression", [run[index].compression for run in runs])):
            mean, low, high = mean_ci(np.array(values), level)
            rows.append({"encoder": encoder, "layer": layer, "metric": metric, "mean": mean, "ci_low": low,
                         "ci_high": high, "n": len(runs)})
    return rows


def probe_layers(source: Source, data: ProbeDataset, layers: str | int | Sequence[int] = "all", pool: str = "auto",
                 cv: int | None = 5, seed: int | Sequence[int] = 0, controls: bool = True, mdl: bool = False,
                 random_encoder: bool = False, estimator: ClassifierMixin | None = None, C: float = 1.0,
                 max_iter: int = 100, level: float = 0.95, batch_size: int = 32, store: str | Path | None = None,
                 progress: bool = True) -> ProbeResult:
    """Fit a linear probe on every layer and score it against the baselines that give it meaning.

    For each seed, the items are split into stratified shuffled folds (or the official
    train/test split with ``cv=None``); probes are fitted on training rows only and
    scored on the held-out rows. By default all layers (and the control task) of a fold
    are fitted together in one batched, preconditioned L-BFGS logistic regression with the objective of
    ``sklearn.linear_model.LogisticRegression(C=C)``.

    Baselines: the majority class (of the training rows); layer 0 (static embeddings);
    the Hewitt & Liang (2019) control task — each word type gets a fixed random label
    drawn from the empirical label distribution, and selectivity = task accuracy −
    control accuracy; the same architecture with re-initialised weights
    (``random_encoder``); and MDL online codelength and compression (Voita & Titov 2020).

    Parameters
    ----------
    source
        A model (features are extracted), an ActivationStore, or ``{layer: (n, d) array}``.
    data
        A :class:`~bertology.core.data.ProbeDataset` (e.g. from :func:`bertology.core.data.load_coarsewsd20`).
    layers
        Hidden-state indices (``"all"``, ``6``, ``"0,3,6"``...).
    pool
        ``"auto"`` (``word_mean`` for word-level data, else ``cls``) or any pooling of :func:`bertology.extract`.
    cv
        Folds of stratified k-fold cross-validation, or ``None`` for the dataset's official split.
    seed
        Seed of the fold shuffle and control-task draw, or several seeds for repeated runs; scores are pooled
        over folds × seeds.
    controls
        Run the control task and report selectivity.
    mdl
        Add MDL online codelength (bits) and compression rows (all items, one shuffle per seed).
    random_encoder
        Also probe a re-initialised copy of the model (needs a LoadedModel ``source``).
    estimator
        A scikit-learn classifier to fit per layer and fold instead of the batched probe.
    C, max_iter
        Regularisation and iterations of the batched probe.
    level
        Confidence level of the intervals (Student t over folds × seeds; a percentile
        bootstrap over test items when there is a single split and seed).
    batch_size, store, progress
        Extraction batch size, store directory and progress bars.

    Returns
    -------
    ProbeResult
        ``to_frame()`` columns: encoder, layer, metric, mean, ci_low, ci_high, n, baseline, control, selectivity.

    Raises
    ------
    InputError
        Bad layers, a ``cv`` below 2, data of a single class, too few items per class for
        ``cv``, no split for ``cv=None``, a random encoder without a model.

    Examples
    --------
    >>> import bertology as bt
    >>> m = bt.load_model("minilm")
    >>> res = bt.probe_layers(m, bt.data.load_coarsewsd20("bank"), cv=5, seed=[0, 1], progress=False)
    >>> res.to_frame().columns.tolist()[1:]
    ['layer', 'metric', 'mean', 'ci_low', 'ci_high', 'n', 'baseline', 'control', 'selectivity']
    >>> int(res.to_frame()["n"].iloc[0])  # 5 folds x 2 seeds
    10
    """
    check_cv(cv)
    check_classes(data.labels, data.label_names)
    if random_encoder and not isinstance(source, LoadedModel):
        raise InputError("random_encoder=True needs a model to re-initialise: pass a LoadedModel as source, "
                         "or random_encoder=False for precomputed features.")
    seeds = [int(seed)] if isinstance(seed, Integral) else [int(s) for s in seed]
    if not seeds:
        raise InputError("seed is an empty list: pass one seed (seed=0) or several (seed=[0, 1, 2]).")
    if isinstance(source, LoadedModel):
        pool = auto_pool(pool, data)
    features, valid = layer_features(source, data, layers, pool, batch_size, store, progress)
    if not valid.all():
        logger.warning("Dropping %d of %d items that could not be encoded.", int((~valid).sum()), len(valid))
        data = data.subset(np.flatnonzero(valid))
        features = {k: v[valid] for k, v in features.items()}
    layer_ids = sorted(features)
    labels, types = data.labels, data.types
    splits = {s: fold_splits(labels, cv, s, data.split) for s in seeds}
    stack = np.stack([features[k] for k in layer_ids])
    common = dict(n_classes=data.n_classes, splits=splits, estimator=estimator, C=C, max_iter=max_iter, level=level,
                  progress=progress)
    rows = _evaluate(stack, labels, types, layer_ids, controls=controls, encoder="trained", **common)
    if mdl:
        rows += _mdl_rows(stack, labels, layer_ids, data.n_classes, seeds, C, max_iter, level, "trained")
    if random_encoder:
        random_model = make_random_encoder(source, seed=seeds[0])
        random_features, _ = layer_features(random_model, data, layer_ids, pool, batch_size, None, progress)
        random_stack = np.stack([random_features[k] for k in layer_ids])
        rows += _evaluate(random_stack, labels, types, layer_ids, controls=False, encoder="random", **common)
    meta = {"dataset": data.name, "n_items": len(data), "n_classes": data.n_classes,
            "label_names": list(data.label_names), "layers": layer_ids, "pool": pool,
            "cv": cv if cv is not None else "official split", "seed": seeds, "C": C, "level": level,
            "model": source.describe() if isinstance(source, LoadedModel) else None,
            "probe": "batched logistic regression (preconditioned L-BFGS)" if estimator is None else repr(estimator)}
    return ProbeResult(pd.DataFrame(rows), meta)
