"""explanation_task and ``bertology explanations``: the benchmark of the texts or ERASER documents, saved with its
figure; arguments checked before the model loads."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import bertology as bt
from bertology.analyses.attribution import task
from bertology.analyses.attribution.benchmark import ExplanationBenchmark
from bertology.analyses.attribution.task import explanation_task
from bertology.cli import main
from bertology.core.errors import InputError

TEXTS = ["the film was great", "the boys hated the city", "a great film"]
FIXTURE = "tests/fixtures/eraser"


def test_task_equals_the_benchmark_and_saves_it(tiny_model_dir, tiny_model, tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(TEXTS))
    model = str(tiny_model_dir("bert", "classifier"))
    bench = explanation_task(model, tmp_path / "out", path, methods=["saliency", "lime", "ig"], n_steps=4,
                             num_samples=20, seed=3, n_boot=20, progress=False)
    clf = bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))
    expected = bt.explanation_benchmark(clf, TEXTS, methods=["saliency", "lime", "ig"], n_boot=20, seed=3,
                                        progress=False, options={"integrated_gradients": {"n_steps": 4},
                                                                 "lime": {"num_samples": 20, "seed": 3}})
    def scores(frame):
        return frame[frame["metric"] != "time_per_example_s"].reset_index(drop=True)

    pd.testing.assert_frame_equal(scores(bench.to_frame()), scores(expected.to_frame()), atol=1e-6)
    for ours, reference in zip(bench.attributions, expected.attributions, strict=True):
        assert (ours.text, ours.method) == (reference.text, reference.method)
        np.testing.assert_allclose(ours.word_scores, reference.word_scores, rtol=1e-5, atol=1e-9)
    saved = ExplanationBenchmark.load(tmp_path / "out")
    pd.testing.assert_frame_equal(saved.to_frame(), bench.to_frame(), atol=1e-9)
    assert (tmp_path / "out" / "figures" / "explanation_benchmark.png").exists()
    assert json.loads((tmp_path / "out" / "classifier.json").read_text())["kind"] == "sequence-classification"


def test_cli_on_eraser_rationales(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "bench"
    argv = ["--no-progress", "explanations", "--model", str(tiny_model_dir("bert", "classifier")), "--rationales",
            FIXTURE, "--method", "saliency,attention", "--n-boot", "20", "--out", str(out)]
    assert main(argv) in (0, None)
    printed = capsys.readouterr().out
    assert "token_f1" in printed and f"results in {out}" in printed
    bench = ExplanationBenchmark.load(out)
    assert bench.meta["n_examples"] == len(bt.load_eraser(FIXTURE))
    assert not bench.plausibility.empty


@pytest.mark.parametrize("kwargs, message", [
    ({"input": None}, "not both and not neither"),
    ({"rationales": FIXTURE}, "not both and not neither"),
    ({"methods": ["shap"]}, "Unknown attribution method 'shap'"),
    ({"removal": "blank"}, "Unknown removal 'blank'"),
    ({"input": []}, "No texts"),
])
def test_arguments_are_checked_before_the_model_loads(monkeypatch, tmp_path, kwargs, message):
    monkeypatch.setattr(task, "load_model", lambda *args, **kw: pytest.fail("the model was loaded"))
    arguments = {"input": TEXTS, **kwargs}
    with pytest.raises(InputError, match=message):
        explanation_task("minilm", tmp_path / "out", arguments.pop("input"), **arguments, progress=False)
