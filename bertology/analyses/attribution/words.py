"""Tokens of a text and the whitespace word each token belongs to (through character offsets)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np

from bertology.analyses.attribution.classifier import Classifier
from bertology.core.errors import InputError

logger = logging.getLogger(__name__)

_WORD = re.compile(r"\S+")


@dataclass
class TokenizedText:
    """A text as the classifier sees it.

    Attributes
    ----------
    text
        The text, cut after the last kept token when it was too long.
    input_ids
        Token ids, special tokens included.
    tokens
        Token strings.
    token_words
        Per token, the index of its whitespace word, ``-1`` for special tokens.
    words
        The whitespace-separated words of ``text``.
    truncated
        Whether the original text was longer than the model accepts.
    """

    text: str
    input_ids: list[int]
    tokens: list[str]
    token_words: np.ndarray
    words: list[str]
    truncated: bool = False


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
