"""Experiment step ``attention``: head statistics over a corpus, a head view and attention figures."""

from __future__ import annotations

from pathlib import Path

from bertology.analyses.attention import (AttentionMaps, AttentionStats, SentenceAttention, attention_stats,
                                 plot_attention_grid, rollout)
from bertology.analyses.attention.head_view import HeadView, head_view
from bertology.core.data import column, read_table
from bertology.core.errors import InputError
from bertology.core.paths import SHIPPED_DIR, SHIPPED_PREFIX, resolve_data_path
from bertology.experiments.registry import StepContext, StepSpec, register_step
from bertology.core.viz import save_figure

CORPUS_NAME = "attention_corpus.txt"
DEFAULT_INPUT = SHIPPED_PREFIX + CORPUS_NAME
SHIPPED_CORPUS = SHIPPED_DIR / CORPUS_NAME

DEFAULTS = {
    "input": DEFAULT_INPUT,
    "text_column": "text",
    "batch_size": 32,
    "truncate": False,
    "head_view_text": "The bank in the city is closed on Sundays.",
    "head_view_text_b": "",
}


def _corpus_path(ctx: StepContext) -> Path:
    path = resolve_data_path(ctx.params["input"] or DEFAULT_INPUT, ctx.data_root)
    if not path.exists():
        raise InputError(f"[steps.attention] input {path} does not exist: give a TXT/TSV/CSV/JSONL file of "
                         "sentences, or leave 'input' out to use the shipped corpus.")
    return path


def run(ctx: StepContext) -> None:
    """Compute the head statistics and the example sentence's attention; write tables, arrays and HTML."""
    params = ctx.params
    path = _corpus_path(ctx)
    sentences = column(read_table(path), params["text_column"], path)
    model = ctx.get_model()
    stats = attention_stats(model, sentences, batch_size=int(params["batch_size"]),
                            truncate=bool(params["truncate"]), progress=ctx.progress)
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    stats.to_frame().to_csv(ctx.out_dir / "head_stats.csv", index=False)
    stats.save(ctx.out_dir / "attention_stats.json")
    text = params["head_view_text"] if not params["head_view_text_b"] else (params["head_view_text"],
                                                                           params["head_view_text_b"])
    view: HeadView = head_view(model, text)
    view.save_html(ctx.out_dir / "head_view.html")
    view.attention.save(ctx.out_dir / "example_attention.npz")
    AttentionMaps(view.attention.tokens, rollout(view.attention.patterns), "rollout").save(ctx.out_dir / "rollout.json")


def figures(out_dir: Path) -> list[Path]:
    """Render the statistic heatmaps, the example's layer × head grid and its rollout from stored files."""
    target = out_dir / "figures"
    written = save_figure(AttentionStats.load(out_dir / "attention_stats.json").plot(), target / "head_stats")
    written += save_figure(plot_attention_grid(SentenceAttention.load(out_dir / "example_attention.npz")),
                           target / "attention_grid")
    written += save_figure(AttentionMaps.load(out_dir / "rollout.json").plot(), target / "rollout")
    return written


STEP = register_step(StepSpec(
    name="attention",
    defaults=DEFAULTS,
    run=run,
    figures=figures,
    data_params=("input",),
    description="Clark et al. (2019) head statistics over a corpus, an HTML head view and attention figures.",
))
