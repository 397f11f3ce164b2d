"""Edge probing with a scalar mix (Tenney et al. 2019a, "What do you learn from context?"; 2019b, "BERT
rediscovers the classical NLP pipeline"), following their released jiant code.

Each target is one span (or two) of a sentence; its vector at a layer is the mean of the
layer's hidden states over the span's word-pieces. The probe is jiant's edge classifier:
a linear projection of each span to ``hidden`` dimensions (separate for span1 and span2),
their concatenation, an MLP (linear, tanh, layer norm, dropout, linear) and one sigmoid per
label trained with binary cross-entropy; scored by micro-F1 over (target, label) pairs at
probability 0.5. Probes are trained on single layers, on a learned scalar mix of all
layers, and on the mixes of layers ``0..ℓ`` for cumulative scoring; every probe trains in
one batched run (Adam updates each probe's parameters independently, so this equals
training them one by one).

Deviations from jiant: spans are mean-pooled (jiant's default is self-attentive pooling;
the issue asks for mean pooling, under which the projection commutes with pooling, so
span vectors are pooled once and projected after the mix); training runs a fixed number
of epochs and keeps, per probe, the epoch with the best micro-F1 on the dev split (jiant
validates every 1,000 steps with learning-rate decay on plateaus and early stopping).
"""

from __future__ import annotations

import logging
import math
import shutil
import sys
import tempfile
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn

from bertology.analyses.syntax.edge_data import EdgeData, EdgeExample, edge_examples, load_edges
from bertology.analyses.syntax.scalar_mix import (
    ScalarMix,
    center_of_gravity,
    cumulative_layers,
    expected_layer,
    score_deltas,
)
from bertology.core.errors import InputError
from bertology.core.extraction import (
    ActivationStore,
    StoreWriter,
    batch_tensors,
    encode_corpus,
    length_sorted_batches,
    parse_layers,
    resolve_layers,
)
from bertology.core.extraction.align import as_integer
from bertology.core.hooks import hidden_state_name, trace
from bertology.core.manifest import content_hash, package_versions
from bertology.core.models import LoadedModel, load_model
from bertology.core.paths import check_output
from bertology.core.progress import progress_bar
from bertology.core.results import TableResult
from bertology.core.viz import PALETTE, new_figure, save_figure
from bertology.core.viz.style import paper_style

logger = logging.getLogger(__name__)

COLUMNS = ["layer", "f1", "precision", "recall", "cumulative_f1", "delta", "mix_weight", "mix_f1"]
EVAL_BATCH = 1024


# --------------------------------------------------------------------------------------------- span features


def _span_pieces(corpus, index: int, spans: np.ndarray) -> np.ndarray:
    """``(n, 2)`` ``[first, stop)`` word-piece ranges of word spans ``[start, end)`` of item ``index``."""
    words = corpus.all_word_tokens[index]
    return np.stack([words[spans[:, 0], 0], words[spans[:, 1] - 1, 1]], axis=1)


def span_features(model: LoadedModel, texts: Sequence[str], spans: Sequence[np.ndarray],
                  layers: str | int | Sequence[int] = "all", batch_size: int = 32, out: str | Path | None = None,
                  progress: bool = True) -> ActivationStore:
    """Mean of each span's word-piece vectors at every layer, one forward pass per sentence, into a store.

    Sentences run in length-sorted batches that stop after the deepest requested layer;
    each span's vector is the mean of the hidden states of the word-pieces of its words
    (Tenney et al. 2019a's span pooling with mean instead of attention). A sentence longer
    than the model allows is cut; its spans that lose a word-piece are not stored (zero
    rows, ``store.valid`` False, counted in a warning).

    Parameters
    ----------
    model
        From :func:`bertology.load_model`.
    texts
        Sentences; spans index their whitespace-separated words.
    spans
        Per sentence, an ``(n_i, 2)`` integer array of ``[start, end)`` word spans.
    layers
        Hidden states as in :func:`bertology.extract`.
    batch_size
        Sentences per forward pass.
    out
        Store directory; ``None``: a temporary one, removed when the store is no longer referenced.
    progress
        Show a progress bar.

    Returns
    -------
    ActivationStore
        Rows are the spans in order (sentence 0's spans, then sentence 1's, ...).

    Examples
    --------
    >>> import bertology as bt
    >>> store = span_features(bt.load_model("minilm"), ["the river bank"], [np.array([[1, 3], [0, 1]])],
    ...                       layers=[0, 6], progress=False)
    >>> store[6].shape
    (2, 384)
    """
    if len(texts) != len(spans):
        raise InputError(f"Got {len(texts)} texts but {len(spans)} span arrays: give one per text.")
    spans = [np.asarray(s, dtype=np.int64).reshape(-1, 2) for s in spans]
    for index, (text, array) in enumerate(zip(texts, spans)):
        n_words = len(text.split())
        if len(array) and not ((array[:, 0] >= 0) & (array[:, 0] < array[:, 1]) & (array[:, 1] <= n_words)).all():
            raise InputError(f"Item {index}: a span is not inside the sentence's {n_words} words: spans are "
                             "[start, end) whitespace-word indices.")
    if out is not None:
        check_output(out)
    hidden_indices = resolve_layers(layers, model.num_layers)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in spans])]).astype(np.int64)
    if offsets[-1] == 0:
        raise InputError("No spans to pool: give at least one span.")
    corpus = encode_corpus(model.tokenizer, texts, sys.maxsize, all_words=True)
    long = np.flatnonzero(corpus.lengths > model.max_length)
    if long.size:
        cut = encode_corpus(model.tokenizer, [texts[i] for i in long], model.max_length, truncate=True)
        for position, index in enumerate(long):
            corpus.input_ids[index] = cut.input_ids[position]
            corpus.special_masks[index] = cut.special_masks[position]
            corpus.lengths[index] = cut.lengths[position]
    pieces = [_span_pieces(corpus, i, s) if len(s) else np.zeros((0, 2), np.int64) for i, s in enumerate(spans)]
    skipped = {int(offsets[i] + j): "span cut by truncation to the model's length limit"
               for i in long for j in np.flatnonzero(pieces[i][:, 1] > corpus.lengths[i] - 1)}
    if skipped:
        logger.warning("%d of %d spans lie (partly) beyond the model's %d-token limit and are left out.",
                       len(skipped), offsets[-1], model.max_length)
    request = {
        "layers": hidden_indices, "pool": "span_mean", "dtype": "float32", "n_items": int(offsets[-1]),
        "batch_size": batch_size, "max_length": model.max_length, "model_weights_sha256": model.weights_sha256,
        "model_source": model.source,
        "input_sha256": content_hash({"texts": list(texts), "spans": [s.tolist() for s in spans]}),
    }
    manifest = {"kind": "activation_store", "request": request, "model": model.describe(),
                "tokenizer": type(model.tokenizer).__name__, "packages": package_versions(),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    directory = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="bertology-spans-"))
    try:
        _fill_span_store(directory, model, corpus, pieces, offsets, manifest, skipped, progress)
        store = ActivationStore(directory)
    except BaseException:
        if out is None:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    if out is None:
        weakref.finalize(store, shutil.rmtree, directory, ignore_errors=True)
    return store


def _fill_span_store(directory: Path, model: LoadedModel, corpus, pieces: list[np.ndarray], offsets: np.ndarray,
                     manifest: dict[str, Any], skipped: dict[int, str], progress: bool) -> None:
    request = manifest["request"]
    hidden_indices = request["layers"]
    writer = StoreWriter(directory, manifest, model.hidden_size)
    try:
        with_spans = np.flatnonzero(np.diff(offsets) > 0)
        batches = [with_spans[rows] for rows in length_sorted_batches(corpus.lengths[with_spans],
                                                                       request["batch_size"])]
        owned = {batch_id: np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in rows])
                 for batch_id, rows in enumerate(batches)}
        writer.forget_unwritten(owned, skipped)
        pending = [(batch_id, rows) for batch_id, rows in enumerate(batches) if batch_id not in writer.done]
        names = [hidden_state_name(index, model.num_layers) for index in hidden_indices]
        bar = progress_bar(pending, total=len(pending), desc="span features", unit="batch", progress=progress)
        with torch.inference_mode(), writer:
            for batch_id, rows in bar:
                inputs, _ = batch_tensors(model, corpus, rows)
                weights = _span_weights([pieces[i] for i in rows], inputs["input_ids"].shape[1]).to(model.device)
                with trace(model, names, stop=True) as cache:
                    model(**inputs)
                counts = torch.tensor([len(pieces[i]) for i in rows])
                slots = torch.arange(weights.shape[1])[None, :] < counts[:, None]
                values = {index: torch.bmm(weights, cache[name].float())[slots.to(model.device)].cpu().numpy()
                          for index, name in zip(hidden_indices, names)}
                writer.write_batch(batch_id, owned[batch_id], values)
        writer.finish({"skipped": {str(k): v for k, v in skipped.items()},
                       "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    finally:
        writer.release()


def _span_weights(pieces: list[np.ndarray], width: int) -> torch.Tensor:
    """``(batch, max spans, width)``: row ``(b, j)`` averages the word-pieces of sentence ``b``'s span ``j``."""
    weights = torch.zeros(len(pieces), max(len(p) for p in pieces), width)
    positions = torch.arange(width)
    for b, ranges in enumerate(pieces):
        ranges = torch.from_numpy(ranges)
        inside = (positions[None] >= ranges[:, :1]) & (positions[None] < ranges[:, 1:])
        weights[b, :len(ranges)] = inside.float() / inside.sum(dim=1, keepdim=True).clamp_min(1)
    return weights


# --------------------------------------------------------------------------------------------- batched probes


@dataclass
class SpanTargets:
    """Targets as rows of a span table.

    Attributes
    ----------
    span1
        ``(n,)`` row of each target's first span.
    span2
        ``(n,)`` row of each target's second span, or ``None`` for one-span tasks.
    labels
        ``(n, n_labels)`` bool, the target's labels (several for multi-label tasks).
    """

    span1: np.ndarray
    span2: np.ndarray | None
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.span1)


class _ProbeBank(nn.Module):
    """``P`` edge classifiers (jiant's, with mean pooling) over ``P`` scalar mixes, evaluated as one batch."""

    def __init__(self, allowed: np.ndarray, features: int, hidden: int, n_labels: int, two_spans: bool,
                 dropout: float) -> None:
        super().__init__()
        n_probes = allowed.shape[0]
        self.mix = ScalarMix(allowed.shape[1], allowed)
        fixed = torch.as_tensor(allowed.sum(axis=1) == 1)
        self.mix.gamma.register_hook(lambda grad: grad.masked_fill(fixed.to(grad.device), 0.0))
        self.dropout = dropout
        self.two_spans = two_spans

        def linear(fan_in: int, fan_out: int) -> tuple[nn.Parameter, nn.Parameter]:
            bound = 1.0 / math.sqrt(fan_in)
            return (nn.Parameter(torch.empty(n_probes, fan_in, fan_out).uniform_(-bound, bound)),
                    nn.Parameter(torch.empty(n_probes, 1, fan_out).uniform_(-bound, bound)))

        self.proj1_w, self.proj1_b = linear(features, hidden)
        if two_spans:
            self.proj2_w, self.proj2_b = linear(features, hidden)
        self.fc1_w, self.fc1_b = linear(hidden * (2 if two_spans else 1), hidden)
        self.norm_w = nn.Parameter(torch.ones(n_probes, 1, hidden))
        self.norm_b = nn.Parameter(torch.zeros(n_probes, 1, hidden))
        self.fc2_w, self.fc2_b = linear(hidden, n_labels)

    def forward(self, span1: torch.Tensor, span2: torch.Tensor | None) -> torch.Tensor:
        """Logits ``(probes, batch, labels)`` from span vectors ``(batch, layers, features)``."""
        z = torch.baddbmm(self.proj1_b, self.mix(span1, layer_axis=1), self.proj1_w)
        if self.two_spans:
            z = torch.cat([z, torch.baddbmm(self.proj2_b, self.mix(span2, layer_axis=1), self.proj2_w)], dim=-1)
        h = torch.tanh(torch.baddbmm(self.fc1_b, z, self.fc1_w))
        h = F.layer_norm(h, h.shape[-1:]) * self.norm_w + self.norm_b
        h = F.dropout(h, self.dropout, self.training)
        return torch.baddbmm(self.fc2_b, h, self.fc2_w)


def _counts(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``(probes, 3)`` true positives, false positives, false negatives at probability 0.5."""
    predicted = logits > 0
    gold = labels.bool().unsqueeze(0)
    return torch.stack([(predicted & gold).sum(dim=(1, 2)), (predicted & ~gold).sum(dim=(1, 2)),
                        (~predicted & gold).sum(dim=(1, 2))], dim=1)


def micro_f1(counts: np.ndarray) -> np.ndarray:
    """Micro-F1 ``2 tp / (2 tp + fp + fn)`` per row of ``(…, 3)`` counts (0 when nothing is predicted or gold).

    Examples
    --------
    >>> micro_f1(np.array([[3, 1, 1], [0, 0, 0]])).tolist()
    [0.75, 0.0]
    """
    counts = np.asarray(counts, dtype=np.float64)
    tp, fp, fn = counts[..., 0], counts[..., 1], counts[..., 2]
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.where(denominator > 0, denominator, 1), 0.0)


class _Table:
    """Span rows gathered across layers from per-layer ``(spans, features)`` arrays (memory-mapped or not)."""

    def __init__(self, arrays: Sequence[np.ndarray], device: torch.device) -> None:
        self.arrays = list(arrays)
        self.device = device

    def take(self, rows: np.ndarray) -> torch.Tensor:
        stacked = np.stack([np.asarray(array[rows], dtype=np.float32) for array in self.arrays], axis=1)
        return torch.from_numpy(stacked).to(self.device)

    def batch(self, targets: SpanTargets, ids: np.ndarray) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        labels = torch.from_numpy(targets.labels[ids].astype(np.float32)).to(self.device)
        if targets.span2 is None:
            return self.take(targets.span1[ids]), None, labels
        both = self.take(np.concatenate([targets.span1[ids], targets.span2[ids]]))
        return both[:len(ids)], both[len(ids):], labels


def _evaluate(bank: _ProbeBank, table: _Table, targets: SpanTargets) -> np.ndarray:
    bank.eval()
    total = torch.zeros(bank.fc2_w.shape[0], 3, dtype=torch.long, device=table.device)
    with torch.no_grad():
        for start in range(0, len(targets), EVAL_BATCH):
            span1, span2, labels = table.batch(targets, np.arange(start, min(start + EVAL_BATCH, len(targets))))
            total += _counts(bank(span1, span2), labels)
    return total.cpu().numpy()


def _probe_sets(n_layers: int, mix: bool, cumulative: bool) -> np.ndarray:
    """Allowed layers of every probe: single layers, then the cumulative mixes ``0..k`` (k ≥ 1; the last is all)."""
    sets = [np.eye(n_layers, dtype=bool)]
    if cumulative:
        sets.append(cumulative_layers(n_layers)[1:])
    elif mix and n_layers > 1:
        sets.append(np.ones((1, n_layers), dtype=bool))
    return np.concatenate(sets)


def train_edge_probes(features: Sequence[np.ndarray], layers: Sequence[int], train: SpanTargets, test: SpanTargets,
                      dev: SpanTargets | None = None, labels: Sequence[str] | None = None, mix: bool = True,
                      cumulative: bool = True, hidden: int = 256, dropout: float = 0.3, epochs: int = 10,
                      lr: float = 1e-4, probe_batch_size: int = 32, seed: int = 0, device: str | torch.device = "cpu",
                      progress: bool = True) -> EdgeProbeResult:
    """Train every edge probe (each layer, the scalar mix, the cumulative mixes) in one batched run and score them.

    Parameters
    ----------
    features
        Per layer, an ``(n_spans, d)`` array of span vectors (e.g. ``span_features(...)[layer]``).
    layers
        The layer index of each array.
    train, test, dev
        Targets as rows of the span arrays; ``dev`` picks each probe's best epoch (none: the last epoch).
    labels
        Label names (the columns of the targets' label matrices).
    mix
        Also train a probe on a learned scalar mix of all layers.
    cumulative
        Also train probes on the mixes of layers ``0..ℓ`` for every ``ℓ`` (cumulative scoring; its last mix is
        the mix of all layers).
    hidden
        Projection and MLP width (jiant's ``classifier_hid_dim``, 256).
    dropout
        MLP dropout (jiant's ``classifier_dropout``, 0.3).
    epochs, lr, probe_batch_size
        Passes over the training targets, Adam's learning rate and targets per step (jiant: 1e-4, 32).
    seed
        Seeds initialisation, shuffling and dropout.
    device
        Where the probes train.
    progress
        Show a progress bar over epochs.

    Returns
    -------
    EdgeProbeResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 4)).astype(np.float32)
    >>> y = np.stack([x[:, 0] > 0, x[:, 0] <= 0], axis=1)
    >>> t = lambda rows: SpanTargets(rows, None, y[rows])
    >>> r = train_edge_probes([rng.normal(size=(200, 4)), x], [0, 1], t(np.arange(150)), t(np.arange(150, 200)),
    ...                       hidden=16, epochs=30, lr=1e-2, progress=False)
    >>> r.to_frame()["f1"].round(1).tolist()[1]
    1.0
    """
    _check_training(hidden, dropout, epochs, lr, probe_batch_size)
    if len(features) != len(layers) or not len(features):
        raise InputError(f"Give one feature array per layer: got {len(features)} arrays and {len(layers)} layers.")
    if len(train) == 0 or len(test) == 0:
        raise InputError(f"No targets to {'train on' if len(train) == 0 else 'test on'}: give a non-empty split.")
    device = torch.device(device)
    n_labels = train.labels.shape[1]
    names = list(labels) if labels is not None else [str(i) for i in range(n_labels)]
    allowed = _probe_sets(len(layers), mix, cumulative)
    table = _Table(features, device)
    forked = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=forked):
        torch.manual_seed(seed)
        bank = _ProbeBank(allowed, int(features[0].shape[1]), hidden, n_labels, train.span2 is not None,
                          dropout).to(device)
        optimizer = torch.optim.Adam(bank.parameters(), lr=lr)
        shuffle = np.random.default_rng(seed)
        best = {name: value.detach().clone() for name, value in bank.state_dict().items()}
        best_f1 = np.full(len(allowed), -1.0)
        best_epoch = np.full(len(allowed), epochs, dtype=np.int64)
        for epoch in progress_bar(range(1, epochs + 1), total=epochs, desc="edge probes", unit="epoch",
                                  progress=progress):
            bank.train()
            order = shuffle.permutation(len(train))
            for start in range(0, len(order), probe_batch_size):
                span1, span2, gold = table.batch(train, order[start:start + probe_batch_size])
                logits = bank(span1, span2)
                loss = F.binary_cross_entropy_with_logits(logits, gold.expand_as(logits), reduction="none")
                optimizer.zero_grad()
                loss.mean(dim=(1, 2)).sum().backward()
                optimizer.step()
            if dev is not None and len(dev):
                f1 = micro_f1(_evaluate(bank, table, dev))
                improved = torch.from_numpy(f1 > best_f1)
                best_f1 = np.maximum(best_f1, f1)
                best_epoch[improved.numpy()] = epoch
                for name, value in bank.state_dict().items():
                    if value.shape[:1] == improved.shape:
                        best[name][improved.to(device)] = value[improved.to(device)]
                    else:
                        best[name] = value.detach().clone()
        if dev is not None and len(dev):
            bank.load_state_dict(best)
    counts = _evaluate(bank, table, test)
    with torch.no_grad():
        weights = bank.mix.weights().cpu().numpy()
        gammas = bank.mix.gamma.cpu().numpy()
    meta = {"layers": [int(k) for k in layers], "labels": names, "mix": mix, "cumulative": cumulative,
            "hidden": hidden, "dropout": dropout, "epochs": epochs, "lr": lr, "probe_batch_size": probe_batch_size,
            "seed": seed, "n_train": len(train), "n_dev": 0 if dev is None else len(dev), "n_test": len(test),
            "two_spans": train.span2 is not None, "best_epoch": best_epoch.tolist()}
    return _result(allowed, counts, weights, gammas, layers, meta)


def _result(allowed: np.ndarray, counts: np.ndarray, weights: np.ndarray, gammas: np.ndarray,
            layers: Sequence[int], meta: dict[str, Any]) -> EdgeProbeResult:
    n_layers = len(layers)
    f1 = micro_f1(counts)
    tp, fp, fn = counts[:, 0].astype(float), counts[:, 1].astype(float), counts[:, 2].astype(float)
    precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 0.0)
    recall = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1), 0.0)
    frame = pd.DataFrame({"layer": [int(k) for k in layers], "f1": f1[:n_layers], "precision": precision[:n_layers],
                          "recall": recall[:n_layers]})
    full = n_layers - 1 if len(allowed) == n_layers else len(allowed) - 1
    if meta["cumulative"]:
        cumulative = np.concatenate([f1[:1], f1[n_layers:]])
        frame["cumulative_f1"] = cumulative
        frame["delta"] = score_deltas(cumulative)
    else:
        frame["cumulative_f1"] = frame["delta"] = np.nan
    if meta["mix"] or meta["cumulative"]:
        frame["mix_weight"] = weights[full].astype(np.float64)
        frame["mix_f1"] = f1[full]
        meta["mix_gamma"] = float(gammas[full])
    else:
        frame["mix_weight"] = frame["mix_f1"] = np.nan
    meta["counts"] = counts.tolist()
    return EdgeProbeResult(frame, meta)


def _check_training(hidden: int, dropout: float, epochs: int, lr: float, probe_batch_size: int) -> None:
    for name, value in (("hidden", hidden), ("epochs", epochs), ("probe_batch_size", probe_batch_size)):
        if as_integer(value) is None or value < 1:
            raise InputError(f"{name} must be a positive integer, got {value!r}.")
    if not 0 <= dropout < 1:
        raise InputError(f"dropout must be in [0, 1), got {dropout!r}.")
    if not lr > 0:
        raise InputError(f"lr must be positive, got {lr!r}.")


# --------------------------------------------------------------------------------------------- the analysis


EdgeInput = EdgeData | str | Path | Iterable[Mapping[str, Any] | EdgeExample]


def _as_data(data: EdgeInput, what: str) -> EdgeData:
    if isinstance(data, (str, Path)):
        return load_edges(data)
    try:
        return edge_examples(data)
    except TypeError:
        raise InputError(f"{what} must be a path to a jiant JSON-lines file, EdgeData, or a list of examples; "
                         f"got {type(data).__name__}.") from None


def _split(data: EdgeData, fraction: float, seed: int, what: str) -> tuple[EdgeData, EdgeData]:
    if not 0 < fraction < 1:
        raise InputError(f"{what} must be a fraction between 0 and 1, got {fraction!r}.")
    if len(data) < 2:
        raise InputError(f"{data.source} has {len(data)} sentence; splitting off a {what.split('_')[0]} portion "
                         f"needs at least 2: pass the {what.split('_')[0]} data explicitly.")
    order = np.random.default_rng(seed).permutation(len(data))
    n_held = min(len(data) - 1, max(1, round(fraction * len(data))))
    held, kept = sorted(order[:n_held]), sorted(order[n_held:])
    return (EdgeData([data[i] for i in kept], data.source), EdgeData([data[i] for i in held], data.source))


def _targets(splits: list[EdgeData], labels: list[str]) -> tuple[list[str], list[np.ndarray], list[SpanTargets]]:
    """Sentences, their unique spans, and each split's targets as span rows."""
    column = {label: i for i, label in enumerate(labels)}
    texts, spans, out = [], [], []
    row = 0
    for data in splits:
        span1, span2, gold = [], [], []
        for example in data:
            ids: dict[tuple[int, int], int] = {}
            for target in example.targets:
                for span in (target.span1, target.span2):
                    if span is not None and span not in ids:
                        ids[span] = row + len(ids)
                span1.append(ids[target.span1])
                span2.append(ids[target.span2] if target.span2 is not None else -1)
                vector = np.zeros(len(labels), dtype=bool)
                vector[[column[label] for label in target.labels]] = True
                gold.append(vector)
            if ids:
                texts.append(example.text)
                spans.append(np.array(list(ids), dtype=np.int64))
                row += len(ids)
        out.append(SpanTargets(np.asarray(span1, dtype=np.int64),
                               np.asarray(span2, dtype=np.int64) if data.two_spans else None,
                               np.asarray(gold, dtype=bool).reshape(-1, len(labels))))
    return texts, spans, out


def _keep_valid(targets: SpanTargets, valid: np.ndarray) -> SpanTargets:
    keep = valid[targets.span1] & (True if targets.span2 is None else valid[targets.span2])
    return SpanTargets(targets.span1[keep], None if targets.span2 is None else targets.span2[keep],
                       targets.labels[keep])


def edge_probe(model: str | LoadedModel, data: EdgeInput, test: EdgeInput | None = None, *,
               dev: EdgeInput | None = None, test_size: float = 0.2, dev_size: float = 0.1,
               layers: str | int | Sequence[int] = "all", mix: bool = True, cumulative: bool = True,
               hidden: int = 256, dropout: float = 0.3, epochs: int = 10, lr: float = 1e-4,
               probe_batch_size: int = 32, batch_size: int = 32, store: str | Path | None = None,
               device: str | None = None, seed: int = 0, progress: bool = True) -> EdgeProbeResult:
    """Edge probing with a scalar mix, per layer and cumulatively (Tenney et al. 2019a, 2019b).

    Span vectors (the mean of each span's word-pieces at every layer) are extracted once per
    sentence; jiant's edge classifier (projection, two-layer MLP, one sigmoid per label) is
    trained on each layer, on a learned scalar mix of all layers and on the mixes of layers
    ``0..ℓ``, all in one batched run, and scored by micro-F1 on the test split. The result
    gives the expected layer ``E_Δ[ℓ]`` of cumulative scoring and the mix weights' centre of
    gravity ``E_s[ℓ]``.

    Parameters
    ----------
    model
        A model name or path (loaded with :func:`bertology.load_model`), or a loaded model.
    data
        Training data: a jiant JSON-lines file (:func:`~bertology.analyses.syntax.edge_data.load_edges`),
        :class:`~bertology.analyses.syntax.edge_data.EdgeData` (e.g. from ``conllu_to_edges``) or examples.
    test
        Test data; ``None`` holds out ``test_size`` of the training sentences.
    dev
        Data that picks each probe's best epoch; ``None`` holds out ``dev_size`` of the training
        sentences (``dev_size=0``: no dev split, the last epoch is kept).
    test_size, dev_size
        Fractions of sentences held out when ``test`` / ``dev`` is not given.
    layers
        Hidden states as in :func:`bertology.extract` (``"all"``: embeddings and every layer).
    mix
        Train a probe on a learned scalar mix of all layers.
    cumulative
        Train probes on the mixes of layers ``0..ℓ`` (cumulative scoring, for the expected layer).
    hidden, dropout, epochs, lr, probe_batch_size
        Probe width (256), MLP dropout (0.3), passes over the data, Adam's learning rate (1e-4)
        and targets per step (32); jiant's values as defaults.
    batch_size
        Sentences per forward pass.
    store
        Directory that keeps the span vectors (reused when run again on the same input); ``None``: a temporary one.
    device
        Device a model name is loaded on.
    seed
        Seeds the splits and the probes.
    progress
        Show progress bars.

    Returns
    -------
    EdgeProbeResult

    Raises
    ------
    InputError
        Unreadable data, train and test of different kinds (one- vs two-span), bad settings;
        raised before the model loads.

    Examples
    --------
    >>> import bertology as bt
    >>> ud = bt.data.load_conllu("en_ewt-ud-train.conllu")                      # doctest: +SKIP
    >>> from bertology.analyses.syntax.edge_data import conllu_to_edges
    >>> res = edge_probe("bert-base-uncased", conllu_to_edges(ud, "dep"))        # doctest: +SKIP
    >>> res.expected_layer(), res.center_of_gravity()                           # doctest: +SKIP
    """
    _check_training(hidden, dropout, epochs, lr, probe_batch_size)
    parse_layers(layers)
    if as_integer(batch_size) is None or batch_size < 1:
        raise InputError(f"batch_size must be a positive integer, got {batch_size!r}.")
    if store is not None:
        check_output(store)
    train = _as_data(data, "data")
    if test is None:
        train, held_test = _split(train, test_size, seed, "test_size")
    else:
        held_test = _as_data(test, "test")
    if dev is not None:
        dev_data = _as_data(dev, "dev")
    elif dev_size and len(train) >= 2:
        train, dev_data = _split(train, dev_size, seed + 1, "dev_size")
    else:
        dev_data = None
    splits = [train, held_test] + ([dev_data] if dev_data is not None else [])
    kinds = {d.two_spans for d in splits if d.n_targets}
    if len(kinds) > 1:
        raise InputError("Train, test and dev mix one-span and two-span targets: give files of the same task.")
    for name, split in zip(("train", "test", "dev"), splits):
        if split.n_targets == 0:
            raise InputError(f"The {name} split ({split.source}) has no targets: give data with targets.")
    labels = sorted({label for split in splits for label in split.labels})
    texts, spans, targets = _targets(splits, labels)
    loaded = model if isinstance(model, LoadedModel) else load_model(model, device=device)
    hidden_indices = resolve_layers(layers, loaded.num_layers)
    features = span_features(loaded, texts, spans, hidden_indices, batch_size=batch_size, out=store,
                             progress=progress)
    valid = features.valid
    kept = [_keep_valid(t, valid) for t in targets]
    dropped = sum(len(t) for t in targets) - sum(len(t) for t in kept)
    result = train_edge_probes([features[k] for k in hidden_indices], hidden_indices, kept[0], kept[1],
                               kept[2] if len(kept) > 2 else None, labels, mix=mix, cumulative=cumulative,
                               hidden=hidden, dropout=dropout, epochs=epochs, lr=lr,
                               probe_batch_size=probe_batch_size, seed=seed, device=loaded.device, progress=progress)
    result.meta.update({"model": loaded.name, "data": train.source, "test": held_test.source,
                        "dropped_targets": int(dropped)})
    return result


# --------------------------------------------------------------------------------------------- the result


class EdgeProbeResult(TableResult):
    """Edge-probing micro-F1 per layer, of the scalar mix and of the cumulative mixes (Tenney et al. 2019b).

    Saved with ``save(out)`` as ``table.csv`` and ``meta.json`` in directory ``out``.

    Parameters
    ----------
    frame
        One row per layer: ``f1``/``precision``/``recall`` of the probe on that layer alone,
        ``cumulative_f1`` of the probe on the mix of layers up to it and ``delta`` its gain
        over the mix below, ``mix_weight`` the layer's weight ``s_ℓ`` in the mix of all layers
        and ``mix_f1`` that mix's score (the same in every row). Missing columns are NaN.
    meta
        Settings and sizes of the run (layers, labels, model, epochs...).

    Examples
    --------
    >>> t = pd.DataFrame({"layer": [0, 1, 2], "f1": [.5, .7, .8], "cumulative_f1": [.5, .7, .8],
    ...                   "mix_weight": [.2, .3, .5]})
    >>> r = EdgeProbeResult(t)
    >>> round(r.expected_layer(), 3), r.center_of_gravity()
    (1.333, 1.3)
    """

    def __init__(self, frame: pd.DataFrame, meta: dict[str, Any] | None = None) -> None:
        frame = frame.reindex(columns=COLUMNS)
        if frame["delta"].isna().all() and frame["cumulative_f1"].notna().any():
            frame["delta"] = score_deltas(frame["cumulative_f1"].to_numpy())
        super().__init__(frame, meta)

    def expected_layer(self) -> float:
        """``E_Δ[ℓ] = Σ ℓ·Δ(ℓ) / Σ Δ(ℓ)`` from the cumulative scores.

        Raises
        ------
        InputError
            When the run had no cumulative probes.
        """
        if self.frame["cumulative_f1"].isna().all():
            raise InputError("This result has no cumulative scores: run edge_probe with cumulative=True.")
        return expected_layer(self.frame["cumulative_f1"].to_numpy(), self.frame["layer"].to_numpy())

    def center_of_gravity(self) -> float:
        """``E_s[ℓ] = Σ ℓ·s_ℓ`` of the mix weights.

        Raises
        ------
        InputError
            When the run trained no mix of all layers.
        """
        if self.frame["mix_weight"].isna().all():
            raise InputError("This result has no scalar mix: run edge_probe with mix=True.")
        return center_of_gravity(self.frame["mix_weight"].to_numpy(), self.frame["layer"].to_numpy())

    def plot(self) -> Figure:
        """Tenney et al.'s (2019b) figure: F1 by layer, Δ bars with ``E_Δ`` and mix weights with ``E_s``.

        Examples
        --------
        >>> t = pd.DataFrame({"layer": [0, 1, 2], "f1": [.5, .7, .8], "cumulative_f1": [.5, .7, .8],
        ...                   "mix_weight": [.2, .3, .5], "mix_f1": .8})
        >>> [ax.get_ylabel() for ax in EdgeProbeResult(t).plot().axes]
        ['micro-F1', 'Δ F1', 'mix weight']
        """
        return _plot(self)


def _plot(result: EdgeProbeResult) -> Figure:
    frame = result.frame
    layers = frame["layer"].to_numpy()
    panels = ["f1"] + (["delta"] if frame["delta"].notna().any() else []) + (
        ["mix_weight"] if frame["mix_weight"].notna().any() else [])
    ratios = [1.4] + [1.0] * (len(panels) - 1)
    with paper_style():
        figure, axes = new_figure(height=1.0 + 0.9 * len(panels), nrows=len(panels), sharex=True,
                                  gridspec_kw={"height_ratios": ratios})
        axes = np.atleast_1d(axes)
        top = axes[0]
        top.plot(layers, frame["f1"], marker="o", color=PALETTE[0], label="single layer")
        if frame["cumulative_f1"].notna().any():
            top.plot(layers, frame["cumulative_f1"], marker="s", linestyle="--", color=PALETTE[3],
                     label="layers 0..ℓ")
        if frame["mix_f1"].notna().any():
            top.axhline(float(frame["mix_f1"].iloc[0]), color="0.4", linestyle=":", linewidth=1, label="all-layer mix")
        top.set_ylabel("micro-F1")
        top.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, handlelength=1.6, columnspacing=1.0)
        for ax, panel in zip(axes[1:], panels[1:]):
            if panel == "delta":
                values, color = frame["delta"].to_numpy(), PALETTE[4]
                marker, name = result.expected_layer(), r"$E_\Delta[\ell]$"
                ax.set_ylabel("Δ F1")
            else:
                values, color = frame["mix_weight"].to_numpy(), PALETTE[0]
                marker, name = result.center_of_gravity(), r"$E_s[\ell]$"
                ax.set_ylabel("mix weight")
            ax.bar(layers, np.nan_to_num(values), color=color, width=0.7)
            ax.axhline(0, color="0.6", linewidth=0.6)
            if np.isfinite(marker):
                ax.axvline(marker, color="0.15", linestyle="--", linewidth=1)
                ax.annotate(f"{name} = {marker:.2f}", xy=(marker, 1), xycoords=("data", "axes fraction"),
                            xytext=(3, -2), textcoords="offset points", ha="left", va="top", fontsize=7,
                            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none",
                                  "alpha": 0.85})
        axes[-1].set_xticks(layers)
        axes[-1].set_xlabel("layer ℓ (0 = embeddings)")
        model = result.meta.get("model")
        if model:
            figure.suptitle(str(model), fontsize=8)
    return figure


def save_edge_probe_figures(result: EdgeProbeResult, out: str | Path) -> list[Path]:
    """Write the edge-probing figure into ``out/figures`` (``edge_probe.pdf`` and ``.png``).

    Examples
    --------
    >>> import tempfile
    >>> t = pd.DataFrame({"layer": [0, 1], "f1": [.5, .8], "cumulative_f1": [.5, .8], "mix_weight": [.3, .7]})
    >>> [p.name for p in save_edge_probe_figures(EdgeProbeResult(t), tempfile.mkdtemp())]
    ['edge_probe.pdf', 'edge_probe.png']
    """
    return save_figure(result.plot(), Path(out) / "figures" / "edge_probe")
