"""similarity_task, the ``similarity`` step and command: the saved result equals the direct call; figures."""

from __future__ import annotations

import numpy as np
import pytest

import bertology as bt
from bertology.analyses.similarity import SimilarityMatrix, save_similarity_figures, similarity, similarity_task
from bertology.cli import main
from bertology.core.errors import InputError
from bertology.experiments import run_experiment

TEXTS = ["the bank raised its rates", "we sat on the river bank", "a cat slept on the mat", "rates rose this year"]


def test_task_on_two_models_saves_the_matrix_and_both_figures(tiny_model, tmp_path):
    bert, electra = tiny_model("bert"), tiny_model("electra")
    (tmp_path / "in.txt").write_text("\n".join(TEXTS) + "\n")
    result = similarity_task(bert, electra, tmp_path / "in.txt", tmp_path / "out", metric="minibatch_cka",
                             minibatch=8, seed=3, progress=False)
    loaded = SimilarityMatrix.load(tmp_path / "out" / "similarity")
    direct = similarity(bert, electra, texts=TEXTS, metric="minibatch_cka", minibatch=8, seed=3, progress=False)
    np.testing.assert_allclose(loaded.values, direct.values, atol=1e-9)
    assert loaded.meta["minibatch"] == 8 and result.meta["seed"] == 3
    assert sorted(p.name for p in (tmp_path / "out" / "figures").glob("*.png")) == ["similarity.png",
                                                                                  "similarity_diagonal.png"]


def test_task_on_stores_takes_no_input(tiny_model, tmp_path):
    store = bt.extract(tiny_model("bert"), TEXTS, pool="mean", out=tmp_path / "store", progress=False)
    result = similarity_task(tmp_path / "store", None, None, tmp_path / "out", metric="svcca", figures=False,
                             progress=False)
    assert result.meta["within"] and result.values.shape == (len(store.layers),) * 2
    assert save_similarity_figures(tmp_path / "out")[0].name == "similarity.pdf"
    with pytest.raises(InputError, match="give no input"):
        similarity_task(tmp_path / "store", None, TEXTS, tmp_path / "out2", progress=False)


def test_step_runs_the_task_and_renders_figures(tiny_model_dir, tmp_path):
    (tmp_path / "in.txt").write_text("\n".join(TEXTS) + "\n")
    model = str(tiny_model_dir("bert"))
    run_experiment({"model": model, "out": str(tmp_path / "run"),
                    "steps": {"similarity": {"input": str(tmp_path / "in.txt"), "metric": "procrustes",
                                             "layers": "0,2"}}}, progress=False)
    saved = SimilarityMatrix.load(tmp_path / "run" / "similarity" / "similarity")
    direct = similarity(model, None, texts=TEXTS, metric="procrustes", layers="0,2", progress=False)
    np.testing.assert_allclose(saved.values, direct.values, atol=1e-9)
    assert (tmp_path / "run" / "similarity" / "figures" / "similarity.pdf").is_file()


def test_step_checks_values_before_the_model_loads(tmp_path):
    with pytest.raises(InputError, match="metric = 'cca'"):
        run_experiment({"model": "minilm", "out": str(tmp_path / "run"),
                        "steps": {"similarity": {"metric": "cca"}}}, progress=False)


def test_command_writes_the_result(tiny_model_dir, tmp_path, capsys):
    (tmp_path / "in.txt").write_text("\n".join(TEXTS) + "\n")
    model = str(tiny_model_dir("bert"))
    code = main(["--no-progress", "similarity", "--model", model, "--model-b", str(tiny_model_dir("roberta")),
                 "--input", str(tmp_path / "in.txt"), "--layers", "0,2", "--out", str(tmp_path / "out")])
    assert code == 0 and "linear_cka of 2 x 2 layers (21 rows)" in capsys.readouterr().out
    assert SimilarityMatrix.load(tmp_path / "out" / "similarity").values.shape == (2, 2)
