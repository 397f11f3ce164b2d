"""heads_task writes importance, pruning curve, leave-one-out scores and figures; the step checks before loading."""

from __future__ import annotations

import pytest

import bertology as bt
from bertology.analyses.heads.task import heads_task, save_heads_figures
from bertology.core.errors import InputError
from bertology.experiments.steps.heads_step import DEFAULTS, validate


def test_task_saves_results_and_figures(tiny_model_dir, tmp_path):
    model = str(tiny_model_dir("bert", "classifier"))
    results = heads_task(model, tmp_path, max_sentences=12, steps=2, random_orders=2, leave_one_out=True,
                         batch_size=5, progress=False)
    assert sorted(results) == ["ablation", "importance", "pruning"]
    loaded = bt.HeadImportance.load(tmp_path / "importance")
    assert loaded.to_frame().equals(results["importance"].to_frame())
    assert bt.PruningCurve.load(tmp_path / "pruning").to_frame()["order"].value_counts().to_dict() == {
        "random": 6, "importance": 3}
    names = sorted(path.name for path in save_heads_figures(tmp_path))
    assert names == sorted(f"{stem}.{ext}" for stem in ("head_importance", "pruning_curve", "head_ablation")
                           for ext in ("pdf", "png"))


def test_task_with_the_mlm_loss(tiny_model_dir, tmp_path):
    results = heads_task(str(tiny_model_dir("roberta", "mlm")), tmp_path, loss="mlm", metric="loss",
                         max_sentences=6, steps=1, random_orders=0, figures=False, progress=False)
    assert results["pruning"].to_frame()["n_pruned"].tolist() == [0, 12]


@pytest.mark.parametrize("change, message", [
    ({"loss": "ppl"}, "not a heads task loss"),
    ({"metric": "f1"}, "metric='f1'"),
    ({"steps": 0}, "steps=0"),
    ({"max_sentences": -2}, "max_sentences"),
    ({"dataset": "table"}, "reads a labelled file"),
])
def test_step_validation(change, message):
    with pytest.raises(InputError, match=message):
        validate({**DEFAULTS, **change})


def test_task_with_the_cloze_loss_equals_head_importance_on_the_suite(context_mlm, tmp_path):
    import numpy as np

    mlm = context_mlm("bert")
    results = heads_task(mlm, tmp_path, loss="cloze", suite="agreement", steps=2, random_orders=1, figures=False,
                         progress=False)
    direct = bt.head_importance(mlm, "agreement", loss="cloze", progress=False)
    np.testing.assert_allclose(results["importance"].matrix(), direct.matrix(), rtol=1e-5)
    assert bt.analyses.heads.HeadImportance.load(tmp_path / "importance").meta["loss"] == "cloze"
