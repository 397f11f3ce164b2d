"""Tokens of a text and the whitespace word each token belongs to (through character offsets)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
import torch

from bertology.analyses.attribution.classifier import Classifier
from bertology.core.errors import InputError

logger = logging.getLogger(__name__)

_WORD = re.compile(r"\S+")
PAIR_SEPARATOR = "\u2029"
BASELINES = ("pad", "mask", "unk")
"""Tokens a reference input (:func:`baseline_ids`) puts in place of every non-special token."""


@dataclass
class TokenizedText:
    """A text as the classifier sees it.

    Attributes
    ----------
    text
        The text (a pair's first segment), cut after the last kept token when it was too long.
    input_ids
        Token ids, special tokens included.
    tokens
        Token strings.
    token_words
        Per token, the index of its whitespace word in :attr:`words`, ``-1`` for special tokens.
    words
        The whitespace-separated words of ``text``, then those of ``text_pair``.
    truncated
        Whether the original text was longer than the model accepts.
    text_pair
        A sentence pair's second segment (``None`` for one sentence).
    token_type_ids
        A pair's segment id per token (``None`` for one sentence, or a tokenizer or model without them).
    word_segments
        A pair's segment (0 or 1) per word (``None`` for one sentence).
    """

    text: str
    input_ids: list[int]
    tokens: list[str]
    token_words: np.ndarray
    words: list[str]
    truncated: bool = False
    text_pair: str | None = None
    token_type_ids: list[int] | None = None
    word_segments: list[int] | None = None

    @property
    def is_pair(self) -> bool:
        """Whether this is a sentence pair."""
        return self.text_pair is not None


def tokenize_words(clf: Classifier, text: str) -> TokenizedText:
    """Tokenize ``text`` and map every token to its whitespace word.

    A token belongs to the word whose character span overlaps its offsets. A text longer
    than the model's limit is cut to the words whose tokens fit, with a warning; the
    result records ``truncated=True``.

    Parameters
    ----------
    clf
        The classifier (its tokenizer and length limit).
    text
        One sentence.

    Returns
    -------
    TokenizedText

    Raises
    ------
    InputError
        For an empty text or one that is not a string.

    Examples
    --------
    >>> import bertology as bt  # doctest: +SKIP
    >>> tokenize_words(clf, "unbelievably good").token_words.tolist()  # doctest: +SKIP
    [-1, 0, 0, 0, 1, -1]
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"Cannot attribute an empty text ({text!r}): give a sentence with at least one word.")
    encoding = clf.tokenizer(text, add_special_tokens=True, truncation=False, return_offsets_mapping=True,
                             return_special_tokens_mask=True, verbose=False)
    ids = list(encoding["input_ids"])
    offsets = np.asarray(encoding["offset_mapping"], dtype=np.int64).reshape(-1, 2)
    special = np.asarray(encoding["special_tokens_mask"], dtype=bool)
    truncated = len(ids) > clf.max_length
    if truncated:
        keep = clf.max_length - 1
        cut_at = int(offsets[:keep][~special[:keep]][:, 1].max())
        next_word = _WORD.search(text, cut_at)
        logger.warning("Text of %d tokens is longer than the model's limit of %d: attributing its first %d "
                       "characters only (recorded as truncated=True). Split long texts into sentences to "
                       "attribute all of them.", len(ids), clf.max_length, cut_at)
        text = text[:next_word.start() if next_word and next_word.start() < cut_at else cut_at]
        return _truncated(tokenize_words(clf, text))
    spans = np.array([m.span() for m in _WORD.finditer(text)], dtype=np.int64).reshape(-1, 2)
    overlap = (offsets[:, None, 0] < spans[None, :, 1]) & (offsets[:, None, 1] > spans[None, :, 0])
    token_words = np.where(overlap.any(axis=1) & ~special, overlap.argmax(axis=1), -1)
    return TokenizedText(text=text, input_ids=ids, tokens=clf.tokenizer.convert_ids_to_tokens(ids),
                         token_words=token_words, words=[text[s:e] for s, e in spans])


def tokenize_pair(clf: Classifier, first: str, second: str) -> TokenizedText:
    """Tokenize a sentence pair with the tokenizer's pair encoding and map every token to its word.

    The words are ``first``'s whitespace words, then ``second``'s; ``word_segments`` says
    which segment each belongs to, ``token_type_ids`` are the tokenizer's segment ids.

    Parameters
    ----------
    clf
        The classifier (its tokenizer and length limit).
    first, second
        The two segments (e.g. premise and hypothesis).

    Returns
    -------
    TokenizedText

    Raises
    ------
    InputError
        For an empty segment, one containing the paragraph separator U+2029, or a pair longer
        than the model accepts.

    Examples
    --------
    >>> tokenize_pair(clf, "a man", "someone").word_segments  # doctest: +SKIP
    [0, 0, 1]
    """
    for segment in (first, second):
        if not isinstance(segment, str) or not segment.strip():
            raise InputError(f"Cannot attribute a pair with an empty segment ({segment!r}): give two sentences "
                             "with at least one word each.")
        if PAIR_SEPARATOR in segment:
            raise InputError("A segment contains the paragraph separator U+2029: replace it by a space.")
    encoding = clf.tokenizer(first, second, add_special_tokens=True, truncation=False, return_offsets_mapping=True,
                             return_special_tokens_mask=True, verbose=False)
    ids = list(encoding["input_ids"])
    if len(ids) > clf.max_length:
        raise InputError(f"The pair has {len(ids)} tokens but the model accepts {clf.max_length}: shorten "
                         "its sentences.")
    offsets = np.asarray(encoding["offset_mapping"], dtype=np.int64).reshape(-1, 2)
    special = np.asarray(encoding["special_tokens_mask"], dtype=bool)
    sequence = np.array([-1 if s is None else s for s in encoding.sequence_ids()], dtype=np.int64)
    token_words = np.full(len(ids), -1, dtype=np.int64)
    words: list[str] = []
    word_segments: list[int] = []
    for index, segment in enumerate((first, second)):
        spans = np.array([m.span() for m in _WORD.finditer(segment)], dtype=np.int64).reshape(-1, 2)
        inside = (sequence == index) & ~special
        overlap = (offsets[:, None, 0] < spans[None, :, 1]) & (offsets[:, None, 1] > spans[None, :, 0])
        found = inside & overlap.any(axis=1)
        token_words[found] = overlap.argmax(axis=1)[found] + len(words)
        words += [segment[s:e] for s, e in spans]
        word_segments += [index] * len(spans)
    types = encoding.get("token_type_ids") if clf.takes_segment_ids else None
    return TokenizedText(text=first, input_ids=ids, tokens=clf.tokenizer.convert_ids_to_tokens(ids),
                         token_words=token_words, words=words, text_pair=second,
                         token_type_ids=None if types is None else list(types), word_segments=word_segments)


def tokenize_input(clf: Classifier, text: str | tuple[str, str]) -> TokenizedText:
    """:func:`tokenize_words` for one sentence, :func:`tokenize_pair` for a ``(first, second)`` tuple.

    Raises
    ------
    InputError
        For anything else (a list is not a pair: pass a tuple).

    Examples
    --------
    >>> tokenize_input(clf, ("a man", "someone")).is_pair  # doctest: +SKIP
    True
    """
    if isinstance(text, tuple):
        if len(text) != 2 or not all(isinstance(segment, str) for segment in text):
            raise InputError(f"A sentence pair is a tuple of two strings, got {len(text)} items: pass "
                             "(first, second).")
        return tokenize_pair(clf, *text)
    if not isinstance(text, str):
        raise InputError(f"attribute takes one text or a (first, second) tuple of strings, not "
                         f"{type(text).__name__}: call it once per text.")
    return tokenize_words(clf, text)


def model_inputs(clf: Classifier, tokenized: TokenizedText) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """``input_ids`` ``(1, seq)`` on the classifier's device, and the other forward arguments: the attention
    mask, and a pair's segment ids when the tokenizer has them.

    Examples
    --------
    >>> ids, args = model_inputs(clf, tokenize_words(clf, "a b"))  # doctest: +SKIP
    >>> len(args)  # doctest: +SKIP
    1
    """
    ids = torch.tensor([tokenized.input_ids], device=clf.device)
    if tokenized.token_type_ids is None:
        return ids, (torch.ones_like(ids),)
    return ids, (torch.ones_like(ids), torch.tensor([tokenized.token_type_ids], device=clf.device))


def baseline_ids(clf: Classifier, input_ids: torch.Tensor, baseline: str = "pad") -> torch.Tensor:
    """The reference input: special tokens kept, every other token replaced by ``[PAD]``/``[MASK]``/``[UNK]``.

    A sentence pair keeps its ``[CLS]`` and both ``[SEP]``; its segment ids are forward
    arguments, never replaced.

    Parameters
    ----------
    clf
        The classifier (its tokenizer names the special tokens).
    input_ids
        ``(batch, seq)`` token ids.
    baseline
        ``"pad"`` (default, ``[CLS] [PAD] … [SEP]``), ``"mask"`` or ``"unk"``.

    Returns
    -------
    torch.Tensor
        ``(batch, seq)`` ids.

    Examples
    --------
    >>> baseline_ids(clf, torch.tensor([[101, 2204, 102]])).tolist()  # doctest: +SKIP
    [[101, 0, 102]]
    """
    if baseline not in BASELINES:
        raise InputError(f"Unknown baseline {baseline!r}: choose 'pad' ([CLS] [PAD]… [SEP]), 'mask' or 'unk'.")
    token_id = getattr(clf.tokenizer, f"{baseline}_token_id")
    if token_id is None:
        raise InputError(f"This tokenizer has no {baseline} token: choose another baseline of {BASELINES}.")
    special = torch.isin(input_ids, torch.tensor(sorted(set(clf.tokenizer.all_special_ids)), device=input_ids.device))
    return torch.where(special, input_ids, torch.full_like(input_ids, token_id))


def perturbable_text(tokenized: TokenizedText) -> str:
    """The text LIME and KernelSHAP mask words of: a pair's segments joined by U+2029 (whitespace, so no word).

    Examples
    --------
    >>> perturbable_text(TokenizedText("a b", [], [], np.array([]), ["a", "b", "c"], text_pair="c"))
    'a b\u2029c'
    """
    return tokenized.text if tokenized.text_pair is None else tokenized.text + PAIR_SEPARATOR + tokenized.text_pair


def classifier_inputs(texts: list[str], pair: bool) -> list[str] | list[tuple[str, str]]:
    """Masked :func:`perturbable_text` strings back into what :meth:`Classifier.predict_proba` takes.

    Examples
    --------
    >>> classifier_inputs(["a \u2029c"], pair=True)
    [('a ', 'c')]
    """
    if not pair:
        return texts
    return [tuple(text.split(PAIR_SEPARATOR, 1)) for text in texts]


def pair_parameters(tokenized: TokenizedText) -> dict:
    """What a result records about a pair: its second segment and each word's segment (nothing for one text).

    Examples
    --------
    >>> pair_parameters(TokenizedText("a", [], [], np.array([]), ["a", "b"], text_pair="b", word_segments=[0, 1]))
    {'text_pair': 'b', 'word_segments': [0, 1]}
    """
    if not tokenized.is_pair:
        return {}
    return {"text_pair": tokenized.text_pair, "word_segments": list(tokenized.word_segments)}


def _truncated(tokenized: TokenizedText) -> TokenizedText:
    tokenized.truncated = True
    return tokenized


def word_sums(token_scores: np.ndarray, token_words: np.ndarray, n_words: int) -> np.ndarray:
    """Sum token scores into word scores (special tokens, ``-1``, dropped).

    Examples
    --------
    >>> word_sums(np.array([9.0, 1.0, 2.0, 3.0, 9.0]), np.array([-1, 0, 0, 1, -1]), 2).tolist()
    [3.0, 3.0]
    """
    keep = token_words >= 0
    return np.bincount(token_words[keep], weights=token_scores[keep], minlength=n_words).astype(np.float64)


def word_to_tokens(word_scores: np.ndarray, token_words: np.ndarray) -> np.ndarray:
    """Give every token its word's score (special tokens, ``-1``, get 0).

    Examples
    --------
    >>> word_to_tokens(np.array([3.0, 5.0]), np.array([-1, 0, 0, 1, -1])).tolist()
    [0.0, 3.0, 3.0, 5.0, 0.0]
    """
    return np.where(token_words >= 0, np.asarray(word_scores, dtype=np.float64)[np.maximum(token_words, 0)], 0.0)
