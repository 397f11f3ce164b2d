"""One input's attention: encoding, the tidy table, save/load, the layer x head grid and one head's map."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import bertology as bt
from bertology.analyses.attention import SentenceAttention, attention_head_map, sentence_attention
from bertology.analyses.attention.sentence import encode_text
from bertology.core.errors import InputError, StoreError


def test_encode_text_marks_the_second_segment(minilm):
    inputs, segments = encode_text(minilm, ("Is it open?", "Yes."))
    assert inputs["token_type_ids"].tolist() == [[0, 0, 0, 0, 0, 0, 1, 1, 1]]
    assert segments.tolist() == [0, 0, 0, 0, 0, 0, 1, 1, 1]


def test_patterns_equal_output_attentions_of_the_eager_model(minilm):
    attention = sentence_attention(minilm, "The bank is closed.")
    encoded = minilm.tokenizer("The bank is closed.", return_tensors="pt")
    previous = minilm.model.config._attn_implementation
    minilm.model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            expected = torch.stack(minilm.model(**encoded, output_attentions=True).attentions)[:, 0].numpy()
    finally:
        minilm.model.set_attn_implementation(previous)
    assert attention.tokens == ["[CLS]", "the", "bank", "is", "closed", ".", "[SEP]"] and not attention.is_pair
    np.testing.assert_allclose(attention.patterns, expected, atol=1e-6)
    np.testing.assert_allclose(attention.head_mean(), expected.mean(axis=1), atol=1e-6)


def test_sentence_attention_rejects_bad_text(minilm):
    for bad in ("", ("a", ""), ("a", "b", "c"), 3):
        with pytest.raises(InputError):
            sentence_attention(minilm, bad)
    with pytest.raises(InputError, match="shorten"):
        sentence_attention(minilm, "bank " * 600)


def test_sentence_attention_save_load(tmp_path, minilm):
    attention = sentence_attention(minilm, ("Is it open?", "Yes."))
    loaded = type(attention).load(attention.save(tmp_path / "a"))
    assert loaded.tokens == attention.tokens and loaded.is_pair
    np.testing.assert_array_equal(loaded.patterns, attention.patterns)
    np.testing.assert_array_equal(loaded.segments, attention.segments)
    with pytest.raises(StoreError, match="no saved result"):
        SentenceAttention.load(tmp_path)


def test_table_has_one_row_per_layer_head_query_and_key():
    patterns = np.random.default_rng(0).random((2, 3, 2, 2)).astype(np.float32)
    frame = SentenceAttention(["[CLS]", "hi"], patterns, np.zeros(2, int)).to_frame()
    assert list(frame.columns) == ["layer", "head", "query", "key", "query_token", "key_token", "weight"]
    assert len(frame) == 24
    row = frame[(frame["layer"] == 1) & (frame["head"] == 2) & (frame["query"] == 0) & (frame["key"] == 1)].iloc[0]
    assert row["query_token"] == "[CLS]" and row["key_token"] == "hi" and row["weight"] == patterns[1, 2, 0, 1]


def test_grid_has_one_map_per_layer_and_head():
    attention = SentenceAttention(["a", "b", "c"], np.random.default_rng(0).random((3, 4, 3, 3)), np.zeros(3, int))
    figure = attention.plot(layers=[0, -1], heads=[1, 2])
    maps = [ax for ax in figure.axes if ax.images]
    assert len(maps) == 4
    assert [ax.get_title() for ax in maps[:2]] == ["H1", "H2"]
    assert maps[2].get_ylabel() == "L2"
    np.testing.assert_array_equal(maps[3].images[0].get_array(), attention.patterns[2, 2])
    assert len([ax for ax in attention.plot().axes if ax.images]) == 12


def test_grid_rejects_missing_layers_and_heads():
    attention = SentenceAttention(["a"], np.ones((2, 3, 1, 1)), np.zeros(1, int))
    with pytest.raises(InputError, match="there are 2"):
        attention.plot(layers=[2])
    with pytest.raises(InputError, match="'all'"):
        attention.plot(heads="some")


def test_attention_grid_of_a_model(minilm):
    figure = bt.attention_grid(minilm, "The bank in the city is closed")
    assert isinstance(figure, Figure)
    assert len([ax for ax in figure.axes if ax.images]) == minilm.num_layers * minilm.num_heads


def test_head_map_shows_the_chosen_head_with_tokens(minilm):
    figure = attention_head_map(minilm, "The bank is closed.", layer=-1, head=3)
    ax = figure.axes[0]
    assert ax.get_title() == "layer 5, head 3"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["[CLS]", "the", "bank", "is", "closed", ".", "[SEP]"]
    expected = bt.head_view(minilm, "The bank is closed.").attention.patterns[5, 3]
    np.testing.assert_allclose(ax.images[0].get_array(), expected, atol=1e-6)
    with pytest.raises(InputError, match="heads 0..11"):
        attention_head_map(minilm, "The bank is closed.", layer=0, head=12)
