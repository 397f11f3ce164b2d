"""Neuron view: q·k from the projection hooks equals the model's scores; escaping; word-level attention."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

import bertology as bt
from bertology.analyses.attention import (
    NeuronView,
    SentenceAttention,
    query_key,
    word_attention,
)
from bertology.core.errors import InputError

EVIL = '</script><img src=x onerror="alert(1)">&amp;'
PAIR = ("the bank is closed", "the river")


def test_query_key_products_sum_to_the_models_pre_softmax_scores(tiny_model, arch):
    model = tiny_model(arch)
    qk = query_key(model, PAIR)
    d_head = qk.queries.shape[-1]
    assert qk.queries.shape == qk.keys.shape == (model.num_layers, model.num_heads, len(qk.attention.tokens), d_head)
    if arch == "deberta-v2":
        assert "disentangled" in qk.note and qk.scale == pytest.approx(1 / math.sqrt(3 * d_head))
        return
    assert qk.note == "" and qk.scale == pytest.approx(1 / math.sqrt(d_head))
    products = qk.queries[:, :, :, None, :] * qk.keys[:, :, None, :, :]
    scores = products.sum(axis=-1) * qk.scale
    mask = np.zeros(len(qk.attention.tokens))
    logits = scores + mask
    softmax = np.exp(logits - logits.max(-1, keepdims=True))
    softmax /= softmax.sum(-1, keepdims=True)
    np.testing.assert_allclose(softmax, qk.attention.patterns, atol=1e-6)
    log_patterns = np.log(qk.attention.patterns.astype(np.float64))
    centred = scores - scores.mean(-1, keepdims=True)
    assert np.abs(centred).max() > 1e-2
    np.testing.assert_allclose(log_patterns - log_patterns.mean(-1, keepdims=True), centred, atol=1e-4)


def test_neuron_view_of_every_architecture_renders(tiny_model, arch):
    view = bt.head_view(tiny_model(arch), PAIR, view="neuron")
    assert isinstance(view, NeuronView) and len(view.labels) == len(view.attention.tokens)
    markup = view.to_html()
    assert ('class="bt-nv-caveat"' in markup) == (arch == "deberta-v2")
    data = json.loads(re.search(r'class="bt-nv-data">(.*?)</script>', markup, re.DOTALL).group(1))
    np.testing.assert_allclose(data["queries"], view.queries, atol=1e-4)
    assert data["scale"] == view.scale


def _neuron(tokens=("[CLS]", EVIL, "[SEP]"), note="") -> NeuronView:
    n = len(tokens)
    rng = np.random.default_rng(0)
    patterns = rng.dirichlet(np.ones(n), size=(2, 3, n)).astype(np.float32)
    q, k = rng.normal(size=(2, 2, 3, n, 4))
    return NeuronView(SentenceAttention(list(tokens), patterns, np.zeros(n, int)), list(tokens), q, k, 0.5, note)


def test_neuron_view_escapes_tokens_note_and_id():
    markup = _neuron(note=EVIL).to_html(element_id='x"><script>alert(2)</script>')
    assert EVIL not in markup and "<img" not in markup and "<script>alert" not in markup
    assert markup.count("&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;amp;") == 2
    assert markup.count("</script>") == 2
    data = re.search(r'class="bt-nv-data">(.*?)</script>', markup, re.DOTALL).group(1)
    assert "<" not in data and json.loads(data)["tokens"][1] == EVIL


def test_neuron_view_table_and_round_trip(tmp_path):
    view = _neuron()
    np.testing.assert_allclose(view.scores(), np.einsum("lhqd,lhkd->lhqk", view.queries, view.keys) * 0.5)
    frame = view.to_frame()
    assert list(frame.columns) == ["layer", "head", "query", "key", "query_token", "key_token", "score", "weight"]
    np.testing.assert_allclose(frame["score"], view.scores().ravel())
    loaded = NeuronView.load(view.save(tmp_path / "neuron"))
    np.testing.assert_array_equal(loaded.queries, view.queries)
    assert loaded.to_html(element_id="x") == view.to_html(element_id="x")
    text = view.save_html(tmp_path / "n.html").read_text()
    assert not re.search(r"<script[^>]*\ssrc=|<link|@import|url\(|https?://", text)


def test_unknown_view_is_an_input_error(minilm):
    with pytest.raises(InputError, match="neuron"):
        bt.head_view(minilm, "a", view="neurons")


def test_word_attention_sums_to_a_split_word_and_averages_from_it():
    patterns = np.array([[0.1, 0.2, 0.3, 0.4],
                         [0.5, 0.1, 0.1, 0.3],
                         [0.0, 0.6, 0.2, 0.2],
                         [0.25, 0.25, 0.25, 0.25]])
    words = [0, 1, 1, 2]  # tokens 1 and 2 are pieces of one word
    expected = np.array([[0.1, 0.5, 0.4],
                         [(0.5 + 0.0) / 2, (0.2 + 0.8) / 2, (0.3 + 0.2) / 2],
                         [0.25, 0.5, 0.25]])
    np.testing.assert_allclose(word_attention(patterns, words), expected)
    stacked = word_attention(np.stack([patterns, patterns]), words)
    np.testing.assert_allclose(stacked[1], expected)
    np.testing.assert_allclose(stacked.sum(-1), 1.0)


def test_head_view_groups_word_pieces_and_offers_the_toggle(minilm):
    view = bt.head_view(minilm, ("The unaffable banker", "closed it"))
    split = [i for i, token in enumerate(view.attention.tokens) if token.startswith("##")]
    assert split and all(view.words[i] == view.words[i - 1] for i in split)
    assert "unaffable" in view.word_labels and "banker" in view.word_labels
    assert view.word_labels[0] == "[CLS]" and view.word_labels.count("[SEP]") == 2
    assert len(view.word_labels) == max(view.words) + 1 == len(view.attention.tokens) - len(split)
    markup = view.to_html()
    assert 'class="bt-hv-words"' in markup
    data = json.loads(re.search(r'class="bt-hv-data">(.*?)</script>', markup, re.DOTALL).group(1))
    np.testing.assert_allclose(data["word_attention"], word_attention(view.attention.patterns, view.words), atol=1e-4)
    assert data["word_segments"][-1] == 1
