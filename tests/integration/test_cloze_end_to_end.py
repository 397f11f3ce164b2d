"""The cloze CLI, the experiment step and the figures, end to end on a tiny masked LM."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

from bertology.cli import main
from bertology.analyses.cloze import ClozeResult
from bertology.analyses.cloze.plots import plot_bias_distribution, plot_condition_bars, plot_fill_table
from bertology.experiments import run_experiment

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_cli_runs_suites_and_benchmarks(tiny_model_dir, tmp_path, capsys):
    model = str(tiny_model_dir("bert", "mlm"))
    out = tmp_path / "cloze"
    code = main(["cloze", "--model", model, "--suite", "telicity", "--suite", "color", "--out", str(out),
                 "--crows-pairs", str(FIXTURES / "crows_pairs_sample.csv"),
                 "--agreement-stimuli", str(FIXTURES / "marvin_sample.tsv")])
    assert code == 0
    printed = capsys.readouterr().out
    assert "telicity: accuracy" in printed and "crows-pairs: metric_score" in printed
    for name in ("telicity", "color", "crows-pairs", "agreement-stimuli"):
        assert ClozeResult.load(out / name).to_frame().group.iloc[0] == "all"
        assert (out / "figures" / f"{name}.png").exists() and (out / "figures" / f"{name}.pdf").exists()
    fills = pd.read_csv(out / "fills.csv")
    assert fills.groupby("template").size().eq(5).all()
    assert (out / "figures" / "fills.png").exists()


def test_cli_error_for_model_without_mlm_head(tiny_model_dir, tmp_path, capsys):
    code = main(["cloze", "--model", str(tiny_model_dir("bert", "base")), "--out", str(tmp_path)])
    assert code == 2
    assert "bert-base-uncased" in capsys.readouterr().err


def test_experiment_step(tiny_model_dir, tmp_path):
    config = {"model": str(tiny_model_dir("bert", "mlm")), "seed": 0, "out": str(tmp_path / "run"),
              "steps": {"cloze": {"suites": ["pronoun"], "blimp": str(FIXTURES / "blimp_sample.jsonl"),
                                  "n_boot": 50, "fill_templates": ["The boys [MASK] here."]}}}
    run = run_experiment(config, progress=False)
    step_dir = tmp_path / "run" / "cloze"
    found = {p.parent.name for p in step_dir.rglob("meta.json")}
    assert {"pronoun", "blimp"} <= found, run
    assert list(step_dir.rglob("figures/pronoun.png"))
    result = run.results["cloze"]
    assert result.status == "done" and "figures/pronoun.png" in result.figures
    assert set(run.manifest["steps"]["cloze"]["data"]) == {"blimp"}
    for name in ("pronoun", "blimp"):
        overall = result.table(f"{name}/summary").query("group == 'all' and metric == 'accuracy'")
        assert len(overall) == 1 and 0.0 <= overall.value.item() <= 1.0 and overall.n.item() > 0


def test_figures_render():
    summary = pd.DataFrame({"group": ["all", "a", "b"], "metric": "accuracy", "value": [0.6, 0.5, 0.7],
                            "ci_low": [0.5, 0.3, 0.6], "ci_high": [0.7, 0.6, 0.8], "n": [20, 10, 10]})
    bars = plot_condition_bars(summary, "accuracy", chance=0.5, title="agreement")
    assert isinstance(bars, Figure) and len(bars.axes[0].patches) == 3
    items = pd.DataFrame({"condition": ["a"] * 5 + ["b"] * 5, "kurita_bias": [0.1, -0.2, 0.3, 0.0, 0.5] * 2})
    assert plot_bias_distribution(items, "kurita_bias").axes[0].get_xlabel() == "kurita_bias"
    fills = {"t [MASK].": pd.DataFrame({"token": ["x", "y"], "probability": [0.5, 0.2]})}
    table = plot_fill_table(fills, top_k=2)
    assert table.axes[0].tables[0].get_celld()[(1, 1)].get_text().get_text() == "x (0.50)"


@pytest.mark.parametrize("plot_kind, xlabel", [("bars", "accuracy (bars: 95% bootstrap CI)"),
                                               ("distribution", "kurita_bias")])
def test_result_plot_kinds(plot_kind, xlabel):
    items = pd.DataFrame({"condition": ["a", "b"], "kurita_bias": [0.1, -0.1], "accuracy": [1.0, 0.0]})
    summary = pd.DataFrame({"group": ["all"], "metric": ["accuracy"], "value": [0.5], "ci_low": [0.0],
                            "ci_high": [1.0], "n": [2]})
    meta = {"primary_metric": "kurita_bias" if plot_kind == "distribution" else "accuracy", "plot": plot_kind}
    figure = ClozeResult("x", items, summary, meta).plot()
    assert isinstance(figure, Figure)
    assert figure.axes[0].get_xlabel() == xlabel
