"""The self-contained HTML head view: escaping, safe JSON, unique ids, no network, pairs."""

from __future__ import annotations

import json
import re

import numpy as np

import bertology as bt
from bertology.analyses.attention import HeadView, SentenceAttention
from bertology.analyses.attention.head_view import page, safe_json

EVIL = '</script><img src=x onerror="alert(1)">&amp;'


def _view(tokens=("[CLS]", EVIL, "[SEP]"), segments=(0, 0, 0)) -> HeadView:
    n = len(tokens)
    patterns = np.random.default_rng(0).dirichlet(np.ones(n), size=(2, 3, n)).astype(np.float32)
    return HeadView(SentenceAttention(list(tokens), patterns, np.asarray(segments)), list(tokens))


def test_tokens_are_escaped_and_json_cannot_break_out_of_its_script():
    markup = _view().to_html()
    assert EVIL not in markup and "<img" not in markup
    assert "&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;amp;" in markup
    data = re.search(r'<script type="application/json" class="bt-hv-data">(.*?)</script>', markup, re.S).group(1)
    assert "<" not in data and json.loads(data)["tokens"][1] == EVIL
    assert markup.count("</script>") == 2  # the data block and the code block, nothing from the tokens


def test_safe_json_round_trips():
    payload = {"t": "a</script><!--&\u2028"}
    assert json.loads(safe_json(payload)) == payload and "<" not in safe_json(payload)


def test_page_is_self_contained_with_unique_ids(tmp_path):
    path = _view().save_html(tmp_path / "v.html")
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]*\ssrc=|<link|@import|url\(|https?://(?!www\.w3\.org/2000/svg)", text)
    two = page([_view(), _view()])
    ids = re.findall(r'class="bt-head-view" id="([^"]+)"', two)
    assert len(ids) == 2 and len(set(ids)) == 2


def test_attention_is_embedded_per_layer_and_head():
    view = _view()
    data = json.loads(re.search(r'class="bt-hv-data">(.*?)</script>', view.to_html(), re.S).group(1))
    assert np.asarray(data["attention"]).shape == (2, 3, 3, 3)
    np.testing.assert_allclose(data["attention"], view.attention.patterns, atol=1e-4)
    assert view._repr_html_().startswith('<div class="bt-head-view"')


def test_pairs_get_a_segment_filter_and_single_sentences_do_not():
    assert 'class="bt-hv-filter"' in _view(("[CLS]", "a", "[SEP]", "b", "[SEP]"), (0, 0, 0, 1, 1)).to_html()
    assert 'class="bt-hv-filter"' not in _view().to_html()


def test_head_view_of_a_model_shows_readable_tokens(tiny_model, arch):
    view = bt.head_view(tiny_model(arch), ("the bank is closed", "the river"))
    assert view.attention.is_pair and len(view.labels) == len(view.attention.tokens)
    assert "bank" in view.labels and not any(label.startswith(("Ġ", "▁")) for label in view.labels)


def test_view_saves_and_loads_its_attention_and_labels(tmp_path):
    view = _view(("[CLS]", "a", "[SEP]", "b", "[SEP]"), (0, 0, 0, 1, 1))
    loaded = HeadView.load(view.save(tmp_path / "view"))
    assert loaded.labels == view.labels and loaded.attention.tokens == view.attention.tokens
    np.testing.assert_array_equal(loaded.attention.patterns, view.attention.patterns)
    assert loaded.attention.is_pair and loaded.to_html(element_id="x") == view.to_html(element_id="x")
    frame = view.to_frame()
    assert len(frame) == 2 * 3 * 5 * 5
    np.testing.assert_array_equal(frame["weight"], view.attention.patterns.ravel())
    assert len([ax for ax in view.plot().axes if ax.images]) == 6


def test_element_id_is_escaped_in_the_attribute_and_the_script():
    from html.parser import HTMLParser

    evil = '"><img src=x onerror="alert(1)"></script><script>alert(2)</script>'
    markup = _view().to_html(element_id=evil)
    assert "<img" not in markup and "<script>alert" not in markup
    assert markup.count("</script>") == 2

    class Ids(HTMLParser):
        ids: list[str] = []

        def handle_starttag(self, tag, attrs):
            self.ids += [value for name, value in attrs if name == "id"]

    parser = Ids()
    parser.feed(markup)
    assert parser.ids == [evil]
    call = re.search(r"\}\)\s*\((.*?)\);</script></div>$", markup, re.S).group(1)
    assert json.loads(call) == evil
