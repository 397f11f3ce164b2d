"""AttributionResult: tables, directory round trip, heatmap figure, escaped self-contained HTML."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from matplotlib.figure import Figure

import bertology as bt
from bertology.core.errors import StoreError
from tests.unit.analyses.attribution.toys import toy_classifier


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
    out = result.save(tmp_path / "r")
    assert out == tmp_path / "r" and sorted(p.name for p in out.iterdir()) == ["attribution.json", "result.json"]
    loaded = bt.AttributionResult.load(out)
    assert loaded == result
    assert loaded.delta == result.delta and loaded.n_steps == 4
    pd.testing.assert_frame_equal(loaded.to_frame(), result.to_frame())
    assert bt.AttributionResult.from_dict(json.loads((out / "attribution.json").read_text())) == result


def test_load_names_a_wrong_directory(result, tmp_path):
    with pytest.raises(StoreError, match="no saved result"):
        bt.AttributionResult.load(tmp_path)
    (tmp_path / "r").mkdir()
    result.save(tmp_path / "r")
    (tmp_path / "r" / "attribution.json").write_text("{")
    with pytest.raises(StoreError, match="damaged"):
        bt.AttributionResult.load(tmp_path / "r")


def test_plot_returns_figure(result):
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
