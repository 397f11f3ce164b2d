"""Attention analysis end to end with the bundled MiniLM: statistics, the task functions and the experiment step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bertology as bt
from bertology.analyses.attention import (
    STATISTICS,
    AttentionMaps,
    AttentionStats,
    SentenceAttention,
    attention_task,
    head_view_task,
    rollout,
    sentence_attention,
)
from bertology.experiments.registry import STEPS, StepContext
from bertology.experiments.steps import attention_step
from tests.unit.analyses.attention.test_stats import naive_statistics

SENTENCES = ["The bank in the city is closed on Sundays.", "It rained, so we stayed in.", "Why?",
             "The keys to the cabinet, which is old, are on the table.", "Coffee, tea, and juice are served."]
FIGURES = sorted(f"{n}.{e}" for n in ("head_stats", "attention_grid", "rollout") for e in ("pdf", "png"))


def test_minilm_statistics_equal_a_naive_computation_from_output_attentions(minilm):
    stats = bt.attention_stats(minilm, SENTENCES, batch_size=2, progress=False)
    expected = naive_statistics(minilm, SENTENCES)
    for name in STATISTICS:
        np.testing.assert_allclose(stats.values[name], expected[name], atol=1e-5, err_msg=name)
    assert stats.n_sentences == len(SENTENCES)
    assert minilm.model.config._attn_implementation == "sdpa"  # restored after tracing


def test_minilm_has_a_previous_token_head_and_cls_heavy_heads(minilm):
    corpus = attention_step.SHIPPED_CORPUS.read_text().splitlines()
    frame = bt.attention_stats(minilm, corpus, progress=False).to_frame()
    assert len(corpus) == 100 and frame["to_prev"].max() > 0.9
    assert frame.groupby("layer")["to_cls"].mean().iloc[1:].min() > 0.3


def test_attention_task_on_a_file_saves_statistics_example_and_figures(tmp_path, minilm):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(SENTENCES) + "\n")
    out = tmp_path / "att"
    pair = ("Is the bank <open>?", "Yes, on Sundays.")
    stats = attention_task("minilm", corpus, out, batch_size=2, example_text=pair[0], example_text_b=pair[1],
                           progress=False)
    direct = bt.attention_stats(minilm, SENTENCES, batch_size=2, progress=False)
    loaded = AttentionStats.load(out / "stats")
    assert stats.n_sentences == loaded.n_sentences == 5 and stats.n_tokens == loaded.n_tokens == direct.n_tokens
    assert loaded.model["name"] == minilm.describe()["name"]
    for name in STATISTICS:
        np.testing.assert_allclose(stats.values[name], direct.values[name], atol=1e-6, err_msg=name)
        np.testing.assert_array_equal(loaded.values[name], stats.values[name])
    frame = pd.read_csv(out / "stats" / "head_stats.csv")
    assert list(frame.columns) == ["layer", "head", *STATISTICS] and len(frame) == 72
    np.testing.assert_allclose(frame["entropy"], loaded.values["entropy"].ravel())
    fresh = sentence_attention(minilm, pair)
    example = SentenceAttention.load(out / "example")
    assert example.tokens == fresh.tokens and example.segments.tolist() == fresh.segments.tolist()
    np.testing.assert_allclose(example.patterns, fresh.patterns, atol=1e-6)
    maps = AttentionMaps.load(out / "rollout")
    np.testing.assert_allclose(maps.maps, rollout(fresh.patterns), atol=1e-6)
    np.testing.assert_allclose(maps.maps, bt.attention_rollout(minilm, pair).maps, atol=1e-6)
    view = (out / "head_view.html").read_text()
    assert "&lt;" in view and 'class="bt-hv-filter"' in view
    assert sorted(p.name for p in (out / "figures").iterdir()) == FIGURES


def test_attention_task_reports_an_empty_input_file(tmp_path, minilm):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(bt.InputError, match="holds no rows"):
        attention_task(minilm, empty, tmp_path / "o", progress=False)


def test_head_view_task_writes_a_pair_view(tmp_path, minilm):
    out = tmp_path / "view.html"
    view = head_view_task(minilm, "Is it <open>?", out, text_b="Yes.")
    text = out.read_text()
    assert "&lt;" in text and 'class="bt-hv-filter"' in text
    assert view.labels[3:6] == ["<", "open", ">"]
    np.testing.assert_allclose(view.attention.patterns, sentence_attention(minilm, ("Is it <open>?", "Yes.")).patterns,
                               atol=1e-6)


def test_experiment_step_writes_results_and_renders_figures_from_files(tmp_path, minilm):
    spec = STEPS["attention"]
    corpus = tmp_path / "data" / "corpus.txt"
    corpus.parent.mkdir()
    corpus.write_text("\n".join(SENTENCES))
    params = dict(spec.defaults, input="corpus.txt", batch_size=4, example_text_b="Yes, on Sundays.")
    ctx = StepContext(params=params, out=tmp_path / "attention", data_root=corpus.parent, seed=0,
                      progress=False, get_model=lambda: minilm)
    spec.run(ctx)
    written = {p.name for p in ctx.out.iterdir()}
    assert written == {"stats", "example", "rollout", "head_view.html"}
    stats = AttentionStats.load(ctx.out / "stats")
    assert stats.n_sentences == len(SENTENCES)
    np.testing.assert_allclose(stats.values["to_cls"],
                               bt.attention_stats(minilm, SENTENCES, batch_size=4, progress=False).values["to_cls"],
                               atol=1e-6)
    example = SentenceAttention.load(ctx.out / "example")
    fresh = sentence_attention(minilm, (spec.defaults["example_text"], "Yes, on Sundays."))
    assert example.tokens == fresh.tokens and example.is_pair
    np.testing.assert_allclose(example.patterns, fresh.patterns, atol=1e-6)
    figures = spec.figures(ctx.out)
    assert sorted(p.name for p in figures) == FIGURES


def test_experiment_step_names_a_missing_input(tmp_path, minilm):
    spec = STEPS["attention"]
    ctx = StepContext(params=dict(spec.defaults, input="missing.txt"), out=tmp_path / "a", data_root=tmp_path,
                      seed=0, progress=False, get_model=lambda: minilm)
    with pytest.raises(bt.InputError, match="does not exist"):
        spec.run(ctx)
