"""Batched scoring of masked copies: many masked versions of many sentences in few forward passes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from bertology.core.extraction import length_sorted_batches, pad_sequences
from bertology.core.models import LoadedModel
from bertology.core.progress import progress_bar


@dataclass(frozen=True)
class MaskedCopy:
    """One masked version of a tokenized sequence and the token read from it.

    Attributes
    ----------
    sequence
        Index of the tokenized sequence it copies.
    masked
        Token positions replaced by the mask token.
    read
        Position whose prediction is read (usually one of ``masked``).
    target
        Vocabulary id whose log-probability is returned.
    """

    sequence: int
    masked: tuple[int, ...]
    read: int
    target: int


def _read_hook(positions: list[torch.Tensor]):
    """Forward hook on the base model that keeps only the hidden state at the read position of each row."""

    def hook(module: torch.nn.Module, args: object, output: object) -> object:
        hidden = output[0]  # (batch, seq, hidden)
        rows = torch.arange(hidden.shape[0], device=hidden.device)
        output["last_hidden_state"] = hidden[rows, positions[0]].unsqueeze(1)  # (batch, 1, hidden)
        return output

    return hook


def score_copies(model: LoadedModel, sequences: Sequence[Sequence[int]], copies: Sequence[MaskedCopy],
                 max_tokens: int = 4096, progress: bool = True, top_k: int = 0
                 ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Log-probability of each copy's target at its read position, in length-sorted batches.

    Copies of similar length are stacked into batches of at most ``max_tokens`` tokens
    (padding included) and run under :func:`torch.inference_mode`. The MLM head is applied
    only at the read position of each row (a hook on the base model keeps that one hidden
    state), so the ``(batch, length, vocabulary)`` logits are never materialised.

    Parameters
    ----------
    model
        A loaded model with an MLM head.
    sequences
        Token ids per sequence, special tokens included.
    copies
        The masked copies to score.
    max_tokens
        Token budget of one forward pass (rows × padded length).
    progress
        Show a progress bar over batches.
    top_k
        Also return the ``top_k`` most probable ids and their log-probabilities per copy.

    Returns
    -------
    tuple
        ``(log_probs (n_copies,), top_ids (n_copies, top_k) or None, top_log_probs or None)``.

    Examples
    --------
    >>> import bertology as bt, tempfile
    >>> from tests.tiny_models import build_tiny_model
    >>> path = build_tiny_model("bert", "mlm", __import__("pathlib").Path(tempfile.mkdtemp()) / "m")
    >>> m = bt.load_model(str(path), head="mlm")
    >>> ids = m.tokenizer("the boys are here")["input_ids"]
    >>> score_copies(m, [ids], [MaskedCopy(0, (3,), 3, ids[3])], progress=False)[0].shape
    (1,)
    """
    tokenizer = model.tokenizer
    lengths = np.array([len(sequences[c.sequence]) for c in copies], dtype=np.int64)
    log_probs = np.zeros(len(copies), dtype=np.float64)
    top_ids = np.zeros((len(copies), top_k), dtype=np.int64) if top_k else None
    top_lp = np.zeros((len(copies), top_k), dtype=np.float64) if top_k else None
    if not copies:
        return log_probs, top_ids, top_lp
    batches = _budget_batches(lengths, max_tokens)
    positions: list[torch.Tensor] = [torch.zeros(0)]
    device = model.device
    handle = model.model.base_model.register_forward_hook(_read_hook(positions))
    try:
        with torch.inference_mode():
            for rows in progress_bar(batches, desc="cloze", unit="batch", progress=progress):
                ids, attention = pad_sequences([sequences[copies[i].sequence] for i in rows], tokenizer.pad_token_id)
                mask_rows = [row for row, i in enumerate(rows) for _ in copies[i].masked]
                mask_cols = [column for i in rows for column in copies[i].masked]
                ids[mask_rows, mask_cols] = tokenizer.mask_token_id
                inputs = {"input_ids": ids.to(device), "attention_mask": attention.long().to(device)}
                if model.adapter.uses_token_type_ids:
                    inputs["token_type_ids"] = torch.zeros_like(inputs["input_ids"])
                positions[0] = torch.as_tensor([copies[i].read for i in rows], device=device)
                logits = model.model(**inputs, return_dict=True).logits[:, 0].float()  # (batch, vocab)
                scores = torch.log_softmax(logits, dim=-1)
                targets = torch.as_tensor([copies[i].target for i in rows], device=device)
                log_probs[rows] = scores.gather(1, targets[:, None])[:, 0].double().cpu().numpy()
                if top_k:
                    values, indices = scores.topk(top_k, dim=-1)
                    top_ids[rows] = indices.cpu().numpy()
                    top_lp[rows] = values.double().cpu().numpy()
    finally:
        handle.remove()
    return log_probs, top_ids, top_lp


def _budget_batches(lengths: np.ndarray, max_tokens: int) -> list[np.ndarray]:
    """Longest-first batches whose rows × longest length stays within ``max_tokens``."""
    order = length_sorted_batches(lengths, len(lengths))[0]
    batches, start = [], 0
    while start < len(order):
        size = max(1, max_tokens // int(lengths[order[start]]))
        batches.append(order[start:start + size])
        start += size
    return batches
