"""``patch``: activation patching of minimal pairs, component by component (causal mediation analysis)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from bertology.analyses.patching.engine import (
    DIRECTIONS,
    Components,
    EncodedPairs,
    clean_runs,
    encode_pairs,
    make_jobs,
    metric_kind,
    patched_runs,
    patched_runs_one_by_one,
)
from bertology.analyses.patching.names import COMPONENTS
from bertology.analyses.patching.pairs import MinimalPair, as_pairs, suite_pairs
from bertology.analyses.patching.result import EFFECT_COLUMNS, PAIR_COLUMNS, PatchingResult
from bertology.core.errors import InputError
from bertology.core.models import LoadedModel


def check_patch_arguments(components: str | Sequence[str], positions: str | Sequence[int], batch_size: int,
                          label: int) -> list[str]:
    """The components as a list, every option checked before any model work.

    Examples
    --------
    >>> check_patch_arguments("resid", "all", 8, 1)
    ['resid']
    >>> check_patch_arguments("mlp", "all", 8, 1)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: ...
    """
    chosen = [components] if isinstance(components, str) else list(components)
    bad = [c for c in chosen if c not in COMPONENTS]
    if not chosen or bad:
        raise InputError(f"components={components!r}: choose from {', '.join(COMPONENTS)} (or a list of both).")
    if isinstance(positions, str):
        if positions != "all":
            raise InputError(f"positions={positions!r}: give 'all' or a list of token positions, e.g. [0, 3, -2].")
    elif not len(positions) or not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool)
                                       for p in positions):
        raise InputError(f"positions={positions!r}: give 'all' or a non-empty list of token positions.")
    for name, value, minimum in (("batch_size", batch_size, 1), ("label", label, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise InputError(f"{name} must be a whole number of at least {minimum}, got {value!r}.")
    return list(dict.fromkeys(chosen))


def resolve_pairs(suite: str | Path | None, pairs: Sequence[MinimalPair | Sequence] | None) -> list[MinimalPair]:
    """The user's ``pairs`` when given, else the pairs of ``suite``.

    Examples
    --------
    >>> len(resolve_pairs(None, [("a [MASK].", "b [MASK].", "x")]))
    1
    """
    if pairs is not None:
        return as_pairs(pairs)
    if suite is None:
        raise InputError("Give suite= (a shipped suite or a JSONL file) or pairs= (your minimal pairs).")
    return suite_pairs(suite)


def _roles(base: list[int], counterfactual: list[int], read: int, kind: str, special: set[int]) -> list[str]:
    length = len(base)
    changed = [p for p in range(length) if base[p] != counterfactual[p]]
    anchors = changed + ([read] if kind == "mlm" else [])
    first, last = (min(anchors), max(anchors)) if anchors else (length, -1)
    roles = []
    for p in range(length):
        if p == 0 and base[p] in special:
            roles.append("start")
        elif p == length - 1 and base[p] in special:
            roles.append("end")
        elif p in changed:
            roles.append("changed")
        elif kind == "mlm" and p == read:
            roles.append("mask")
        else:
            roles.append("before" if p < first else "after" if p > last else "between")
    return roles


def _tables(model: LoadedModel, encoded: EncodedPairs, kind: str, positions: str | Sequence[int],
            metrics: dict[str, np.ndarray], effects: np.ndarray, jobs) -> tuple[pd.DataFrame, pd.DataFrame]:
    metric = metric_kind(model)
    tokenizer = model.tokenizer
    special = set(tokenizer.all_special_ids) - {tokenizer.mask_token_id}
    total = metrics["counterfactual"] - metrics["base"]
    pairs = pd.DataFrame({
        "pair": [p.id for p in encoded.pairs], "condition": [p.condition for p in encoded.pairs],
        "base": [p.base for p in encoded.pairs], "counterfactual": [p.counterfactual for p in encoded.pairs],
        "candidates": ["|".join(p.candidates) for p in encoded.pairs], "n_tokens": encoded.lengths,
        "metric_base": metrics["base"], "metric_counterfactual": metrics["counterfactual"], "total_effect": total,
    }, columns=list(PAIR_COLUMNS))
    frames = []
    direction = {name: index for index, name in enumerate(DIRECTIONS)}
    for index, pair in enumerate(encoded.pairs):
        mine = jobs.pair == index
        indirect = mine & (jobs.direction == direction["indirect"])
        direct = mine & (jobs.direction == direction["direct"])
        layer, slot = jobs.layer[indirect], jobs.slot[indirect]
        base, counter = encoded.ids["base"][index], encoded.ids["counterfactual"][index]
        if kind == "resid":
            roles = np.array(_roles(base, counter, int(encoded.read["base"][index]), metric, special))
            base_tokens = np.array(tokenizer.convert_ids_to_tokens(base))
            counter_tokens = np.array(tokenizer.convert_ids_to_tokens(counter))
            position, head = slot, np.full(len(slot), -1)
            role, base_token, counter_token = roles[slot], base_tokens[slot], counter_tokens[slot]
        else:
            position, head = np.full(len(slot), -1), slot
            role = base_token = counter_token = np.full(len(slot), "")
        frames.append(pd.DataFrame({
            "pair": pair.id, "condition": pair.condition, "component": kind, "layer": layer, "position": position,
            "head": head, "role": role, "base_token": base_token, "counterfactual_token": counter_token,
            "indirect_effect": effects[indirect] - metrics["base"][index],
            "direct_effect": effects[direct] - metrics["base"][index],
        }, columns=list(EFFECT_COLUMNS)))
    return pd.concat(frames, ignore_index=True), pairs


def patch(model: LoadedModel, suite: str | Path | None = "agreement",
          pairs: Sequence[MinimalPair | Sequence] | None = None, components: str | Sequence[str] = "resid",
          positions: str | Sequence[int] = "all", label: int = 1, batch_size: int = 64, batched: bool = True,
          progress: bool = True) -> PatchingResult:
    """Activation patching of minimal pairs: total, indirect and direct effects of every component.

    Causal mediation analysis (Vig et al. 2020, "Investigating Gender Bias in Language
    Models Using Causal Mediation Analysis"), swept over layers and positions as in Meng et
    al. (2022, "Locating and Editing Factual Associations in GPT"). Each pair's base and
    counterfactual inputs run once, recording every component; then each component of
    the base run takes its counterfactual value (indirect effect) and each component of
    the counterfactual run takes its base value (direct effect). The patched runs are
    batched: ``batch_size`` patched copies per forward pass, each with its own component
    set (:func:`~bertology.intervene` with one edit per layer).

    The metric ``y``: with a masked LM, ``log P(a) − log P(b)`` of the pair's two candidates
    at ``[MASK]`` (``log P(a)`` with one candidate, e.g. the occupation of the
    gender–occupation suite); with a classifier, the probability of class ``label``.

    Parameters
    ----------
    model
        A model loaded with ``head="mlm"`` or ``head="classifier"``.
    suite
        ``"agreement"``, ``"gender-occupation"``, ``"pronoun"`` or a suite JSONL file (see
        :func:`~bertology.analyses.patching.pairs.suite_pairs`); pairs that do not fit the
        tokenizer (unequal token lengths, candidates of several tokens) are left out and
        counted in ``meta["n_skipped"]``. Ignored when ``pairs`` is given.
    pairs
        Your own minimal pairs: ``(base, counterfactual)`` for a classifier,
        ``(base, counterfactual, (a, b))`` for a masked LM, or
        :class:`~bertology.analyses.patching.pairs.MinimalPair` objects.
    components
        ``"resid"`` (the residual stream — hidden state ``k`` at one token position),
        ``"heads"`` (one head's output ``layers.{i}.attn.heads`` at every position) or both.
    positions
        ``"all"`` or the token positions patched for ``resid`` (negative from the end).
    label
        Class read from a classifier.
    batch_size
        Patched copies per forward pass (also pairs per clean forward pass).
    batched
        ``False`` runs one forward pass per patched component with
        :func:`~bertology.set_from` (the slow reference; same numbers).
    progress
        Show progress bars.

    Returns
    -------
    PatchingResult

    Raises
    ------
    InputError
        Bad options; a user's pair of unequal token length, without one ``[MASK]`` or with a
        candidate of several tokens (the pair is named); a suite with no usable pair.
    ModelError
        A model with neither a masked-LM nor a classification head.

    Examples
    --------
    >>> import bertology as bt, tempfile, pathlib
    >>> from tests.tiny_models import build_context_mlm
    >>> m = bt.load_model(str(build_context_mlm("bert", pathlib.Path(tempfile.mkdtemp()))), head="mlm")
    >>> r = bt.patch(m, pairs=[("the boy [MASK] here", "the boys [MASK] here", ("is", "are"))], progress=False)
    >>> r.to_frame().groupby("layer").size().tolist()
    [6, 6, 6, 6]
    """
    chosen = check_patch_arguments(components, positions, batch_size, label)
    listed = resolve_pairs(suite, pairs)
    encoded = encode_pairs(model, listed, strict=pairs is not None)
    if metric_kind(model) == "classifier" and not 0 <= label < int(model.model.config.num_labels):
        raise InputError(f"label={label} is out of range: the classifier has {model.model.config.num_labels} classes.")
    effects, pair_table = [], None
    with torch.inference_mode():
        for kind in chosen:
            jobs = make_jobs(model, encoded, kind, positions)
            names = [Components(kind, jobs.layer, jobs.slot).name(layer, model.num_layers)
                     for layer in range(model.num_layers + (kind == "resid"))]
            metrics, caches = clean_runs(model, encoded, names, label, batch_size, progress)
            if batched:
                values = patched_runs(model, encoded, kind, jobs, caches, label, batch_size, progress)
            else:
                values = patched_runs_one_by_one(model, encoded, kind, jobs, caches, label, progress)
            frame, pair_table = _tables(model, encoded, kind, positions, metrics, values, jobs)
            effects.append(frame)
    metric = "probability" if metric_kind(model) == "classifier" else (
        "logprob_diff" if (encoded.targets[:, 1] >= 0).all() else "logprob")
    meta = {"model": model.name, "suite": None if suite is None or pairs is not None else str(suite),
            "metric": metric, "components": chosen, "positions": positions if isinstance(positions, str)
            else [int(p) for p in positions], "label": label if metric == "probability" else None,
            "n_pairs": len(encoded.pairs), "n_skipped": len(encoded.skipped),
            "skipped": [f"{pair}: {reason}" for pair, reason in encoded.skipped[:20]]}
    return PatchingResult(pd.concat(effects, ignore_index=True), pair_table, meta)
