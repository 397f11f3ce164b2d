"""``extract``: pooled per-layer activations for a corpus, streamed into an ActivationStore."""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bertology.core.distributed import RankInfo, barrier, rank_info
from bertology.core.errors import InputError
from bertology.core.extraction.align import (
    EncodedCorpus,
    OnError,
    as_integer,
    encode_corpus,
    length_sorted_batches,
    pad_sequences,
    target_spans,
)
from bertology.core.extraction.pooling import WORD_POOLINGS, PoolingInputs, pool_layers, resolve_pooling
from bertology.core.extraction.store import DTYPES, ActivationStore, StoreWriter
from bertology.core.hooks import hidden_state_name, trace
from bertology.core.hooks.names import hidden_index
from bertology.core.manifest import content_hash, package_versions
from bertology.core.models import LoadedModel
from bertology.core.paths import check_output
from bertology.core.progress import progress_bar

logger = logging.getLogger(__name__)

Layers = str | int | Sequence[int]
_LAYER_PART = re.compile(r"(?P<low>\d+)-(?P<high>\d+)|-?\d+")


def parse_layers(layers: Layers) -> list[int] | str:
    """The indices ``layers`` asks for, before they are checked against a model: ``"all"`` or a list.

    Parameters
    ----------
    layers
        ``"all"``, one index, several indices (negative ones count from the end), or a
        comma-separated string of indices and ``low-high`` ranges.

    Returns
    -------
    list of int or str
        ``"all"``, or the indices in the order given (ranges expanded).

    Raises
    ------
    InputError
        For text that is not indices or ranges, an empty range, or a value that is not a
        whole number.

    Examples
    --------
    >>> parse_layers("0, 2-4"), parse_layers(-1), parse_layers("all")
    ([0, 2, 3, 4], [-1], 'all')
    >>> parse_layers("1-x")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: Cannot read layers '1-x': '1-x' is not a layer index or a range ...
    """
    usage = "use 'all', '6', '0,3,6' or '2-4'"
    if isinstance(layers, str):
        if layers.strip() == "all":
            return "all"
        items: list[int] = []
        for part in filter(None, (piece.strip() for piece in layers.split(","))):
            match = _LAYER_PART.fullmatch(part)
            if match is None:
                raise InputError(f"Cannot read layers {layers!r}: {part!r} is not a layer index or a range "
                                 f"low-high; {usage}.")
            if match["low"] is None:
                items.append(int(part))
                continue
            low, high = int(match["low"]), int(match["high"])
            if low > high:
                raise InputError(f"Cannot read layers {layers!r}: the range {part!r} is empty; write the lower "
                                 f"index first, e.g. '{high}-{low}'.")
            items.extend(range(low, high + 1))
        return items
    single = as_integer(layers)
    if single is not None:
        return [single]
    parsed = [as_integer(value) for value in layers] if isinstance(layers, Sequence) else [None]
    if None in parsed:
        raise InputError(f"Cannot read layers {layers!r}: give 'all', an integer index, a list of integer "
                         f"indices or a string; {usage}.")
    return parsed


def resolve_layers(layers: Layers, num_layers: int) -> list[int]:
    """Hidden-state indices from ``"all"``, an int, a list, or a string like ``"0,3,6"``/``"2-4"``.

    Parameters
    ----------
    layers
        ``"all"``, one index, several indices (negative ones count from the end), or a
        comma-separated string with ``a-b`` ranges (see :func:`parse_layers`).
    num_layers
        Transformer layers of the model (hidden states are ``0..num_layers``).

    Returns
    -------
    list of int
        Sorted, unique, non-negative indices.

    Raises
    ------
    InputError
        For an index outside ``0..num_layers``, or text :func:`parse_layers` cannot read.

    Examples
    --------
    >>> resolve_layers("all", 2), resolve_layers(-1, 6), resolve_layers("0,2-3", 6)
    ([0, 1, 2], [6], [0, 2, 3])
    """
    parsed = parse_layers(layers)
    if parsed == "all":
        return list(range(num_layers + 1))
    resolved = [hidden_index(layer, num_layers) for layer in parsed]
    if not resolved:
        raise InputError("No layers requested: pass 'all' or at least one layer index.")
    return sorted(set(resolved))


def check_extract_arguments(texts: Sequence[str], layers: Layers = "all", pool: str = "cls",
                            words: Sequence[int] | None = None, spans: Sequence[tuple[int, int]] | None = None,
                            dtype: str = "float32", batch_size: int = 32) -> str:
    """Check the arguments of :func:`extract` that need no model; returns the canonical pooling name.

    Called before a model loads, so that a bad value costs nothing.

    Raises
    ------
    InputError
        For an unknown pooling or dtype, word pooling without words, unreadable layers, a
        batch size below 1, an empty text, or a word index or span that does not fit its text.

    Examples
    --------
    >>> check_extract_arguments(["the bank"], layers="0,6", pool="word", words=[1])
    'word_mean'
    >>> check_extract_arguments(["the bank"], pool="word", words=[-1])  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: Item 0: word index -1 is negative: ...
    """
    pooling = resolve_pooling(pool)
    if pooling in WORD_POOLINGS and words is None and spans is None:
        raise InputError(f"pool={pool!r} needs target words: pass words= (whitespace word indices, e.g. CoarseWSD-20 "
                         "word_pos) or spans= (character spans). CLI: --word-column.")
    if dtype not in DTYPES:
        raise InputError(f"dtype={dtype!r} is not supported on disk: choose {' or '.join(DTYPES)}.")
    if as_integer(batch_size) is None or batch_size < 1:
        raise InputError(f"batch_size must be an integer of at least 1, got {batch_size!r}.")
    parse_layers(layers)
    target_spans(texts, words, spans)
    return pooling


def batch_tensors(model: LoadedModel, corpus: EncodedCorpus, rows: np.ndarray,
                  shared: bool = False) -> tuple[dict[str, torch.Tensor], PoolingInputs]:
    """Padded model inputs and pooling masks for the items ``rows`` of an encoded corpus.

    Parameters
    ----------
    model
        The loaded model (its tokenizer gives the pad id and special tokens).
    corpus
        Output of :func:`~bertology.core.extraction.align.encode_corpus`.
    rows
        Item indices of the batch.
    shared
        Items with the same text (``corpus.sequence``) share one row of the inputs: the
        masks then have one row per item and ``PoolingInputs.sequence`` names each item's
        input row, so :func:`~bertology.core.extraction.pooling.pool_layers` pools every
        item from one forward pass per distinct text.

    Returns
    -------
    tuple
        ``(inputs for model(**inputs), PoolingInputs)``, on the model's device.

    Examples
    --------
    >>> from bertology import load_model
    >>> from bertology.core.extraction.align import encode_corpus
    >>> m = load_model("minilm")
    >>> enc = encode_corpus(m.tokenizer, ["a b", "a b c d"], max_length=512)
    >>> inputs, masks = batch_tensors(m, enc, np.array([0, 1]))
    >>> inputs["input_ids"].shape, masks.content_mask.sum(1).tolist()
    (torch.Size([2, 6]), [2, 4])
    >>> enc = encode_corpus(m.tokenizer, ["a b", "a b", "c"], max_length=512, words=[0, 1, 0])
    >>> inputs, masks = batch_tensors(m, enc, np.array([0, 1, 2]), shared=True)
    >>> inputs["input_ids"].shape, masks.sequence.tolist()
    (torch.Size([2, 4]), [0, 0, 1])
    """
    rows = np.asarray(rows)
    inverse = None
    sources = rows
    if shared and len(corpus.sequence) == len(corpus.lengths):
        _, first, positions = np.unique(corpus.sequence[rows], return_index=True, return_inverse=True)
        if len(first) < len(rows):
            sources, inverse = rows[first], torch.from_numpy(positions.astype(np.int64))
    tokenizer = model.tokenizer
    ids, attention = pad_sequences([corpus.input_ids[row] for row in sources], tokenizer.pad_token_id)
    special, _ = pad_sequences([corpus.special_masks[row] for row in sources], 1)
    content = attention & (special == 0)
    if inverse is not None:
        attention_items, content_items = attention[inverse], content[inverse]
    else:
        attention_items, content_items = attention, content
    spans = np.array([corpus.word_tokens[row] or (0, 0) for row in rows], dtype=np.int64).reshape(-1, 2)
    positions_in_row = np.arange(attention.shape[1])
    word = torch.from_numpy((positions_in_row >= spans[:, :1]) & (positions_in_row < spans[:, 1:]))
    device = model.device
    inputs = {"input_ids": ids.to(device), "attention_mask": attention.long().to(device)}
    if model.adapter.uses_token_type_ids:
        inputs["token_type_ids"] = torch.zeros_like(inputs["input_ids"])
    has_words = any(corpus.word_tokens[row] is not None for row in rows)
    masks = PoolingInputs(attention_items.to(device), content_items.to(device), word.to(device) if has_words else None,
                          None if inverse is None else inverse.to(device))
    return inputs, masks


def extract(
    model: LoadedModel,
    texts: Sequence[str],
    layers: Layers = "all",
    pool: str = "cls",
    words: Sequence[int] | None = None,
    spans: Sequence[tuple[int, int]] | None = None,
    batch_size: int = 32,
    out: str | Path | None = None,
    dtype: str = "float32",
    truncate: bool = False,
    on_error: OnError = "raise",
    overwrite: bool = False,
    progress: bool = True,
    rank: RankInfo | None = None,
) -> ActivationStore:
    """Extract pooled per-layer activations for a corpus into an on-disk store.

    Items are tokenized once, grouped into length-sorted batches (padding cut, original
    order restored on disk), run under ``torch.inference_mode`` with hooks that stop the
    forward pass after the deepest requested layer, pooled on the fly and streamed to
    disk: memory does not grow with the corpus. Items with the same text (several target
    words of one sentence) share one tokenization and one forward pass. An interrupted run
    resumes where it stopped; a store made with a different request is refused unless
    ``overwrite``.

    Parameters
    ----------
    model
        From :func:`bertology.load_model`.
    texts
        Sentences.
    layers
        Hidden-state indices: ``"all"`` (0..L), an int, a list, or ``"0,3,6"``/``"2-4"``.
        0 is the embedding output, ``k`` the output of layer ``k``.
    pool
        ``"cls"``, ``"mean"`` (padding excluded), ``"first"``, ``"last"`` (non-special
        tokens), ``"word_mean"`` (alias ``"word"``) or ``"word_first"``.
    words
        Per text, the 0-based index of the target word in the whitespace-split text
        (CoarseWSD-20's ``word_pos``, Loureiro et al. 2021). Needed by word poolings.
    spans
        Per text, the target word's ``(start, end)`` character span (instead of ``words``).
    batch_size
        Distinct texts per forward pass.
    out
        Output directory; ``None`` uses a new temporary directory, removed when the returned
        store is no longer referenced (arrays already read from it stay valid).
    dtype
        ``"float32"`` or ``"float16"`` on disk.
    truncate
        Cut texts longer than the model allows (recorded in the manifest) instead of raising.
    on_error
        ``"raise"`` or ``"skip"`` items whose target word was cut by truncation (counted
        and listed in ``store.skipped``; their rows stay zero and ``store.valid`` is False).
    overwrite
        Replace an existing store made with a different request, or a damaged one.
    progress
        Show a progress bar.
    rank
        This process's place in a multi-process launch; ``None`` reads it from the
        environment that ``torchrun`` / ``accelerate launch`` set. With several ranks,
        rank ``r`` runs the length-sorted batches ``r, r + world_size, ...`` and writes
        their rows into the shared store files: the store is byte-identical to a
        single-process run, and a re-run redoes only batches no rank finished. Rank 0
        holds the store's lock (``writer.lock``) for the whole job.

    Returns
    -------
    ActivationStore
        ``store[layer]`` is an ``(len(texts), hidden_size)`` array.

    Raises
    ------
    InputError
        Empty input, a text with no content tokens, bad word index, over-long text, unknown
        pooling, word pooling without words, unreadable layers, an output that cannot be written.
    StoreError
        ``out`` holds a different extraction or a damaged store and ``overwrite`` is false, or
        another process is writing it.

    Examples
    --------
    >>> import bertology as bt
    >>> m = bt.load_model("minilm")
    >>> s = bt.extract(m, ["the bank of the river", "the bank raised rates"], pool="word", words=[1, 1],
    ...                progress=False)
    >>> s[-1].shape
    (2, 384)
    """
    pooling = check_extract_arguments(texts, layers, pool, words, spans, dtype, batch_size)
    if out is not None:
        check_output(out)
    hidden_indices = resolve_layers(layers, model.num_layers)
    corpus = encode_corpus(model.tokenizer, texts, model.max_length, words=words, spans=spans, truncate=truncate,
                           on_error=on_error)
    request = {
        "layers": hidden_indices, "pool": pooling, "dtype": dtype, "n_items": len(texts), "batch_size": batch_size,
        "truncate": truncate, "on_error": on_error, "max_length": model.max_length,
        "input_sha256": content_hash({"texts": list(texts), "words": None if words is None else [int(w) for w in words],
                                      "spans": None if spans is None else [list(map(int, s)) for s in spans]}),
        "model_weights_sha256": model.weights_sha256, "model_source": model.source,
    }
    manifest: dict[str, Any] = {
        "kind": "activation_store", "request": request, "model": model.describe(),
        "tokenizer": type(model.tokenizer).__name__, "packages": package_versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    info = rank_info() if rank is None else rank
    finish = {"skipped": {str(k): v for k, v in corpus.skipped.items()}, "truncated": corpus.truncated}
    return fill_store(out, model, corpus, manifest, pooling, overwrite, info, progress, finish)


def fill_store(out: str | Path | None, model: LoadedModel, corpus: EncodedCorpus, manifest: dict[str, Any],
               pooling: str, overwrite: bool, info: RankInfo, progress: bool,
               finish: dict[str, Any]) -> ActivationStore:
    """Extract ``corpus`` into the store at ``out`` (a temporary one when ``None``) and open it.

    One forward pass per distinct text in length-sorted batches of ``batch_size`` texts,
    every item pooled from its text's pass; resumes an interrupted store with the same
    request. ``finish`` is added to the manifest on completion. A temporary store is
    removed when the returned object is no longer referenced, or at once on failure.
    """
    if out is not None:
        _fill_store(Path(out), model, corpus, manifest, pooling, overwrite, info, progress, finish)
        return ActivationStore(out)
    directory = Path(tempfile.mkdtemp(prefix="bertology-store-"))
    try:
        _fill_store(directory, model, corpus, manifest, pooling, overwrite, info, progress, finish)
        store = ActivationStore(directory)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    weakref.finalize(store, shutil.rmtree, directory, ignore_errors=True)
    return store


def sentence_batches(corpus: EncodedCorpus, batch_size: int) -> list[np.ndarray]:
    """Item indices per forward pass: ``batch_size`` distinct texts, longest first, with all their items.

    With distinct texts this is :func:`~bertology.core.extraction.align.length_sorted_batches`.

    Examples
    --------
    >>> from bertology import load_model
    >>> enc = encode_corpus(load_model("minilm").tokenizer, ["a", "b c d", "a"], 512)
    >>> [b.tolist() for b in sentence_batches(enc, 1)]
    [[1], [0, 2]]
    """
    first, members = corpus.sequences()
    return [np.concatenate([members[g] for g in groups])
            for groups in length_sorted_batches(corpus.lengths[first], batch_size)]


def _fill_store(directory: Path, model: LoadedModel, corpus: EncodedCorpus, manifest: dict[str, Any], pooling: str,
                overwrite: bool, info: RankInfo, progress: bool, finish: dict[str, Any]) -> None:
    """Run the batches this rank owns and no rank finished into the store at ``directory``, and finish it."""
    request = manifest["request"]
    hidden_indices = request["layers"]
    if info.rank == 0:
        writer = StoreWriter(directory, manifest, model.hidden_size, overwrite=overwrite)
    try:
        barrier(info)
        if info.rank != 0:
            writer = StoreWriter(directory, manifest, model.hidden_size, rank=info.rank, create=False)
        batches = sentence_batches(corpus, request["batch_size"])
        owned = {batch_id: rows for batch_id, rows in enumerate(batches)
                 if batch_id % info.world_size == info.rank and not all(int(r) in corpus.skipped for r in rows)}
        writer.forget_unwritten(owned, corpus.skipped)
        pending = [(batch_id, rows) for batch_id, rows in owned.items() if batch_id not in writer.done]
        if writer.done:
            logger.info("Resuming %s: %d of %d batches already done.", directory, len(writer.done), len(batches))
        names = [hidden_state_name(index, model.num_layers) for index in hidden_indices]
        bar = progress_bar(pending, total=len(pending), desc=f"extract (rank {info.rank})" if info.is_distributed
                           else "extract", unit="batch", progress=progress)
        with torch.inference_mode(), writer:
            for batch_id, rows in bar:
                rows = rows[~np.isin(rows, np.fromiter(corpus.skipped, dtype=np.int64, count=len(corpus.skipped)))]
                inputs, masks = batch_tensors(model, corpus, rows, shared=True)
                with trace(model, names, stop=True) as cache:
                    model(**inputs)
                pooled = pool_layers([cache[name].float() for name in names], masks, pooling).cpu().numpy()
                writer.write_batch(batch_id, rows, dict(zip(hidden_indices, pooled)))
        if corpus.skipped:
            logger.warning("Skipped %d of %d items: %s", len(corpus.skipped), request["n_items"],
                           "; ".join(f"{i}: {r}" for i, r in list(corpus.skipped.items())[:3]))
        barrier(info)
        if info.rank == 0:
            writer.finish({**finish, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                           "world_size": info.world_size})
        barrier(info)
    finally:
        if info.rank == 0:
            writer.release()
