"""Batched activation patching: many patched copies of the inputs, each with its own patched component."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from bertology.analyses.patching.pairs import MinimalPair
from bertology.core.data.cloze_suites import MASK_MARKER
from bertology.core.errors import InputError, ModelError
from bertology.core.extraction.align import pad_sequences
from bertology.core.hooks.edits import set_from
from bertology.core.hooks.intervene import intervene
from bertology.core.hooks.names import hidden_state_name
from bertology.core.hooks.trace import trace
from bertology.core.models import LoadedModel
from bertology.core.models.mlm import has_mlm_head, mlm_log_probs
from bertology.core.progress import progress_bar

logger = logging.getLogger(__name__)

SIDES = ("base", "counterfactual")
DIRECTIONS = {"indirect": ("base", "counterfactual"), "direct": ("counterfactual", "base")}
"""Direction -> (the input that runs, the input whose activation is patched in)."""


@dataclass
class EncodedPairs:
    """Token ids of the pairs and what the metric reads.

    Attributes
    ----------
    pairs
        The pairs kept.
    ids
        ``{side: [token ids per pair]}``; both sides of a pair have the same length.
    read
        ``{side: (n,) position of the mask}`` (zeros for a classifier).
    targets
        ``(n, 2)`` vocabulary ids compared by the metric (``-1``: none).
    skipped
        ``(pair id, reason)`` of the pairs left out.
    """

    pairs: list[MinimalPair]
    ids: dict[str, list[list[int]]]
    read: dict[str, np.ndarray]
    targets: np.ndarray
    skipped: list[tuple[str, str]]

    @property
    def lengths(self) -> np.ndarray:
        """Tokens per pair."""
        return np.array([len(ids) for ids in self.ids["base"]], dtype=np.int64)


def metric_kind(model: LoadedModel) -> str:
    """``"mlm"`` for a masked LM, ``"classifier"`` for a sequence classifier.

    Raises
    ------
    ModelError
        For an encoder without either head.

    Examples
    --------
    >>> import bertology as bt
    >>> metric_kind(bt.load_model("minilm"))  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.ModelError: ...
    """
    if has_mlm_head(model):
        return "mlm"
    if model.head == "classifier":
        return "classifier"
    raise ModelError(f"Patching measures a masked LM's candidates at [MASK] or a classifier's probability, but "
                     f"{model.name!r} was loaded with head={model.head!r}: load it with head='mlm' (e.g. "
                     "'bert-base-uncased') or head='classifier' (a fine-tuned model).")


def _encode_side(model: LoadedModel, text: str, candidates: Sequence[str], kind: str
                 ) -> tuple[list[int], int, list[int]]:
    """Token ids, mask position and the candidates' ids of one sentence; raises ValueError with the reason."""
    tokenizer = model.tokenizer
    if kind == "classifier":
        ids = tokenizer(text, truncation=False, verbose=False)["input_ids"]
        return ids, 0, []
    if len(MASK_MARKER.findall(text)) != 1 and text.count(tokenizer.mask_token) != 1:
        raise ValueError(f"{text!r} must hold exactly one [MASK]")
    masked = MASK_MARKER.sub(tokenizer.mask_token, text)
    ids = tokenizer(masked, truncation=False, verbose=False)["input_ids"]
    read = ids.index(tokenizer.mask_token_id)
    targets = []
    for word in candidates:
        filled = tokenizer(masked.replace(tokenizer.mask_token, word), truncation=False, verbose=False)["input_ids"]
        if len(filled) != len(ids):
            raise ValueError(f"candidate {word!r} is not one token of this tokenizer")
        targets.append(filled[read])
    return ids, read, targets


def encode_pairs(model: LoadedModel, pairs: Sequence[MinimalPair], strict: bool) -> EncodedPairs:
    """Tokenize the pairs and check them: equal token lengths, one mask, one-token candidates.

    Parameters
    ----------
    model
        A masked LM or a classifier.
    pairs
        The minimal pairs.
    strict
        Raise on the first bad pair (a user's pairs); else leave it out and log it (a suite).

    Returns
    -------
    EncodedPairs

    Raises
    ------
    InputError
        A bad pair (strict), a pair over the model's length limit, or no pair left.
    """
    kind = metric_kind(model)
    kept, skipped = [], []
    ids: dict[str, list[list[int]]] = {side: [] for side in SIDES}
    read: dict[str, list[int]] = {side: [] for side in SIDES}
    targets = []
    for pair in pairs:
        if kind == "mlm" and not pair.candidates:
            raise InputError(f"Pair {pair.id!r} names no candidates: with a masked LM give (base, counterfactual, "
                             "(word_a, word_b)) to compare log P(a) − log P(b) at [MASK].")
        try:
            encoded = [_encode_side(model, text, pair.candidates, kind) for text in (pair.base, pair.counterfactual)]
            if len(encoded[0][0]) != len(encoded[1][0]):
                raise ValueError(f"the base has {len(encoded[0][0])} tokens but the counterfactual "
                                 f"{len(encoded[1][0])}; patching needs minimal pairs of equal token length")
            if encoded[0][2] != encoded[1][2]:
                raise ValueError("a candidate tokenizes differently in the two sentences")
        except ValueError as reason:
            if strict:
                raise InputError(f"Pair {pair.id!r} ({pair.base!r} / {pair.counterfactual!r}): {reason}.") from None
            skipped.append((pair.id, str(reason)))
            continue
        if len(encoded[0][0]) > model.max_length:
            raise InputError(f"Pair {pair.id!r} has {len(encoded[0][0])} tokens; the model accepts {model.max_length}.")
        kept.append(pair)
        for side, (side_ids, position, _) in zip(SIDES, encoded):
            ids[side].append(side_ids)
            read[side].append(position)
        found = encoded[0][2]
        targets.append((found + [-1, -1])[:2])
    if skipped:
        logger.warning("%d of %d pairs left out (e.g. %s: %s).", len(skipped), len(pairs), *skipped[0])
    if not kept:
        raise InputError(f"No pair can be patched: {skipped[0][0]}: {skipped[0][1]}.")
    return EncodedPairs(kept, ids, {side: np.array(v, dtype=np.int64) for side, v in read.items()},
                        np.array(targets, dtype=np.int64).reshape(-1, 2), skipped)


@dataclass(frozen=True)
class Components:
    """The patched components, as parallel arrays.

    Attributes
    ----------
    kind
        ``"resid"`` (the residual stream at one position of one hidden state) or
        ``"heads"`` (one head's output, ``layers.{i}.attn.heads``, at every position).
    layer
        Hidden-state index (``resid``: 0 = embeddings) or layer index (``heads``).
    slot
        Token position (``resid``) or head index (``heads``).
    """

    kind: str
    layer: np.ndarray
    slot: np.ndarray

    def name(self, layer: int, num_layers: int) -> str:
        """Canonical activation name of a component layer."""
        return hidden_state_name(int(layer), num_layers) if self.kind == "resid" else f"layers.{int(layer)}.attn.heads"


def components_for(model: LoadedModel, kind: str, length: int, positions: str | Sequence[int]) -> Components:
    """Every component of one pair of ``length`` tokens.

    Raises
    ------
    InputError
        A position out of range for this pair.
    """
    if kind == "heads":
        layers, heads = np.meshgrid(np.arange(model.num_layers), np.arange(model.num_heads), indexing="ij")
        return Components(kind, layers.ravel(), heads.ravel())
    chosen = np.arange(length) if positions == "all" else np.asarray(list(positions), dtype=np.int64)
    if ((chosen < -length) | (chosen >= length)).any():
        raise InputError(f"positions {list(positions)} go past a pair of {length} tokens: use positions that every "
                         "pair has, or 'all'.")
    chosen = np.unique(chosen % length)
    layers, slots = np.meshgrid(np.arange(model.num_layers + 1), chosen, indexing="ij")
    return Components(kind, layers.ravel(), slots.ravel())


def _inputs(model: LoadedModel, sequences: Sequence[Sequence[int]]) -> dict[str, torch.Tensor]:
    ids, attention = pad_sequences(sequences, model.tokenizer.pad_token_id)
    inputs = {"input_ids": ids.to(model.device), "attention_mask": attention.long().to(model.device)}
    if model.adapter.uses_token_type_ids:
        inputs["token_type_ids"] = torch.zeros_like(inputs["input_ids"])
    return inputs


def run_metric(model: LoadedModel, kind: str, inputs: dict[str, torch.Tensor], read: np.ndarray,
               targets: np.ndarray, label: int) -> torch.Tensor:
    """The metric per row: ``log P(a) − log P(b)`` at the mask (``log P(a)`` without ``b``), or ``P(label)``."""
    if kind == "classifier":
        logits = model.model(**inputs, return_dict=True).logits.float()
        return torch.softmax(logits, dim=-1)[:, label]
    log_probs = mlm_log_probs(model, inputs, torch.as_tensor(read, device=model.device))
    rows = torch.arange(len(read), device=log_probs.device)
    first = torch.as_tensor(targets[:, 0], device=log_probs.device)
    second = torch.as_tensor(np.maximum(targets[:, 1], 0), device=log_probs.device)
    value = log_probs[rows, first]
    has_second = torch.as_tensor(targets[:, 1] >= 0, device=log_probs.device)
    return torch.where(has_second, value - log_probs[rows, second], value)


def clean_runs(model: LoadedModel, encoded: EncodedPairs, names: list[str], label: int, batch_size: int,
               progress: bool) -> tuple[dict[str, np.ndarray], dict[str, torch.Tensor]]:
    """Metric of every unpatched input and its activations at ``names``, padded: ``(pairs, names, width, ...)``."""
    metric = metric_kind(model)
    width = int(encoded.lengths.max())
    metrics: dict[str, np.ndarray] = {}
    caches: dict[str, torch.Tensor] = {}
    order = np.argsort(-encoded.lengths, kind="stable")
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    for side in SIDES:
        values = np.zeros(len(encoded.pairs))
        store = None
        for rows in progress_bar(batches, desc=f"patching: {side}", unit="batch", progress=progress):
            inputs = _inputs(model, [encoded.ids[side][r] for r in rows])
            with trace(model, names) as cache:
                values[rows] = run_metric(model, metric, inputs, encoded.read[side][rows],
                                          encoded.targets[rows], label).double().cpu().numpy()
            stacked = torch.stack([cache[name] for name in names], dim=1)  # (batch, names, seq, ...)
            if store is None:
                store = stacked.new_zeros((len(encoded.pairs), len(names), width, *stacked.shape[3:]))
            store[torch.as_tensor(rows), :, :stacked.shape[2]] = stacked
        metrics[side], caches[side] = values, store
    return metrics, caches


def _patch_edit(rows: torch.Tensor, slots: torch.Tensor, values: torch.Tensor, kind: str
                ) -> Callable[[torch.Tensor], torch.Tensor]:
    """Edit setting ``tensor[rows, slots]`` (resid: a position) or ``tensor[rows, :, slots]`` (heads) to ``values``."""

    def edit(tensor: torch.Tensor) -> torch.Tensor:
        patched = tensor.clone()
        if kind == "resid":
            patched[rows, slots] = values.to(patched.dtype)
        else:
            patched[rows, :, slots] = values[:, :patched.shape[1]].to(patched.dtype)
        return patched

    return edit


@dataclass(frozen=True)
class Jobs:
    """One patched forward row each: pair, direction, component layer and slot."""

    pair: np.ndarray
    direction: np.ndarray
    layer: np.ndarray
    slot: np.ndarray


def make_jobs(model: LoadedModel, encoded: EncodedPairs, kind: str, positions: str | Sequence[int]) -> Jobs:
    """Every (pair, direction, component) to run, pairs in order."""
    parts = []
    for index, length in enumerate(encoded.lengths):
        components = components_for(model, kind, int(length), positions)
        for direction in range(len(DIRECTIONS)):
            parts.append((np.full(len(components.layer), index), np.full(len(components.layer), direction),
                          components.layer, components.slot))
    return Jobs(*(np.concatenate(column) for column in zip(*parts)))


def patched_runs(model: LoadedModel, encoded: EncodedPairs, kind: str, jobs: Jobs, caches: dict[str, torch.Tensor],
                 label: int, batch_size: int, progress: bool) -> np.ndarray:
    """The metric of every job, ``batch_size`` patched copies per forward pass (longest pairs first)."""
    metric = metric_kind(model)
    sides = list(DIRECTIONS.values())
    lengths = encoded.lengths[jobs.pair]
    order = np.argsort(-lengths, kind="stable")
    results = np.zeros(len(order))
    components = Components(kind, jobs.layer, jobs.slot)
    stacked = torch.stack([caches[side] for side in SIDES])  # (2, pairs, layers, width, ...)
    for start in progress_bar(range(0, len(order), batch_size), desc="patching", unit="batch", progress=progress):
        rows = order[start:start + batch_size]
        runs = [sides[d][0] for d in jobs.direction[rows]]
        sources = np.array([SIDES.index(sides[d][1]) for d in jobs.direction[rows]])
        inputs = _inputs(model, [encoded.ids[side][p] for side, p in zip(runs, jobs.pair[rows])])
        read = np.array([encoded.read[side][p] for side, p in zip(runs, jobs.pair[rows])])
        edits = {}
        for layer in np.unique(jobs.layer[rows]):
            local = np.flatnonzero(jobs.layer[rows] == layer)
            job_rows = rows[local]
            pair_index = torch.as_tensor(jobs.pair[job_rows])
            slots = torch.as_tensor(jobs.slot[job_rows])
            source_index = torch.as_tensor(sources[local])
            if kind == "resid":
                values = stacked[source_index, pair_index, int(layer), slots]  # (n, hidden)
            else:
                values = stacked[source_index, pair_index, int(layer), :, slots]  # (n, width, d_head)
            edits[components.name(layer, model.num_layers)] = _patch_edit(
                torch.as_tensor(local).to(model.device), slots.to(model.device), values.to(model.device), kind)
        with intervene(model, edits):
            results[rows] = run_metric(model, metric, inputs, read, encoded.targets[jobs.pair[rows]],
                                       label).double().cpu().numpy()
    return results


def patched_runs_one_by_one(model: LoadedModel, encoded: EncodedPairs, kind: str, jobs: Jobs,
                            caches: dict[str, torch.Tensor], label: int, progress: bool) -> np.ndarray:
    """The metric of every job with one forward pass each and the built-in :func:`~bertology.set_from` edit."""
    metric = metric_kind(model)
    results = np.zeros(len(jobs.pair))
    directions = list(DIRECTIONS.values())
    for row in progress_bar(range(len(jobs.pair)), desc="patching", unit="forward", progress=progress):
        pair, layer, slot = int(jobs.pair[row]), int(jobs.layer[row]), int(jobs.slot[row])
        run, source = directions[jobs.direction[row]]
        length = int(encoded.lengths[pair])
        name = Components(kind, jobs.layer, jobs.slot).name(layer, model.num_layers)
        cached = {name: caches[source][pair:pair + 1, layer, :length]}
        edit = set_from(cached, positions=[slot]) if kind == "resid" else set_from(cached, heads=[slot])
        inputs = _inputs(model, [encoded.ids[run][pair]])
        with intervene(model, {name: edit}):
            results[row] = float(run_metric(model, metric, inputs, encoded.read[run][pair:pair + 1],
                                            encoded.targets[pair:pair + 1], label)[0])
    return results
