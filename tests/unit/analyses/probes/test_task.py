"""probe_task: a named dataset probed end to end into a directory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bertology.analyses.probes import ProbeResult, probe_layers, probe_task
from bertology.core.data.loaders import load_dataset
from bertology.core.errors import InputError


def test_probe_task_saves_what_probe_layers_computes(tiny_model, tmp_path):
    model = tiny_model("bert")
    result = probe_task(model, "coarsewsd20", tmp_path, word="bank", layers="0,2", cv=3, seed=[0, 1], mdl=True,
                        progress=False)
    expected = probe_layers(model, load_dataset("coarsewsd20", word="bank"), layers="0,2", cv=3, seed=[0, 1],
                            mdl=True, progress=False)
    pd.testing.assert_frame_equal(result.to_frame(), expected.to_frame())
    loaded = ProbeResult.load(tmp_path)
    pd.testing.assert_frame_equal(loaded.to_frame(), result.to_frame(), check_dtype=False)
    assert loaded.meta["dataset"] == "coarsewsd20" and loaded.meta["seed"] == [0, 1]
    assert loaded.meta["pool"] == "word_mean" and loaded.meta["n_items"] == 40
    accuracy = loaded.to_frame().query("metric == 'accuracy'")
    assert (accuracy["n"] == 6).all() and np.allclose(accuracy["baseline"], 0.5, atol=0.15)
    figures = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert figures == [f"probe_{name}.{ext}" for name in ("accuracy", "macro_f1", "mdl_compression", "selectivity")
                       for ext in ("pdf", "png")]


def test_probe_task_reads_a_label_table_and_can_skip_figures(tiny_model, tmp_path):
    table = tmp_path / "items.tsv"
    rows = [("the film was great", 1), ("a terrible film", 0), ("great people", 1), ("terrible keys", 0)] * 3
    table.write_text("text\tgold\n" + "".join(f"{text}\t{label}\n" for text, label in rows))
    result = probe_task(tiny_model("bert"), "table", tmp_path / "out", input=table, text_column="text",
                        label_column="gold", layers=1, pool="mean", cv=2, controls=False, figures=False,
                        progress=False)
    assert not (tmp_path / "out" / "figures").exists()
    assert result.meta["dataset"] == "table" and result.meta["pool"] == "mean" and result.meta["n_items"] == 12
    assert result.to_frame()["control"].isna().all()
    pd.testing.assert_frame_equal(ProbeResult.load(tmp_path / "out").to_frame(), result.to_frame(), check_dtype=False)
    with pytest.raises(InputError, match="Unknown dataset"):
        probe_task(tiny_model("bert"), "nope", tmp_path / "x")


@pytest.fixture
def no_model_load(monkeypatch):
    """Make loading a model by name fail the test: the checks must come first."""
    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the arguments were checked")

    monkeypatch.setattr("bertology.analyses.probes.task.load_model", refuse)


@pytest.mark.parametrize("cv", [1, -3, 2.5, True])
def test_probe_task_refuses_a_cv_below_two_before_the_model_loads(tmp_path, no_model_load, cv):
    with pytest.raises(InputError, match=r"cv must be >= 2 folds, got .*--cv 0"):
        probe_task("some-model", "coarsewsd20", tmp_path / "out", word="bank", cv=cv)
    assert not (tmp_path / "out").exists()


def test_probe_task_refuses_data_of_one_class_before_the_model_loads(tmp_path, no_model_load):
    table = tmp_path / "items.tsv"
    table.write_text("sentence\tlabel\n" + "".join(f"sentence {i}\tpositive\n" for i in range(12)))
    with pytest.raises(InputError, match=r"Dataset 'items' has one class \('positive', 12 items\)"):
        probe_task("some-model", "table", tmp_path / "out", input=table)
    assert not (tmp_path / "out").exists()


def test_probe_task_checks_the_output_before_the_model_loads(tmp_path, no_model_load):
    blocker = tmp_path / "a_file"
    blocker.write_text("keep")
    with pytest.raises(InputError, match="is a file, not a directory"):
        probe_task("some-model", "coarsewsd20", blocker, word="bank")
    assert blocker.read_text() == "keep"
