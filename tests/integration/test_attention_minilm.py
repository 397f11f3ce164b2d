"""Attention analysis end to end with the bundled MiniLM: statistics, the CLI and the experiment step."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import bertology as bt
from bertology.analyses.attention import STATISTICS, AttentionStats
from bertology.cli import main
from bertology.experiments.registry import STEPS, StepContext
from bertology.experiments.steps import attention_step
from tests.unit.test_attention_stats import naive_statistics

SENTENCES = ["The bank in the city is closed on Sundays.", "It rained, so we stayed in.", "Why?",
             "The keys to the cabinet, which is old, are on the table.", "Coffee, tea, and juice are served."]


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


def test_cli_attention_writes_table_json_and_figures(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(SENTENCES) + "\n")
    out = tmp_path / "att"
    assert main(["--no-progress", "attention", "--model", "minilm", "--input", str(corpus), "--out", str(out)]) == 0
    assert "5 sentences" in capsys.readouterr().out
    frame = pd.read_csv(out / "head_stats.csv")
    assert list(frame.columns) == ["layer", "head", *STATISTICS] and len(frame) == 72
    loaded = AttentionStats.load(out / "attention_stats.json")
    np.testing.assert_allclose(frame["entropy"], loaded.values["entropy"].ravel())
    assert (out / "figures" / "head_stats.pdf").exists() and (out / "figures" / "head_stats.png").exists()


def test_cli_reports_an_empty_input_file(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert main(["attention", "--input", str(empty), "--out", str(tmp_path / "o")]) == 2
    assert "error" in capsys.readouterr().err


def test_cli_head_view_writes_a_pair_view(tmp_path, capsys):
    out = tmp_path / "view.html"
    assert main(["head-view", "--model", "minilm", "--text", "Is it <open>?", "--text-b", "Yes.",
                 "--out", str(out)]) == 0
    text = out.read_text()
    assert "&lt;" in text and 'class="bt-hv-filter"' in text and str(out) in capsys.readouterr().out


def test_experiment_step_writes_results_and_renders_figures_from_files(tmp_path, minilm):
    spec = STEPS["attention"]
    corpus = tmp_path / "data" / "corpus.txt"
    corpus.parent.mkdir()
    corpus.write_text("\n".join(SENTENCES))
    params = dict(spec.defaults, input="corpus.txt", batch_size=4, head_view_text_b="Yes, on Sundays.")
    ctx = StepContext(params=params, out_dir=tmp_path / "attention", data_root=corpus.parent, seed=0,
                      progress=False, get_model=lambda: minilm)
    spec.run(ctx)
    written = {p.name for p in ctx.out_dir.iterdir()}
    assert {"head_stats.csv", "attention_stats.json", "head_view.html", "example_attention.npz",
            "rollout.json"} <= written
    assert json.loads((ctx.out_dir / "attention_stats.json").read_text())["n_sentences"] == len(SENTENCES)
    figures = spec.figures(ctx.out_dir)
    assert sorted(p.name for p in figures) == sorted(f"{n}.{e}" for n in ("head_stats", "attention_grid", "rollout")
                                                     for e in ("pdf", "png"))


def test_experiment_step_names_a_missing_input(tmp_path, minilm):
    spec = STEPS["attention"]
    ctx = StepContext(params=dict(spec.defaults, input="missing.txt"), out_dir=tmp_path / "a", data_root=tmp_path,
                      seed=0, progress=False, get_model=lambda: minilm)
    with pytest.raises(bt.InputError, match="does not exist"):
        spec.run(ctx)
