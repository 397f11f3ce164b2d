"""The attention tasks on a tiny model: what they save equals the direct computations, and the figures."""

from __future__ import annotations

import numpy as np
import pytest

import bertology as bt
from bertology.analyses.attention import (
    STATISTICS,
    AttentionMaps,
    AttentionStats,
    HeadView,
    SentenceAttention,
    attention_task,
    head_view_task,
    rollout,
    save_attention_figures,
    sentence_attention,
)
from bertology.core.errors import InputError

TEXTS = ["the bank is closed.", "the river, the bank.", "who?"]


def test_attention_task_saves_statistics_example_rollout_and_view(tmp_path, tiny_model):
    model = tiny_model("bert")
    stats = attention_task(model, TEXTS, tmp_path, batch_size=2, example_text="the bank", example_text_b="the river",
                           figures=False, progress=False)
    direct = bt.attention_stats(model, TEXTS, batch_size=2, progress=False)
    loaded = AttentionStats.load(tmp_path / "stats")
    assert stats.n_sentences == loaded.n_sentences == 3 and stats.n_tokens == loaded.n_tokens == direct.n_tokens
    for name in STATISTICS:
        np.testing.assert_allclose(stats.values[name], direct.values[name], atol=1e-9)
        np.testing.assert_array_equal(loaded.values[name], stats.values[name])
    fresh = sentence_attention(model, ("the bank", "the river"))
    example = SentenceAttention.load(tmp_path / "example")
    assert example.tokens == fresh.tokens and example.is_pair
    np.testing.assert_allclose(example.patterns, fresh.patterns, atol=1e-6)
    maps = AttentionMaps.load(tmp_path / "rollout")
    assert maps.kind == "rollout"
    np.testing.assert_allclose(maps.maps, rollout(fresh.patterns), atol=1e-6)
    assert 'class="bt-hv-filter"' in (tmp_path / "head_view.html").read_text()
    assert not (tmp_path / "figures").exists()
    written = save_attention_figures(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{n}.{e}" for n in ("head_stats", "attention_grid", "rollout")
                                                     for e in ("pdf", "png"))


def test_attention_task_reads_a_file_and_renders_figures(tmp_path, tiny_model):
    corpus = tmp_path / "corpus.tsv"
    corpus.write_text("id\tsentence\n" + "".join(f"{i}\t{t}\n" for i, t in enumerate(TEXTS)))
    model = tiny_model("bert")
    stats = attention_task(model, corpus, tmp_path / "out", progress=False)
    np.testing.assert_allclose(stats.values["entropy"],
                               bt.attention_stats(model, TEXTS, progress=False).values["entropy"], atol=1e-9)
    assert sorted(p.name for p in (tmp_path / "out" / "figures").iterdir()) == ["head_stats.pdf", "head_stats.png"]
    assert not (tmp_path / "out" / "example").exists() and not (tmp_path / "out" / "head_view.html").exists()
    with pytest.raises(InputError, match="no column 'body'"):
        attention_task(model, corpus, tmp_path / "o", text_column="body", progress=False)


def test_attention_task_refuses_a_second_example_sentence_alone(tmp_path, tiny_model):
    with pytest.raises(InputError, match="give example_text"):
        attention_task(tiny_model("bert"), TEXTS, tmp_path, example_text_b="the river", progress=False)


def test_head_view_task_writes_the_view_it_returns(tmp_path, tiny_model):
    model = tiny_model("bert")
    out = tmp_path / "views" / "view.html"
    view = head_view_task(model, "the <bank>", out, text_b="the river")
    assert isinstance(view, HeadView) and view.attention.is_pair
    np.testing.assert_allclose(view.attention.patterns,
                               sentence_attention(model, ("the <bank>", "the river")).patterns, atol=1e-6)
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and "&lt;" in text and "<bank>" not in text


@pytest.fixture
def no_model_load(monkeypatch):
    """Make loading a model by name fail the test: the checks must come first."""
    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the arguments were checked")

    monkeypatch.setattr("bertology.analyses.attention.task.load_model", refuse)


@pytest.mark.parametrize("kwargs, message", [
    (dict(average="corpus"), "average='corpus' is unknown"),
    (dict(example_text="  "), "example_text = '  ' is empty"),
    (dict(example_text="the bank", example_text_b=" "), "example_text_b = ' ' is empty"),
])
def test_attention_task_checks_its_arguments_before_the_model_loads(tmp_path, no_model_load, kwargs, message):
    with pytest.raises(InputError, match=message):
        attention_task("some-model", TEXTS, tmp_path / "out", progress=False, **kwargs)
    assert not (tmp_path / "out").exists()


def test_attention_task_checks_the_output_before_the_model_loads(tmp_path, no_model_load):
    blocker = tmp_path / "a_file"
    blocker.write_text("keep")
    with pytest.raises(InputError, match="is a file, not a directory"):
        attention_task("some-model", TEXTS, blocker, progress=False)
    with pytest.raises(InputError, match="output directory is empty"):
        attention_task("some-model", TEXTS, "", progress=False)
    assert blocker.read_text() == "keep"


def test_attention_task_saves_the_average_it_used(tmp_path, tiny_model):
    model = tiny_model("bert")
    stats = attention_task(model, TEXTS, tmp_path, average="token", figures=False, progress=False)
    direct = bt.attention_stats(model, TEXTS, average="token", progress=False)
    assert stats.average == AttentionStats.load(tmp_path / "stats").average == "token"
    np.testing.assert_allclose(stats.values["to_prev"], direct.values["to_prev"], atol=1e-9)
    default = attention_task(model, TEXTS, tmp_path / "default", figures=False, progress=False)
    assert default.average == "sentence"


@pytest.mark.parametrize("text, text_b, message", [
    ("", None, "text = '' is empty"),
    (" \t", None, "text = ' \\\\t' is empty"),
    ("the bank", "", "text_b = '' is empty"),
    (None, None, "text = None is empty"),
])
def test_head_view_task_refuses_an_empty_text_before_the_model_loads(tmp_path, no_model_load, text, text_b,
                                                                      message):
    out = tmp_path / "views" / "view.html"
    with pytest.raises(InputError, match=message):
        head_view_task("some-model", text, out, text_b=text_b)
    assert not (tmp_path / "views").exists()


def test_head_view_task_checks_the_output_file_before_the_model_loads(tmp_path, no_model_load):
    with pytest.raises(InputError, match="is a directory: give a file name"):
        head_view_task("some-model", "the bank", tmp_path)
    with pytest.raises(InputError, match="output file is empty"):
        head_view_task("some-model", "the bank", "")


def test_head_view_task_writes_the_neuron_view(tiny_model, tmp_path):
    from bertology.analyses.attention.head_view import NeuronView
    from bertology.analyses.attention.task import head_view_task

    model = tiny_model("bert")
    view = head_view_task(model, "the bank is closed", tmp_path / "neuron.html", view="neuron")
    assert isinstance(view, NeuronView)
    direct = bt.head_view(model, "the bank is closed", view="neuron")
    html = (tmp_path / "neuron.html").read_text()
    assert "bank" in html and "closed" in html
    np.testing.assert_allclose(view.scores(), direct.scores())
