"""Pruning curves and leave-one-out head ablation by masking heads (gates = 0)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from bertology.analyses.heads.objective import LossFn, Objective, texts_and_labels
from bertology.analyses.heads.result import HeadAblation, PruningCurve, check_order
from bertology.core.errors import InputError
from bertology.core.progress import progress_bar

Metric = Literal["accuracy", "loss"]


def _objective(model: Any, data: Any, labels: Any, loss: str | LossFn, metric: str, batch_size: int,
               mask_prob: float, seed: int) -> Objective:
    if metric not in ("accuracy", "loss"):
        raise InputError(f"metric={metric!r} must be 'accuracy' or 'loss'.")
    if metric == "accuracy" and callable(loss):
        raise InputError("metric='accuracy' needs loss='classifier', 'mlm' or 'cloze'; with a callable loss use "
                         "metric='loss'.")
    texts, labels = texts_and_labels(data, labels, loss)
    return Objective(model, texts, loss, labels, batch_size=batch_size, mask_prob=mask_prob, seed=seed)


def prune_heads(model: Any, data: Sequence[str] | Any, order: Any, *, labels: Sequence[Any] | None = None,
                loss: Literal["classifier", "mlm", "cloze"] | LossFn = "classifier", metric: Metric = "accuracy",
                steps: int = 10, random_orders: int = 5, batch_size: int = 32, mask_prob: float = 0.15,
                seed: int = 0, progress: bool = True) -> PruningCurve:
    """Score the task as heads are masked, least important first, against random orders.

    Michel et al. (2019), "Are Sixteen Heads Really Better than One?", Figure 3: heads are
    masked (gate 0 on their context) in ``order`` in ``steps`` equal shares of all heads
    (10 % each by default, 0 % to 100 %), the metric scored on ``data`` after each share;
    the same for ``random_orders`` random permutations (seeded) give a mean ± sd band.

    Parameters
    ----------
    model
        As for :func:`~bertology.analyses.heads.head_importance` with the same ``loss``.
    data
        Sentences, or a labelled dataset.
    order
        A :class:`HeadImportance` of this model, a ``(layers, heads)`` score array (lowest
        masked first), or every ``(layer, head)`` pair in masking order.
    labels
        Class labels for ``"classifier"`` when ``data`` is a list.
    loss
        ``"classifier"``, ``"mlm"`` or a callable per-example loss.
    metric
        ``"accuracy"`` (of the classifier, or of the masked-token predictions) or the mean
        ``"loss"``.
    steps
        Number of equal shares.
    random_orders
        Random permutations for the band (5 or more for a meaningful sd).
    batch_size, mask_prob, seed
        Batching, masked share for ``"mlm"``, and the seed of the masked positions and of
        the random orders.
    progress
        Show a progress bar.

    Returns
    -------
    PruningCurve

    Examples
    --------
    >>> import bertology as bt
    >>> clf = bt.Classifier.from_pretrained("distilbert-base-uncased-finetuned-sst-2-english")  # doctest: +SKIP
    >>> imp = bt.head_importance(clf, bt.data.load_sst2())  # doctest: +SKIP
    >>> bt.prune_heads(clf, bt.data.load_sst2(), imp).plot()  # doctest: +SKIP
    """
    if steps < 1:
        raise InputError(f"steps={steps} must be at least 1.")
    if random_orders < 0:
        raise InputError(f"random_orders={random_orders} must be 0 or more.")
    objective = _objective(model, data, labels, loss, metric, batch_size, mask_prob, seed)
    layers, heads = objective.num_layers, objective.num_heads
    ranked = check_order(order, layers, heads)
    total = layers * heads
    counts = sorted({int(round(step * total / steps)) for step in range(steps + 1)})
    rng = np.random.default_rng(seed)
    orders = [("importance", 0, ranked)]
    for repeat in range(random_orders):
        permutation = rng.permutation(total)
        orders.append(("random", repeat, [(int(i // heads), int(i % heads)) for i in permutation]))
    rows = []
    jobs = [(name, repeat, pairs, count) for name, repeat, pairs in orders for count in counts]
    cache: dict[int, float] = {}
    for name, repeat, pairs, count in progress_bar(jobs, desc="pruning", progress=progress, unit="step"):
        if count == 0 or count == total:
            if count not in cache:
                cache[count] = objective.score(_mask(pairs[:count], layers, heads), metric)
            score = cache[count]
        else:
            score = objective.score(_mask(pairs[:count], layers, heads), metric)
        rows.append({"order": name, "repeat": repeat, "n_pruned": count, "fraction": count / total, "score": score})
    meta = {"metric": metric, "loss": objective.kind, "steps": steps, "random_orders": random_orders, "seed": seed,
            "n_texts": len(objective.texts), "num_layers": layers, "num_heads": heads}
    return PruningCurve(pd.DataFrame(rows), meta)


def _mask(pairs: Sequence[tuple[int, int]], layers: int, heads: int) -> torch.Tensor:
    mask = torch.ones(layers, heads)
    if pairs:
        index = torch.tensor(pairs)
        mask[index[:, 0], index[:, 1]] = 0
    return mask


def ablation_scores(model: Any, data: Sequence[str] | Any, *, labels: Sequence[Any] | None = None,
                    loss: Literal["classifier", "mlm", "cloze"] | LossFn = "classifier", metric: Metric = "accuracy",
                    batch_size: int = 32, mask_prob: float = 0.15, seed: int = 0,
                    progress: bool = True) -> HeadAblation:
    """The metric with each head masked alone (leave-one-out), one pass over the data per head.

    Michel et al. (2019), Table 1: the change in the task metric when a single head is
    removed, for every head; the brute-force counterpart of the gradient estimate of
    :func:`~bertology.analyses.heads.head_importance`.

    Parameters
    ----------
    model, data, labels, loss, metric, batch_size, mask_prob, seed, progress
        As for :func:`prune_heads`.

    Returns
    -------
    HeadAblation
        ``score`` per head and ``delta`` from the unmasked score (``meta["baseline"]``).

    Examples
    --------
    >>> import bertology as bt
    >>> m = bt.load_model("minilm", head="mlm")  # doctest: +SKIP
    >>> bt.ablation_scores(m, ["The keys are here."], loss="mlm", metric="loss").to_frame().shape  # doctest: +SKIP
    (72, 4)
    """
    objective = _objective(model, data, labels, loss, metric, batch_size, mask_prob, seed)
    layers, heads = objective.num_layers, objective.num_heads
    baseline = objective.score(torch.ones(layers, heads), metric)
    rows = []
    pairs = [(layer, head) for layer in range(layers) for head in range(heads)]
    for layer, head in progress_bar(pairs, desc="leave-one-out", progress=progress, unit="head"):
        score = objective.score(_mask([(layer, head)], layers, heads), metric)
        rows.append({"layer": layer, "head": head, "score": score, "delta": score - baseline})
    meta = {"metric": metric, "loss": objective.kind, "baseline": baseline, "n_texts": len(objective.texts),
            "seed": seed}
    return HeadAblation(pd.DataFrame(rows), meta)
