"""Pooling strategies against hand computations and independent forward passes."""

from __future__ import annotations

import numpy as np
import torch

import bertology as bt
from bertology.core.extraction import PoolingInputs, pool_layers


def test_pooling_strategies_match_hand_computation():
    hidden = torch.arange(2 * 5 * 3, dtype=torch.float).reshape(1, 2, 5, 3)
    attention = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    content = torch.tensor([[0, 1, 1, 0, 0], [0, 1, 1, 1, 0]], dtype=torch.bool)
    word = torch.tensor([[0, 1, 1, 0, 0], [0, 0, 1, 1, 0]], dtype=torch.bool)
    inputs = PoolingInputs(attention, content, word)
    h = hidden[0]
    expected = {
        "cls": torch.stack([h[0, 0], h[1, 0]]),
        "mean": torch.stack([h[0, :4].mean(0), h[1].mean(0)]),
        "first": torch.stack([h[0, 1], h[1, 1]]),
        "last": torch.stack([h[0, 2], h[1, 3]]),
        "word_mean": torch.stack([h[0, 1:3].mean(0), h[1, 2:4].mean(0)]),
        "word_first": torch.stack([h[0, 1], h[1, 2]]),
    }
    for name, value in expected.items():
        torch.testing.assert_close(pool_layers(hidden, inputs, name)[0], value)


def test_first_and_last_pool_text_tokens_even_unk_and_mask(minilm):
    texts = ["☃ the snowman here", "a snowman [MASK]"]
    store = bt.extract(minilm, texts, layers=[6], pool="first", progress=False)
    last = bt.extract(minilm, texts, layers=[6], pool="last", progress=False)
    for index, text in enumerate(texts):
        encoding = minilm.tokenizer(text, return_special_tokens_mask=True, return_tensors="pt")
        content = torch.nonzero(encoding.pop("special_tokens_mask")[0] == 0)[:, 0]
        with torch.no_grad():
            hidden = minilm.model(**encoding, output_hidden_states=True).hidden_states[6][0]
        np.testing.assert_allclose(store[6][index], hidden[content[0]].numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(last[6][index], hidden[content[-1]].numpy(), rtol=1e-4, atol=1e-5)
    assert minilm.tokenizer.unk_token_id in minilm.tokenizer(texts[0])["input_ids"]
