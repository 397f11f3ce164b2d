"""AttributionResult: table, JSON round trip, heatmap figure, escaped self-contained HTML; words and classifiers."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.linear_model import LogisticRegression

import bertology as bt
from bertology.core.extraction import extract
from bertology.analyses.attribution.words import tokenize_words, word_sums
from bertology.core.errors import InputError
from tests.unit.attribution_toys import toy_classifier


@pytest.fixture(scope="module")
def result(minilm):
    clf = toy_classifier(minilm.tokenizer, {"great": 2.0})
    return bt.attribute(clf, "a <script>alert('x')</script> great & unbelievable film", n_steps=4)


def test_to_frame_and_word_frame(result):
    frame = result.to_frame()
    assert list(frame.columns) == ["token", "word", "word_index", "score"]
    assert frame.token.tolist() == result.tokens and frame.score.tolist() == result.token_scores
    words = result.word_frame()
    assert words.loc[words["rank"] == 1, "word"].item() == "great"
    assert len(words) == len(result.words) == 6


def test_save_load_round_trip(result, tmp_path):
    loaded = bt.AttributionResult.load(result.save(tmp_path / "r.json"))
    assert loaded == result
    assert loaded.delta == result.delta and loaded.n_steps == 4


def test_plot_returns_figure(result, tmp_path):
    for words in (False, True):
        figure = result.plot(words=words)
        assert isinstance(figure, Figure)
        assert result.method.replace("_", " ").split()[0].lower() in figure.axes[0].get_title(loc="left").lower()
    texts = [t.get_text() for t in result.plot().axes[0].texts]
    assert texts == result.tokens


def test_html_is_escaped_and_self_contained(result, tmp_path):
    page = result.save_html(tmp_path / "r.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page and "&amp;" in page
    assert "http" not in page and "src=" not in page
    assert result._repr_html_() in page


def test_tokenize_words_and_word_sums(minilm):
    clf = toy_classifier(minilm.tokenizer, {})
    tokenized = tokenize_words(clf, "unbelievably good,  film")
    assert tokenized.words == ["unbelievably", "good,", "film"]
    assert tokenized.token_words.tolist() == [-1, 0, 0, 0, 0, 0, 1, 1, 2, -1]
    assert word_sums(np.arange(10.0), tokenized.token_words, 3).tolist() == [15.0, 13.0, 8.0]
    with pytest.raises(InputError, match="empty"):
        tokenize_words(clf, "")


def test_from_probe_matches_sklearn_probe_and_stops_early(tiny_model):
    model = tiny_model("bert", "base")
    texts = ["the film was great", "the boys hated it", "great film", "terrible city", "loved it", "hated it"]
    store = extract(model, texts, layers=1, pool="mean", progress=False)
    probe = LogisticRegression().fit(store[1], [1, 0, 1, 0, 1, 0])
    clf = bt.Classifier.from_probe(model, probe, layer=1, pool="mean", labels=["negative", "positive"])
    np.testing.assert_allclose(clf.predict_proba(texts), probe.predict_proba(store[1]), atol=1e-5)
    ran = []
    handle = model.model.encoder.layer[2].register_forward_hook(lambda *args: ran.append(1))
    try:
        clf.predict_proba(["great"])
    finally:
        handle.remove()
    assert not ran
    three = LogisticRegression().fit(store[1], [0, 1, 2, 0, 1, 2])
    clf3 = bt.Classifier.from_probe(model, three, layer=1, pool="mean")
    assert clf3.labels == ["0", "1", "2"]
    np.testing.assert_allclose(clf3.predict_proba(texts), three.predict_proba(store[1]), atol=1e-5)
    assert bt.attribute(clf3, "great film", target="2", n_steps=4).target_index == 2


def test_from_probe_bad_inputs(tiny_model):
    model = tiny_model("bert", "base")
    with pytest.raises(InputError, match="not fitted"):
        bt.Classifier.from_probe(model, LogisticRegression())
    wrong = LogisticRegression().fit(np.random.default_rng(0).normal(size=(4, 5)), [0, 1, 0, 1])
    with pytest.raises(InputError, match="hidden size"):
        bt.Classifier.from_probe(model, wrong)
    with pytest.raises(InputError, match="target word"):
        bt.Classifier.from_probe(model, wrong, pool="word")
    with pytest.raises(InputError, match="list of texts"):
        bt.Classifier.from_pretrained(tiny_model("bert", "classifier")).predict_proba("one text")
