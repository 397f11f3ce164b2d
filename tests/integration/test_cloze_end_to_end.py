"""cloze_task and the experiment step, end to end on a tiny masked LM."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import bertology as bt
from bertology.analyses.cloze import ClozeResult, cloze_task
from bertology.core.errors import ModelError
from bertology.experiments import run_experiment

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_task_runs_suites_and_evaluation_sets(tiny_model_dir, tmp_path):
    model = str(tiny_model_dir("bert", "mlm"))
    out = tmp_path / "cloze"
    results = cloze_task(model, out, suites=["telicity", "color"], crows_pairs=FIXTURES / "crows_pairs_sample.csv",
                         agreement_stimuli=FIXTURES / "marvin_sample.tsv", progress=False)
    assert list(results) == ["telicity", "color", "crows-pairs", "agreement-stimuli"]
    assert results["telicity"].meta["primary_metric"] == "accuracy"
    assert results["crows-pairs"].meta["primary_metric"] == "metric_score"
    mlm = bt.load_model(model, head="mlm")
    expected = {"telicity": bt.run_suite(mlm, "telicity", progress=False),
                "crows-pairs": bt.crows_pairs(mlm, FIXTURES / "crows_pairs_sample.csv", progress=False),
                "agreement-stimuli": bt.agreement_stimuli(mlm, FIXTURES / "marvin_sample.tsv", progress=False)}
    for name, want in expected.items():
        assert results[name].metric() == pytest.approx(want.metric())
        pd.testing.assert_frame_equal(results[name].to_frame(), want.to_frame())
    for name, result in results.items():
        loaded = ClozeResult.load(out / name)
        assert loaded.to_frame().group.iloc[0] == "all" and loaded.metric() == pytest.approx(result.metric())
        assert (out / "figures" / f"{name}.png").exists() and (out / "figures" / f"{name}.pdf").exists()
    fills = pd.read_csv(out / "fills.csv", keep_default_na=False)
    assert fills.groupby("template").size().eq(5).all()
    template = "The most common colour for a banana is [MASK]."
    top = bt.MaskedLMScorer(mlm, progress=False).fill(template)
    assert fills[fills.template == template].token.tolist() == top.token.tolist()
    assert fills[fills.template == template].probability.to_numpy() == pytest.approx(top.probability.to_numpy())
    assert (out / "figures" / "fills.png").exists()


def test_task_error_for_model_without_mlm_head(tiny_model_dir, tmp_path):
    with pytest.raises(ModelError, match="bert-base-uncased"):
        cloze_task(str(tiny_model_dir("bert", "base")), tmp_path, progress=False)


def test_experiment_step(tiny_model_dir, tmp_path):
    config = {"model": str(tiny_model_dir("bert", "mlm")), "seed": 0, "out": str(tmp_path / "run"),
              "steps": {"cloze": {"suites": ["pronoun"], "blimp": str(FIXTURES / "blimp_sample.jsonl"),
                                  "stereoset": str(FIXTURES / "stereoset_pieces.json"),
                                  "stereoset_variant": "within_word_l2r",
                                  "agreement_stimuli": str(FIXTURES / "generated_sample.tab"), "include_is_are": True,
                                  "n_boot": 50, "fill_templates": ["The boys [MASK] here."]}}}
    run = run_experiment(config, progress=False)
    step_dir = tmp_path / "run" / "cloze"
    found = {p.parent.name for p in step_dir.rglob("result.json")}
    assert {"pronoun", "blimp"} <= found, run
    assert list(step_dir.rglob("figures/pronoun.png"))
    result = run.results["cloze"]
    assert result.status == "done" and "figures/pronoun.png" in result.figures and "figures/fills.png" in result.figures
    assert set(run.manifest["steps"]["cloze"]["data"]) == {"blimp", "stereoset", "agreement_stimuli"}
    assert ClozeResult.load(step_dir / "stereoset").meta["variant"] == "within_word_l2r"
    assert ClozeResult.load(step_dir / "agreement-stimuli").meta["include_is_are"] is True
    for name in ("pronoun", "blimp"):
        overall = result.table(f"{name}/summary").query("group == 'all' and metric == 'accuracy'")
        assert len(overall) == 1 and 0.0 <= overall.value.item() <= 1.0 and overall.n.item() > 0
        assert overall.value.item() == pytest.approx(ClozeResult.load(step_dir / name).metric())
    mlm = bt.load_model(str(tiny_model_dir("bert", "mlm")), head="mlm")
    assert ClozeResult.load(step_dir / "pronoun").metric() == pytest.approx(
        bt.run_suite(mlm, "pronoun", n_boot=50, progress=False).metric())
