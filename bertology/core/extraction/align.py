"""Tokenize a corpus and align target words to word-pieces through character offsets."""

from __future__ import annotations

import itertools
import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from bertology.core.errors import InputError

_WORD = re.compile(r"\S+")
OnError = Literal["raise", "skip"]


def word_char_span(text: str, word_index: int) -> tuple[int, int]:
    """Character span of the ``word_index``-th whitespace-separated word of ``text``.

    This is how CoarseWSD-20's ``word_pos`` is defined (Loureiro et al. 2021): a 0-based
    index into the whitespace-split sentence, not a sub-word index.

    Parameters
    ----------
    text
        The sentence.
    word_index
        0-based index into ``text.split()``; negative indices count from the end.

    Returns
    -------
    tuple of int
        ``(start, end)`` character offsets.

    Raises
    ------
    InputError
        If the sentence has no word at that index.

    Examples
    --------
    >>> word_char_span("the bank's vault", 1)
    (4, 10)
    """
    spans = [match.span() for match in _WORD.finditer(text)]
    if not -len(spans) <= word_index < len(spans):
        raise InputError(
            f"Word index {word_index} is out of range: the sentence has {len(spans)} whitespace-separated words "
            f"(indices 0..{len(spans) - 1}): {text[:80]!r}. Word indices count whitespace-split words from 0."
        )
    return spans[word_index]


@dataclass
class EncodedCorpus:
    """A tokenized corpus with per-item target-word token ranges.

    Attributes
    ----------
    input_ids
        Token ids per item, special tokens included.
    lengths
        Token count per item.
    word_tokens
        ``(first, stop)`` token range of each item's target word, or ``None``.
    all_word_tokens
        With ``encode_corpus(..., all_words=True)``: per item, the ``(n_words, 2)``
        ``[first, stop)`` token ranges of every whitespace-separated word.
    special_masks
        Per item, 1 for the tokens the tokenizer added (``[CLS]``, ``[SEP]``...), 0 for
        tokens of the text (an ``[UNK]`` or a literal ``[MASK]`` in the text counts as text).
    skipped
        ``{item index: reason}`` for items dropped with ``on_error="skip"``.
    truncated
        Indices of items cut to the model's length limit.
    sequence
        ``(n_items,)`` int: items with the same text share one encoding and carry the same
        number (numbered in order of first appearance), so one forward pass serves them all.
    """

    input_ids: list[list[int]]
    lengths: np.ndarray
    word_tokens: list[tuple[int, int] | None]
    special_masks: list[list[int]] = field(default_factory=list)
    all_word_tokens: list[np.ndarray] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    truncated: list[int] = field(default_factory=list)
    sequence: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def subset(self, rows: np.ndarray) -> EncodedCorpus:
        """The items ``rows`` as a corpus of their own (items renumbered from 0; skips and truncations dropped).

        Examples
        --------
        >>> from bertology import load_model
        >>> enc = encode_corpus(load_model("minilm").tokenizer, ["a b", "c", "a b"], 512, words=[0, 0, 1])
        >>> enc.subset(np.array([2, 1])).word_tokens
        [(2, 3), (1, 2)]
        """
        rows = np.asarray(rows, dtype=np.int64).tolist()
        return EncodedCorpus(
            input_ids=[self.input_ids[row] for row in rows], lengths=self.lengths[rows],
            word_tokens=[self.word_tokens[row] for row in rows],
            special_masks=[self.special_masks[row] for row in rows],
            all_word_tokens=[self.all_word_tokens[row] for row in rows] if self.all_word_tokens else [],
            sequence=self.sequence[rows] if len(self.sequence) == len(self.lengths) else np.arange(len(rows)),
        )

    def sequences(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """The distinct encodings: a representative item of each, and the items of each (in input order).

        Returns
        -------
        tuple
            ``(first, members)``: ``first[g]`` is the first item of sequence ``g``,
            ``members[g]`` all its items.

        Examples
        --------
        >>> from bertology import load_model
        >>> enc = encode_corpus(load_model("minilm").tokenizer, ["a b", "c", "a b"], 512, words=[0, 0, 1])
        >>> first, members = enc.sequences()
        >>> first.tolist(), [m.tolist() for m in members]
        ([0, 1], [[0, 2], [1]])
        """
        sequence = self.sequence if len(self.sequence) == len(self.lengths) else np.arange(len(self.lengths))
        order = np.argsort(sequence, kind="stable")
        starts = np.flatnonzero(np.diff(sequence[order], prepend=-1))
        return order[starts], np.split(order, starts[1:])


def as_integer(value: object) -> int | None:
    """``value`` as an ``int`` when it is an integer (Python or NumPy, not a bool), else ``None``.

    Examples
    --------
    >>> as_integer(3), as_integer(np.int64(2)), as_integer(1.7), as_integer("x"), as_integer(True)
    (3, 2, None, None, None)
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    return None


def _check_texts(texts: Sequence[str]) -> None:
    if isinstance(texts, str):
        raise InputError("texts must be a list of strings, not one string: wrap it as [text].")
    if len(texts) == 0:
        raise InputError("The input is empty: pass at least one text.")
    for index, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"Item {index} is empty or not a string ({text!r}): every item needs text.")


def _word_span(text: str, word: object, index: int) -> tuple[int, int]:
    position = as_integer(word)
    if position is None:
        raise InputError(f"Item {index}: word index {word!r} is not an integer: give the 0-based position of the "
                         "target word in the whitespace-split text (e.g. CoarseWSD-20 word_pos).")
    if position < 0:
        raise InputError(f"Item {index}: word index {position} is negative: word indices count the "
                         "whitespace-split words from 0 at the start of the text; give the word's position.")
    try:
        return word_char_span(text, position)
    except InputError as error:
        raise InputError(f"Item {index}: {error}") from None


def _checked_span(text: str, span: object, index: int) -> tuple[int, int]:
    try:
        start, end = (as_integer(value) for value in span)
    except (TypeError, ValueError):
        start = end = None
    if start is None or end is None:
        raise InputError(f"Item {index}: span {span!r} is not a pair of integer character offsets (start, end).")
    if not 0 <= start < end <= len(text):
        raise InputError(f"Item {index}: character span ({start}, {end}) is not inside the text "
                         f"of length {len(text)}: {text[:80]!r}.")
    return start, end


def target_spans(texts: Sequence[str], words: Sequence[int] | None = None,
                 spans: Sequence[tuple[int, int]] | None = None) -> list[tuple[int, int] | None]:
    """Character span of each text's target word, from word indices or spans, checked against the texts.

    Parameters
    ----------
    texts
        Sentences, one per item.
    words
        Per item, the 0-based whitespace word index of the target word (an integer, not negative).
    spans
        Per item, the ``(start, end)`` character span of the target word.

    Returns
    -------
    list
        ``(start, end)`` per item, or ``None`` per item when neither is given.

    Raises
    ------
    InputError
        For an empty corpus or text, both or mismatched targets, a word index that is not a
        non-negative integer inside the text, or a span outside its text.

    Examples
    --------
    >>> target_spans(["the bank's vault"], words=[1])
    [(4, 10)]
    >>> target_spans(["a b"], words=[1.7])  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: Item 0: word index 1.7 is not an integer: ...
    """
    _check_texts(texts)
    if words is not None and spans is not None:
        raise InputError("Pass either words= (whitespace word indices) or spans= (character spans), not both.")
    targets = words if words is not None else spans
    if targets is None:
        return [None] * len(texts)
    if isinstance(targets, (str, bytes)) or not hasattr(targets, "__len__"):
        raise InputError(f"Target words/spans must be a list with one entry per text, got {type(targets).__name__}.")
    if len(targets) != len(texts):
        raise InputError(f"Got {len(texts)} texts but {len(targets)} target words/spans: give one per text.")
    if words is not None:
        return [_word_span(text, word, index) for index, (text, word) in enumerate(zip(texts, words))]
    return [_checked_span(text, span, index) for index, (text, span) in enumerate(zip(texts, spans))]


def _encode_batch(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]) -> list:
    """Rust ``tokenizers`` encodings (ids, offsets, special-token mask) of ``texts``, untruncated and unpadded.

    Calls the fast tokenizer's backend directly: the same encodings as ``tokenizer(texts)``
    without building per-item Python dictionaries. The backend's truncation and padding
    settings are restored afterwards.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise InputError(f"{type(tokenizer).__name__} is a slow (Python) tokenizer; word alignment needs a fast "
                         "one: load the model with use_fast=True or from a checkpoint with tokenizer.json.")
    truncation, padding = backend.truncation, backend.padding
    backend.no_truncation()
    backend.no_padding()
    try:
        return backend.encode_batch(list(texts), add_special_tokens=True)
    finally:
        if truncation is not None:
            backend.enable_truncation(**truncation)
        if padding is not None:
            backend.enable_padding(**padding)


def encode_corpus(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    max_length: int,
    words: Sequence[int] | None = None,
    spans: Sequence[tuple[int, int]] | None = None,
    truncate: bool = False,
    on_error: OnError = "raise",
    all_words: bool = False,
) -> EncodedCorpus:
    """Tokenize texts and locate each target word's word-pieces.

    Parameters
    ----------
    tokenizer
        A fast tokenizer (offsets are needed).
    texts
        Sentences, one per item.
    max_length
        Token limit of the model (special tokens included).
    words
        Per item, the 0-based whitespace word index of the target word.
    spans
        Per item, the ``(start, end)`` character span of the target word.
    truncate
        Cut over-long items to ``max_length`` (recorded in ``truncated``) instead of raising.
    on_error
        ``"raise"`` (default) or ``"skip"`` for an item whose target word was cut by
        truncation; skipped items are listed with the reason.
    all_words
        Also locate every whitespace-separated word of every item (``all_word_tokens``).

    Returns
    -------
    EncodedCorpus

    Raises
    ------
    InputError
        Empty corpus, empty text, a text with no content tokens (only characters the
        tokenizer drops, such as zero-width spaces), a word index that is not a
        non-negative integer inside its text, an item longer than the model allows
        (without ``truncate``), or a target word cut by truncation.

    Examples
    --------
    >>> from bertology import load_model
    >>> tok = load_model("minilm").tokenizer
    >>> enc = encode_corpus(tok, ["the bank's vault"], max_length=512, words=[1])
    >>> enc.word_tokens
    [(2, 5)]
    """
    targets = target_spans(texts, words, spans)
    numbers: dict[str, int] = {}
    sequence = np.fromiter((numbers.setdefault(text, len(numbers)) for text in texts), dtype=np.int64,
                           count=len(texts))
    corpus = EncodedCorpus(input_ids=[[] for _ in texts], lengths=np.zeros(len(texts), dtype=np.int64),
                           word_tokens=[None] * len(texts), special_masks=[[] for _ in texts],
                           all_word_tokens=[np.zeros((0, 2), dtype=np.int64)] * len(texts) if all_words else [],
                           sequence=sequence)
    first, members = corpus.sequences()
    for index, items, encoded in zip(first.tolist(), members, _encode_batch(tokenizer, [texts[i] for i in first])):
        ids, special_mask = encoded.ids, encoded.special_tokens_mask
        if 0 not in special_mask:
            raise InputError(f"Item {index} has no content tokens: the tokenizer drops every character of "
                             f"{texts[index][:80]!r} (e.g. zero-width spaces), so only special tokens are left; "
                             "remove the item or give it real text.")
        truncated = len(ids) > max_length
        if truncated:
            if not truncate:
                raise InputError(
                    f"Item {index} has {len(ids)} tokens but the model accepts at most {max_length}: "
                    f"{texts[index][:60]!r}... Pass truncate=True (CLI: --truncate) to cut it, or shorten it."
                )
            ids = ids[:max_length - 1] + [ids[-1]]
            special_mask = special_mask[:max_length - 1] + [special_mask[-1]]
            corpus.truncated.extend(items.tolist())
        with_target = [item for item in items.tolist() if targets[item] is not None]
        if with_target or all_words:
            offsets = np.asarray(encoded.offsets, dtype=np.int64).reshape(-1, 2)
            special = np.asarray(special_mask, dtype=bool)
            if truncated:
                offsets = np.concatenate([offsets[:max_length - 1], offsets[-1:]])
        if all_words:
            every = _every_word_tokens(texts[index], index, offsets, special)
            for item in items.tolist():
                corpus.all_word_tokens[item] = every
        if with_target:
            spans_here = np.array([targets[item] for item in with_target], dtype=np.int64)
            ranges = _token_ranges(offsets, special, spans_here)
            for item, (start, end), (first_token, stop) in zip(with_target, spans_here.tolist(), ranges.tolist()):
                cut = truncated and (first_token < 0 or offsets[stop - 1, 1] < end)
                if cut or first_token < 0:
                    reason = (f"target word {texts[item][start:end]!r} was cut by truncation to {max_length} tokens"
                              if cut else f"target word {texts[item][start:end]!r} produced no tokens")
                    if on_error == "raise":
                        raise InputError(f"Item {item}: {reason}. Pass on_error='skip' (CLI: --skip-bad) "
                                         "to skip such items with a count.")
                    corpus.skipped[item] = reason
                else:
                    corpus.word_tokens[item] = (int(first_token), int(stop))
        for item in items.tolist():
            corpus.input_ids[item] = ids
            corpus.special_masks[item] = special_mask
            corpus.lengths[item] = len(ids)
    corpus.truncated.sort()
    corpus.skipped = dict(sorted(corpus.skipped.items()))
    return corpus


def _token_ranges(offsets: np.ndarray, special: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """``(n_spans, 2)`` ``[first, stop)`` ranges of the non-special tokens overlapping each character span.

    A span that no token overlaps gets ``(-1, -1)``.
    """
    hits = (offsets[None, :, 0] < spans[:, 1, None]) & (offsets[None, :, 1] > spans[:, 0, None]) & ~special[None]
    first = hits.argmax(axis=1)
    stop = hits.shape[1] - hits[:, ::-1].argmax(axis=1)
    return np.where(hits.any(axis=1)[:, None], np.stack([first, stop], axis=1), -1)


def _every_word_tokens(text: str, index: int, offsets: np.ndarray, special: np.ndarray) -> np.ndarray:
    spans = np.array([match.span() for match in _WORD.finditer(text)], dtype=np.int64).reshape(-1, 2)
    ranges = _token_ranges(offsets, special, spans)
    missing = np.flatnonzero(ranges[:, 0] < 0)
    if missing.size:
        start, end = spans[missing[0]]
        raise InputError(f"Item {index}: word {text[start:end]!r} has no tokens (cut by truncation, or dropped by "
                         "the tokenizer): shorten or clean the text.")
    return ranges


def pad_sequences(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token id sequences into one batch.

    Parameters
    ----------
    sequences
        Token ids per item.
    pad_id
        The tokenizer's padding id.

    Returns
    -------
    tuple of torch.Tensor
        ``(ids (batch, width) long, attention (batch, width) bool)``.

    Examples
    --------
    >>> ids, attention = pad_sequences([[5, 6, 7], [8]], pad_id=0)
    >>> ids.tolist(), attention.sum(1).tolist()
    ([[5, 6, 7], [8, 0, 0]], [3, 1])
    """
    lengths = np.fromiter((len(sequence) for sequence in sequences), dtype=np.int64, count=len(sequences))
    attention = np.arange(lengths.max()) < lengths[:, None]
    ids = np.full(attention.shape, pad_id, dtype=np.int64)
    ids[attention] = np.fromiter(itertools.chain.from_iterable(sequences), dtype=np.int64, count=int(lengths.sum()))
    return torch.from_numpy(ids), torch.from_numpy(attention)


def length_sorted_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Split item indices into batches of similar length (cuts padding).

    Parameters
    ----------
    lengths
        Token count per item.
    batch_size
        Items per batch.

    Returns
    -------
    list of numpy.ndarray
        Index arrays, longest batch first; together a permutation of ``range(len(lengths))``.

    Examples
    --------
    >>> [b.tolist() for b in length_sorted_batches(np.array([3, 9, 4, 8]), 2)]
    [[1, 3], [2, 0]]
    """
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}.")
    order = np.argsort(-np.asarray(lengths), kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
