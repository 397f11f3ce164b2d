"""Hewitt & Manning (2019) structural probes, every layer trained in one batched run.

The distance probe predicts the tree distance of two words of a sentence as
``‖B(hᵢ − hⱼ)‖²`` and the depth probe a word's depth as ``‖B hᵢ‖²``, ``B`` a ``k × d``
matrix (rank ``k``). Training follows the authors' released code
(github.com/john-hewitt/structural-probes: ``probe.py``, ``loss.py``, ``regimen.py``):

- ``B`` initialised uniformly in ``[−0.05, 0.05]``;
- L1 loss per sentence divided by ``|s|²`` (distance) or ``|s|`` (depth), averaged over
  the sentences of a batch (20 sentences, shuffled every epoch);
- Adam, learning rate 1e-3; after every epoch the learning rate is multiplied by 0.1
  when the held-out loss did not improve (``ReduceLROnPlateau(factor=0.1, patience=0)``);
  training stops when the held-out loss has not improved by more than 1e-4 for 5 epochs
  (at most 40 epochs), and the parameters of the best held-out epoch are kept.

The held-out set is a seeded portion of the training sentences (the authors used the PTB
development split). All layers are trained together: their parameters form one
``(n_layers, d, k)`` tensor, each batch is built and its word vectors gathered once for
every layer, and each layer's gradient of its own loss is computed in closed form (no
autograd; see :func:`_gradient`). Adam (``torch.optim.Adam``, one parameter group per
layer), the learning-rate schedule and early stopping run per layer; a layer that stops
leaves the batched computation. The result equals training each layer alone with the same
seed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
import torch

from bertology.analyses.syntax.structural_result import StructuralProbeResult
from bertology.analyses.syntax.trees import (
    check_punct_rule,
    length_average,
    length_average_resampled,
    linear_chain_heads,
    minimum_spanning_tree,
    punctuation_mask,
    root_correct,
    spearman_rows,
    tree_depths,
    tree_distances,
)
from bertology.core.errors import InputError
from bertology.core.progress import progress_bar
from bertology.core.stats import bootstrap_ci

if TYPE_CHECKING:
    from bertology.core.models import LoadedModel

logger = logging.getLogger(__name__)

KINDS = ("distance", "depth")
LEARNING_RATE = 1e-3
INIT_RANGE = 0.05
MAX_EPOCHS = 40
PROBE_BATCH_SIZE = 20
LR_FACTOR = 0.1
PLATEAU_THRESHOLD = 1e-4
LR_EPS = 1e-8
STOP_DELTA = 1e-4
STOP_PATIENCE = 4
BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


class SentenceTree(Protocol):
    """What the probes read from a sentence (a :class:`bertology.core.data.conllu.DependencySentence`)."""

    words: tuple[str, ...]
    upos: tuple[str, ...]
    xpos: tuple[str, ...]
    heads: tuple[int, ...]


class VectorSource(Protocol):
    """Ragged per-word vectors (a :class:`bertology.core.extraction.words.WordVectors`)."""

    offsets: np.ndarray
    layers: list[int]
    truncated: np.ndarray

    def layer(self, layer: int) -> np.ndarray: ...


@dataclass
class ProbeFit:
    """Trained probes of several layers.

    Attributes
    ----------
    layers
        Hidden-state indices, one per probe.
    weights
        ``(n_layers, hidden, rank)`` float32: ``B`` transposed, so predictions use ``h @ weights[i]``.
    epochs
        Epochs each layer trained before early stopping.
    dev_loss
        Best held-out loss of each layer.
    """

    layers: list[int]
    weights: np.ndarray
    epochs: np.ndarray
    dev_loss: np.ndarray


@dataclass
class _Batch:
    rows: np.ndarray         # (W,) rows of the word-vector arrays
    lengths: torch.Tensor    # (S,) float
    gold: torch.Tensor       # (S, T, T) distances (padding -1) or (W,) depths
    index: torch.Tensor      # (W,) position of each word in the flattened (S, T) padding, or its sentence (depth)
    weight: torch.Tensor     # (S, T, T) 1/|s|² on word pairs, 0 on padding, or (W,) 1/|s| (depth)


def _labels(sentence: SentenceTree, kind: str) -> np.ndarray:
    return (tree_distances(sentence.heads) if kind == "distance" else tree_depths(sentence.heads)).astype(np.float32)


def _word_rows(ids: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The vector rows of sentences ``ids`` (concatenated in that order) and their lengths."""
    starts, lengths = offsets[ids], offsets[ids + 1] - offsets[ids]
    return np.concatenate([np.arange(start, start + n) for start, n in zip(starts, lengths)]), lengths


def _make_batch(ids: np.ndarray, offsets: np.ndarray, labels: Sequence[np.ndarray], kind: str,
                device: torch.device, dtype: torch.dtype = torch.float32) -> _Batch:
    ids = np.sort(ids)
    rows, lengths = _word_rows(ids, offsets)
    sentence = np.repeat(np.arange(len(ids)), lengths)
    if kind == "depth":
        gold = torch.from_numpy(np.concatenate([labels[i] for i in ids]))
        index = torch.from_numpy(sentence)
        weight = torch.from_numpy(1.0 / lengths[sentence])
    else:
        width = int(lengths.max())
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        index = torch.from_numpy(sentence * width + np.arange(len(rows)) - starts[sentence])
        gold = torch.full((len(ids), width, width), -1.0, dtype=torch.float64)
        for slot, i in enumerate(ids):
            n = int(lengths[slot])
            gold[slot, :n, :n] = torch.from_numpy(labels[i])
        weight = (gold >= 0) / torch.from_numpy(lengths).double().pow(2)[:, None, None]
    return _Batch(rows, torch.from_numpy(lengths).to(device, dtype), gold.to(device, dtype), index.to(device),
                  weight.to(device, dtype))


def _gather(arrays: Sequence[np.ndarray], which: Sequence[int], rows: np.ndarray,
            device: torch.device) -> torch.Tensor:
    """``(len(which), W, d)`` float32 vectors of ``rows`` for the layers at positions ``which``."""
    stacked = np.empty((len(which), len(rows), arrays[0].shape[1]), dtype=np.float32)
    for slot, i in enumerate(which):
        stacked[slot] = arrays[i][rows]
    return torch.from_numpy(stacked).to(device)


def _project(vectors: torch.Tensor, weights: torch.Tensor, batch: _Batch, kind: str) -> torch.Tensor:
    """Projected words ``h B^T`` of a batch: ``(L, W, k)`` (depth) or zero-padded ``(L, S, T, k)`` (distance)."""
    projected = torch.bmm(vectors, weights)
    if kind == "depth":
        return projected
    n_layers, rank = projected.shape[0], projected.shape[2]
    width = batch.gold.shape[-1]
    padded = projected.new_zeros(n_layers, len(batch.lengths) * width, rank)
    padded[:, batch.index] = projected
    return padded.view(n_layers, len(batch.lengths), width, rank)


def _predict(projected: torch.Tensor, kind: str) -> torch.Tensor:
    """Predicted squared distances ``(L, S, T, T)`` or depths ``(L, W)`` from :func:`_project`'s output."""
    norms = (projected * projected).sum(-1)
    if kind == "depth":
        return norms
    return norms[..., :, None] + norms[..., None, :] - 2 * projected @ projected.transpose(-1, -2)


def _sentence_losses(predicted: torch.Tensor, batch: _Batch, kind: str) -> torch.Tensor:
    """``(L, S)`` L1 loss of each sentence, normalised by ``|s|`` (depth) or ``|s|²`` (distance) as ``loss.py``."""
    errors = (predicted - batch.gold).abs() * batch.weight
    if kind == "depth":
        return errors.new_zeros(predicted.shape[0], len(batch.lengths)).index_add_(1, batch.index, errors)
    return errors.sum((-1, -2))


def _gradient(vectors: torch.Tensor, projected: torch.Tensor, batch: _Batch, kind: str) -> torch.Tensor:
    """``(L, d, k)`` gradient of the batch loss (the sentences' mean :func:`_sentence_losses`) for each layer.

    With ``P`` the projected words of a sentence and ``E = ∂loss/∂D`` (the sign of the
    error on each word pair, weighted as the loss), the predicted squared distances
    ``Dᵢⱼ = ‖Pᵢ‖² + ‖Pⱼ‖² − 2 Pᵢ·Pⱼ`` give ``∂loss/∂P = 2 (diag(F 1) − F) P`` with
    ``F = E + Eᵀ``; the depths ``‖Pᵢ‖²`` give ``∂loss/∂Pᵢ = 2 Eᵢ Pᵢ``. Then
    ``∂loss/∂B^T = Hᵀ ∂loss/∂P``.
    """
    scale = 2.0 / len(batch.lengths)
    if kind == "depth":
        signs = torch.sign((projected * projected).sum(-1) - batch.gold)
        return torch.bmm(vectors.transpose(1, 2), projected * (signs * batch.weight * scale)[..., None])
    signs = torch.sign(_predict(projected, kind) - batch.gold) * (batch.weight * scale)
    pairs = signs + signs.transpose(-1, -2)
    words = (torch.diag_embed(pairs.sum(-1)) - pairs) @ projected
    return torch.bmm(vectors.transpose(1, 2), words.flatten(1, 2)[:, batch.index])


def _initial_weights(layers: Sequence[int], hidden: int, rank: int, seed: int) -> np.ndarray:
    return np.stack([np.random.default_rng([seed, layer, rank]).uniform(-INIT_RANGE, INIT_RANGE, (hidden, rank))
                     for layer in layers]).astype(np.float32)


def train_probes(arrays: Sequence[np.ndarray], layers: Sequence[int], offsets: np.ndarray,
                 labels: Sequence[np.ndarray], train: np.ndarray, dev: np.ndarray, kind: str = "distance",
                 rank: int | None = None, seed: int = 0, epochs: int = MAX_EPOCHS,
                 batch_size: int = PROBE_BATCH_SIZE, device: str | torch.device = "cpu",
                 progress: bool = True) -> ProbeFit:
    """Train one structural probe per layer, all layers in one batched run (Hewitt & Manning 2019).

    Parameters
    ----------
    arrays
        One ``(n_words_total, hidden)`` array per layer (memory-mapped arrays stream).
    layers
        The hidden-state index of each array (seeds each layer's initialisation).
    offsets
        ``(n_sentences + 1,)``: sentence ``i``'s words are rows ``offsets[i]:offsets[i+1]``.
    labels
        Per sentence the gold ``(n, n)`` tree distances or ``(n,)`` depths.
    train, dev
        Sentence indices to train on and to early-stop on.
    kind
        ``"distance"`` or ``"depth"``.
    rank
        Rank ``k`` of ``B``; ``None`` is the hidden size.
    seed
        Seeds the initialisation (per layer) and the shuffling (shared by the layers).
    epochs
        At most this many epochs.
    batch_size
        Sentences per optimisation step (the authors used 20).
    device, progress
        Where to train; whether to show a bar over the epochs.

    Returns
    -------
    ProbeFit

    Examples
    --------
    >>> offsets = np.array([0, 2, 5])
    >>> labels = [np.array([0, 1.0], "f4"), np.array([1, 0, 1.0], "f4")]
    >>> vectors = np.random.default_rng(0).normal(size=(5, 4)).astype("f4")
    >>> fit = train_probes([vectors], [3], offsets, labels, np.array([0]), np.array([1]), kind="depth",
    ...                    epochs=2, progress=False)
    >>> fit.weights.shape, fit.epochs.tolist()
    ((1, 4, 4), [2])
    """
    with torch.no_grad():
        return _train(arrays, layers, offsets, labels, train, dev, kind, rank, seed, epochs, batch_size,
                      torch.device(device), progress)


def _train(arrays: Sequence[np.ndarray], layers: Sequence[int], offsets: np.ndarray, labels: Sequence[np.ndarray],
           train: np.ndarray, dev: np.ndarray, kind: str, rank: int | None, seed: int, epochs: int, batch_size: int,
           device: torch.device, progress: bool) -> ProbeFit:
    hidden = int(arrays[0].shape[1])
    rank = hidden if rank is None else int(rank)
    n_layers = len(arrays)
    params = torch.from_numpy(_initial_weights(layers, hidden, rank, seed)).to(device)
    best = params.clone()
    layer_params = [torch.nn.Parameter(layer, requires_grad=False) for layer in params]
    adam = torch.optim.Adam([{"params": [layer]} for layer in layer_params], lr=LEARNING_RATE, betas=BETAS,
                            eps=ADAM_EPS, fused=device.type in ("cpu", "cuda") or None)
    plateau_best = np.full(n_layers, np.inf)
    best_dev = np.full(n_layers, np.inf)
    best_epoch = np.full(n_layers, -1)
    trained = np.zeros(n_layers, dtype=np.int64)
    active = np.ones(n_layers, dtype=bool)
    shuffle = np.random.default_rng([seed, 1])
    dev_batches = [_make_batch(ids, offsets, labels, kind, device)
                   for ids in np.array_split(dev, max(1, math.ceil(len(dev) / batch_size)))]
    for epoch in progress_bar(range(epochs), desc=f"{kind} probes", progress=progress, unit="epoch"):
        which = np.flatnonzero(active)
        selected = torch.from_numpy(which).to(device)
        order = shuffle.permutation(train)
        for start in range(0, len(order), batch_size):
            batch = _make_batch(order[start:start + batch_size], offsets, labels, kind, device)
            weights = params if len(which) == n_layers else params[selected]
            vectors = _gather(arrays, which, batch.rows, device)
            grad = _gradient(vectors, _project(vectors, weights, batch, kind), batch, kind)
            for slot, layer in enumerate(which):
                layer_params[layer].grad = grad[slot]
            adam.step()
        trained[which] += 1
        weights = params if len(which) == n_layers else params[selected]
        dev_total = np.zeros(len(which))
        for batch in dev_batches:
            predicted = _predict(_project(_gather(arrays, which, batch.rows, device), weights, batch, kind), kind)
            dev_total += _sentence_losses(predicted, batch, kind).sum(-1).double().cpu().numpy()
        dev_loss = dev_total / len(dev)
        for slot, layer in enumerate(which):
            if dev_loss[slot] < plateau_best[layer] * (1 - PLATEAU_THRESHOLD):
                plateau_best[layer] = dev_loss[slot]
            elif adam.param_groups[layer]["lr"] * (1 - LR_FACTOR) > LR_EPS:
                adam.param_groups[layer]["lr"] *= LR_FACTOR
            if dev_loss[slot] < best_dev[layer] - STOP_DELTA:
                best_dev[layer], best_epoch[layer] = dev_loss[slot], epoch
                best[layer] = params[layer]
            elif best_epoch[layer] < epoch - STOP_PATIENCE:
                active[layer] = False
                layer_params[layer].grad = None
        if not active.any():
            break
    return ProbeFit(list(layers), best.cpu().numpy(), trained, best_dev)


@dataclass
class _Evaluation:
    values: dict[str, np.ndarray]          # metric -> (L, n_sentences) per-sentence values
    edges: np.ndarray | None               # (L, n_edges, 2) predicted MST edges (distance)
    depths: np.ndarray | None              # (L, n_words) predicted depths (depth)


class _Gold:
    """Gold trees, punctuation and the reference spanning trees of the test sentences."""

    def __init__(self, sentences: Sequence[SentenceTree], punct: str) -> None:
        self.heads = [tuple(int(h) for h in s.heads) for s in sentences]
        self.punct = [punctuation_mask(s.upos, s.xpos, punct) for s in sentences]
        self.lengths = np.array([len(h) for h in self.heads])
        self.distances = [tree_distances(h) for h in self.heads]
        self.depths = [tree_depths(h) for h in self.heads]
        self.edges = [minimum_spanning_tree(d, ~p) for d, p in zip(self.distances, self.punct)]
        self.edge_sets = [set(map(tuple, e.tolist())) for e in self.edges]


def _score_distances(predicted: np.ndarray, gold: _Gold, i: int) -> tuple[int, float, np.ndarray]:
    edges = minimum_spanning_tree(predicted, ~gold.punct[i])
    correct = sum(tuple(edge) in gold.edge_sets[i] for edge in edges.tolist())
    return correct, float(np.mean(spearman_rows(predicted, gold.distances[i]))), edges


def _evaluate(arrays: Sequence[np.ndarray], weights: np.ndarray, offsets: np.ndarray, ids: np.ndarray, gold: _Gold,
              kind: str, batch_size: int, device: torch.device) -> _Evaluation:
    n_layers = len(arrays)
    which = np.arange(n_layers)
    params = torch.from_numpy(weights).to(device).double()
    names = ("uuas_correct", "uuas_total", "dspr") if kind == "distance" else ("root_acc", "nspr")
    values = {name: np.zeros((n_layers, len(ids))) for name in names}
    edges, depths = [], []
    for start in range(0, len(ids), batch_size):
        chunk = np.arange(start, min(start + batch_size, len(ids)))
        rows, lengths = _word_rows(ids[chunk], offsets)
        with torch.inference_mode():
            projected = torch.bmm(_gather(arrays, which, rows, device).double(), params).cpu().numpy()
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        for slot, i in enumerate(chunk):
            words = projected[:, bounds[slot]:bounds[slot + 1]]
            norms = (words * words).sum(-1)
            if kind == "depth":
                depths.append(norms)
                values["root_acc"][:, i] = [root_correct(p, gold.heads[i], gold.punct[i]) for p in norms]
                values["nspr"][:, i] = spearman_rows(norms, np.broadcast_to(gold.depths[i], norms.shape))
                continue
            predicted = norms[:, :, None] + norms[:, None, :] - 2 * words @ words.transpose(0, 2, 1)
            predicted = np.maximum((predicted + predicted.transpose(0, 2, 1)) / 2, 0)
            predicted[:, np.arange(len(norms[0])), np.arange(len(norms[0]))] = 0
            sentence_edges = []
            for layer, matrix in enumerate(predicted):
                correct, dspr, found = _score_distances(matrix, gold, i)
                values["uuas_correct"][layer, i], values["dspr"][layer, i] = correct, dspr
                sentence_edges.append(found)
            values["uuas_total"][:, i] = len(gold.edges[i])
            edges.append(np.stack(sentence_edges))
    if kind == "depth":
        return _Evaluation(values, None, np.concatenate(depths, axis=1).astype(np.float32))
    return _Evaluation(values, np.concatenate(edges, axis=1).astype(np.int64), None)


def _linear_baseline(gold: _Gold, kind: str) -> dict[str, np.ndarray]:
    """Per-sentence scores of the linear-chain tree (each word attached to the next; Hewitt & Manning 2019)."""
    if kind == "distance":
        correct, dspr = [], []
        for i, n in enumerate(gold.lengths):
            c, d, _ = _score_distances(tree_distances(linear_chain_heads(int(n))).astype(np.float64), gold, i)
            correct.append(c)
            dspr.append(d)
        return {"uuas_correct": np.array([correct], float), "uuas_total": np.array([[len(e) for e in gold.edges]], float),
                "dspr": np.array([dspr])}
    root, nspr = [], []
    for i, n in enumerate(gold.lengths):
        predicted = tree_depths(linear_chain_heads(int(n))).astype(np.float64)
        root.append(root_correct(predicted, gold.heads[i], gold.punct[i]))
        nspr.append(float(spearman_rows(predicted, gold.depths[i].astype(np.float64))))
    return {"root_acc": np.array([root], float), "nspr": np.array([nspr])}


def _metric_rows(values: dict[str, np.ndarray], lengths: np.ndarray, kind: str, n_boot: int, seed: int,
                 level: float) -> list[dict[str, float]]:
    """Corpus scores with bootstrap CIs over sentences, one dict per layer."""
    rows = []
    for layer in range(next(iter(values.values())).shape[0]):
        row: dict[str, float] = {}
        if kind == "distance":
            correct, total = values["uuas_correct"][layer], values["uuas_total"][layer]
            row["uuas"] = float(correct.sum() / total.sum()) if total.sum() else float("nan")
            row["uuas_ci_low"], row["uuas_ci_high"] = bootstrap_ci(
                (correct, total), n_boot=n_boot, level=level, seed=seed,
                statistic=lambda c, t: c.sum(-1) / np.maximum(t.sum(-1), 1))
            scores, name = values["dspr"][layer], "dspr"
        else:
            hits = values["root_acc"][layer]
            row["root_acc"] = float(hits.mean())
            row["root_acc_ci_low"], row["root_acc_ci_high"] = bootstrap_ci(hits, n_boot=n_boot, level=level,
                                                                           seed=seed)
            scores, name = values["nspr"][layer], "nspr"
        row[name] = length_average(scores, lengths)
        row[f"{name}_ci_low"], row[f"{name}_ci_high"] = bootstrap_ci(
            (scores, lengths), n_boot=n_boot, level=level, seed=seed, statistic=length_average_resampled)
        rows.append(row)
    return rows


def _check_sentences(sentences: object, name: str) -> list[SentenceTree]:
    if isinstance(sentences, (str, Path)) or not isinstance(sentences, Sequence) or not len(sentences):
        raise InputError(f"{name} must be a non-empty treebank (bt.data.load_conllu(path)) or a list of "
                         f"DependencySentence; got {type(sentences).__name__}.")
    for sentence in sentences:
        if not all(hasattr(sentence, field) for field in ("words", "upos", "xpos", "heads")):
            raise InputError(f"{name} holds a {type(sentence).__name__}, not a dependency sentence: read the "
                             "CoNLL-U file with bt.data.load_conllu(path).")
    return list(sentences)


def _check_ranks(rank: int | Sequence[int] | None) -> list[int | None]:
    ranks = [rank] if rank is None or isinstance(rank, Integral) else list(rank)
    if not ranks or any(r is not None and (isinstance(r, bool) or not isinstance(r, Integral) or r < 1)
                        for r in ranks):
        raise InputError(f"rank={rank!r} is not a probe rank: give None (the hidden size), a positive integer, "
                         "or a list of them for a rank sweep, e.g. [1, 2, 4, 8, 16, 32, 64, 128].")
    return ranks


def _check_arguments(kind: str, punct: str, epochs: int, probe_batch_size: int, dev_fraction: float) -> None:
    if kind not in KINDS:
        raise InputError(f"kind={kind!r} is not a structural probe: use 'distance' or 'depth'.")
    check_punct_rule(punct)
    for name, value in (("epochs", epochs), ("probe_batch_size", probe_batch_size)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
            raise InputError(f"{name}={value!r} must be a positive integer.")
    if not 0 < dev_fraction < 1:
        raise InputError(f"dev_fraction={dev_fraction!r} must lie strictly between 0 and 1 (e.g. 0.1): it is the "
                         "share of training sentences held out for early stopping.")


def _is_vector_source(source: object) -> bool:
    return all(hasattr(source, name) for name in ("offsets", "layers", "truncated", "layer"))


def _split(n_train: int, n_test: int, dev_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train, held-out (early stopping) and test sentence indices; without a test set 10 % of train is held out."""
    rng = np.random.default_rng([seed, 2])
    pool = rng.permutation(n_train)
    if n_test:
        test = np.arange(n_train, n_train + n_test)
    else:
        n_hold = max(1, round(0.1 * n_train))
        test, pool = np.sort(pool[:n_hold]), pool[n_hold:]
    n_dev = max(1, round(dev_fraction * len(pool)))
    if len(pool) - n_dev < 1:
        raise InputError(f"{n_train} training sentences are too few to hold out {n_dev} for early stopping"
                         f"{'' if n_test else ' and a test portion'}: give more sentences.")
    return np.sort(pool[n_dev:]), np.sort(pool[:n_dev]), test


def _probe_source(source: VectorSource, sentences: Sequence[SentenceTree], n_train: int, kind: str,
                  layers: str | int | Sequence[int], ranks: Sequence[int | None], seed: int, punct: str, epochs: int,
                  probe_batch_size: int, dev_fraction: float, n_boot: int, level: float, device: torch.device,
                  encoder: str, progress: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Train and evaluate the probes of every layer of one vector source; returns table rows and tree data."""
    offsets = np.asarray(source.offsets, dtype=np.int64)
    if len(offsets) != len(sentences) + 1:
        raise InputError(f"The word vectors hold {len(offsets) - 1} sentences but train and test have "
                         f"{len(sentences)}: extract them from the same sentences, train first.")
    lengths = np.diff(offsets)
    expected = np.array([len(s.words) for s in sentences])
    truncated = np.asarray(source.truncated, dtype=bool) | (lengths != expected)
    available = sorted(int(k) for k in source.layers)
    if layers == "all":
        wanted = available
    else:
        from bertology.core.extraction.extractor import resolve_layers

        wanted = resolve_layers(layers, max(available))
    missing = [k for k in wanted if k not in available]
    if missing:
        raise InputError(f"Layers {missing} are not in the word vectors (available: {available}); ask for those.")
    train, dev, test = _split(n_train, len(sentences) - n_train, dev_fraction, seed)
    dropped = {"train": int(truncated[np.concatenate([train, dev])].sum()), "test": int(truncated[test].sum())}
    if any(dropped.values()):
        logger.warning("Left out %d training and %d test sentences longer than the model allows (truncated); "
                       "structural probes need whole trees.", dropped["train"], dropped["test"])
    train, dev, test = (ids[~truncated[ids]] for ids in (train, dev, test))
    if not len(train) or not len(dev) or not len(test):
        raise InputError("No whole sentences are left to train, hold out or test on after leaving out truncated "
                         "ones: give shorter sentences or a model that allows longer inputs.")
    labels: list[np.ndarray] = [np.zeros(0, np.float32)] * len(sentences)
    for i in np.concatenate([train, dev]):
        labels[i] = _labels(sentences[i], kind)
    arrays = [source.layer(k) for k in wanted]
    gold = _Gold([sentences[i] for i in test], punct)
    rows, trees = [], {"test": test, "gold": gold, "predictions": {}}
    for rank in ranks:
        fit = train_probes(arrays, wanted, offsets, labels, train, dev, kind, rank, seed, epochs, probe_batch_size,
                           device, progress)
        evaluation = _evaluate(arrays, fit.weights, offsets, test, gold, kind, 64, device)
        scores = _metric_rows(evaluation.values, gold.lengths, kind, n_boot, seed, level)
        used_rank = fit.weights.shape[2]
        for layer, epochs_run, dev_loss, row in zip(wanted, fit.epochs, fit.dev_loss, scores):
            rows.append({"encoder": encoder, "layer": layer, "rank": used_rank, **row, "epochs": int(epochs_run),
                         "dev_loss": float(dev_loss)})
        trees["predictions"][used_rank] = evaluation
    trees.update(layers=wanted, n_train=len(train), n_dev=len(dev), dropped=dropped)
    return rows, trees


def structural_probe(model: str | LoadedModel | VectorSource, train: Sequence[SentenceTree],
                     test: Sequence[SentenceTree] | None = None, kind: str = "distance",
                     layers: str | int | Sequence[int] = "all", rank: int | Sequence[int] | None = None,
                     pool: str = "word_mean", seed: int = 0, out: str | Path | None = None, batch_size: int = 32,
                     progress: bool = True, *, punct: str = "upos", random_encoder: bool = True,
                     epochs: int = MAX_EPOCHS, probe_batch_size: int = PROBE_BATCH_SIZE, dev_fraction: float = 0.1,
                     device: str | None = None, n_boot: int = 1000, level: float = 0.95) -> StructuralProbeResult:
    """Hewitt & Manning (2019) structural probes for every layer, with the paper's baselines.

    Trains a distance probe (``‖B(hᵢ − hⱼ)‖²`` ≈ tree distance) or a depth probe
    (``‖B hᵢ‖²`` ≈ tree depth) on every layer in one batched run (see the module
    docstring for the training schedule) and scores it on the test sentences: UUAS and
    DSpr. (distance), root accuracy and NSpr. (depth), with bootstrap confidence intervals
    over sentences. Baselines: layer 0 (the embeddings, part of ``layers="all"``), the same
    probes on a randomly re-initialised copy of the encoder (``random_encoder``), and the
    linear-chain tree (each word attached to the next) scored with the same metrics.

    Parameters
    ----------
    model
        A model name or path, a :class:`~bertology.LoadedModel`, or the word vectors of
        ``train`` followed by ``test`` (a ``WordVectors`` from
        :func:`bertology.core.extraction.words.word_vectors`).
    train
        Training sentences: a :class:`~bertology.core.data.conllu.Treebank`
        (``bt.data.load_conllu(path)``) or a list of dependency sentences.
    test
        Test sentences; ``None`` holds out a seeded 10 % of ``train``.
    kind
        ``"distance"`` or ``"depth"``.
    layers
        Hidden-state indices (``"all"``, ``"0,3,6"``...); 0 is the embeddings.
    rank
        Rank of ``B``: ``None`` (the hidden size), an integer, or a list of ranks (a rank sweep;
        one set of rows per rank).
    pool
        How a word's vector comes from its pieces: ``"word_mean"`` or ``"word_first"``.
    seed
        Seeds the probes' initialisation and shuffling, the held-out split, the random
        encoder and the bootstrap.
    out
        Directory for the word-vector stores (``None``: temporary ones).
    batch_size
        Sentences per forward pass of the encoder.
    progress
        Show progress bars.
    punct
        Punctuation left out of UUAS and root accuracy: ``"upos"`` (UPOS ``PUNCT``, defined
        for every UD treebank) or ``"xpos"`` (the Penn Treebank tags the authors' reporter
        excludes, for treebanks with PTB XPOS); see :mod:`bertology.analyses.syntax.trees`.
    random_encoder
        Also probe a re-initialised copy of the encoder (only when ``model`` is a model).
    epochs, probe_batch_size, dev_fraction
        At most this many epochs; sentences per probe training step (20 in the paper);
        share of ``train`` held out for early stopping.
    device
        Where the encoder runs and the probes train (``None``: CPU, or the given model's device).
    n_boot, level
        Bootstrap resamples and coverage of the confidence intervals.

    Returns
    -------
    StructuralProbeResult

    Raises
    ------
    InputError
        For bad arguments (before any model loads) or sentences that do not match the word vectors.

    References
    ----------
    Hewitt & Manning (2019), "A Structural Probe for Finding Syntax in Word Representations", NAACL.

    Examples
    --------
    >>> import bertology as bt
    >>> ud = bt.data.load_conllu("en_ewt-ud-train.conllu")  # doctest: +SKIP
    >>> res = structural_probe("minilm", ud, kind="distance")  # doctest: +SKIP
    >>> res.to_frame()[["encoder", "layer", "uuas", "dspr"]]  # doctest: +SKIP
    """
    _check_arguments(kind, punct, epochs, probe_batch_size, dev_fraction)
    ranks = _check_ranks(rank)
    names = {"train": getattr(train, "name", None), "test": getattr(test, "name", None)}
    train = _check_sentences(train, "train")
    test_sentences = [] if test is None else _check_sentences(test, "test")
    sentences = train + test_sentences
    if out is not None:
        from bertology.core.paths import check_output

        out = check_output(out)
    sources: list[tuple[str, VectorSource]] = []
    if _is_vector_source(model):
        sources.append(("trained", model))
        run_device = torch.device(device or "cpu")
        model_meta: dict[str, Any] = {"name": "word vectors"}
    else:
        from bertology.core.extraction.words import word_vectors
        from bertology.core.models import LoadedModel, load_model
        from bertology.core.models.random_encoder import random_encoder as make_random_encoder

        if isinstance(model, str):
            model = load_model(model, device=device)
        if not isinstance(model, LoadedModel):
            raise InputError(f"Cannot probe a {type(model).__name__}: pass a model name, a LoadedModel "
                             "(bt.load_model) or WordVectors.")
        run_device = model.device
        model_meta = model.describe()
        words = [s.words for s in sentences]
        encoders = [("trained", model)] + ([("random", make_random_encoder(model, seed))] if random_encoder else [])
        for name, encoder in encoders:
            store = None if out is None else Path(out) / f"word_vectors_{name}"
            sources.append((name, word_vectors(encoder, words, layers=layers, pool=pool, out=store,
                                               batch_size=batch_size, progress=progress)))
    rows, trees = [], None
    for name, source in sources:
        found, data = _probe_source(source, sentences, len(train), kind, layers, ranks, seed, punct, epochs,
                                    probe_batch_size, dev_fraction, n_boot, level, run_device, name, progress)
        rows += found
        trees = trees or data
    gold = trees["gold"]
    linear = _metric_rows(_linear_baseline(gold, kind), gold.lengths, kind, n_boot, seed, level)[0]
    rows.append({"encoder": "linear", **linear})
    meta = {"kind": kind, "model": model_meta, "pool": pool, "punct": punct, "seed": seed, "ranks": ranks,
            "epochs": epochs, "probe_batch_size": probe_batch_size, "dev_fraction": dev_fraction, "level": level,
            "n_boot": n_boot, "n_train": trees["n_train"], "n_dev": trees["n_dev"], "n_test": len(trees["test"]),
            "truncated": trees["dropped"], **names}
    test_words = [sentences[i].words for i in trees["test"]]
    predictions = {r: (e.edges if kind == "distance" else e.depths) for r, e in trees["predictions"].items()}
    return StructuralProbeResult(pd.DataFrame(rows), meta, words=test_words, heads=gold.heads, punct=gold.punct,
                                 layers=trees["layers"], predictions=predictions)
