"""Tokens to whitespace words through offsets, word sums, truncation of long texts."""

from __future__ import annotations

import numpy as np
import pytest

import bertology as bt
from bertology.analyses.attribution.words import tokenize_words, word_sums
from bertology.core.errors import InputError
from tests.unit.analyses.attribution.toys import toy_classifier


def test_tokenize_words_and_word_sums(minilm):
    clf = toy_classifier(minilm.tokenizer, {})
    tokenized = tokenize_words(clf, "unbelievably good,  film")
    assert tokenized.words == ["unbelievably", "good,", "film"]
    assert tokenized.token_words.tolist() == [-1, 0, 0, 0, 0, 0, 1, 1, 2, -1]
    assert word_sums(np.arange(10.0), tokenized.token_words, 3).tolist() == [15.0, 13.0, 8.0]
    with pytest.raises(InputError, match="empty"):
        tokenize_words(clf, "")


def test_long_text_is_truncated_with_warning(tiny_model, caplog):
    clf = bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))
    clf.max_length = 8
    with caplog.at_level("WARNING"):
        result = bt.attribute(clf, "one two three four five six seven eight nine ten", n_steps=4)
    assert result.truncated and len(result.tokens) <= 8
    assert result.words == ["one", "two", "three", "four", "five", "six"]
    assert "longer than the model's limit" in caplog.text
