"""End to end on the bundled MiniLM: word_pos alignment, probing the shipped data, the probe and geometry steps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import bertology as bt
import bertology.experiments.steps  # noqa: F401  (registers the steps)
from bertology.analyses.geometry import EthayarajhResult, ProjectionResult, SimilarityResult, context_similarity
from bertology.analyses.probes import ProbeResult, probe_task
from bertology.core.data.loaders import load_dataset
from bertology.core.errors import InputError
from bertology.core.extraction.features import layer_features
from bertology.experiments.registry import STEPS, StepContext


def test_coarsewsd_vector_is_the_word_at_word_pos(minilm):
    data = bt.data.load_coarsewsd20("bat").subset(np.arange(4))
    features, _ = layer_features(minilm, data, layers="0,3,6", progress=False)
    for item, (text, position) in enumerate(zip(data.texts, data.words)):
        words = text.split()
        prefix = minilm.tokenizer(" ".join(words[:position]), add_special_tokens=False)["input_ids"]
        pieces = minilm.tokenizer(words[position], add_special_tokens=False)["input_ids"]
        start = 1 + len(prefix)  # after [CLS]
        encoded = minilm.tokenizer(text, return_tensors="pt")
        assert encoded["input_ids"][0, start:start + len(pieces)].tolist() == pieces
        with torch.inference_mode():
            hidden = minilm.model(**encoded, output_hidden_states=True).hidden_states
        for layer in (0, 3, 6):
            expected = hidden[layer][0, start:start + len(pieces)].mean(0).numpy()
            np.testing.assert_allclose(features[layer][item], expected, atol=1e-4)


def test_probe_shipped_bank_beats_majority(minilm):
    result = bt.probe_layers(minilm, bt.data.load_coarsewsd20("bank"), layers="0,6", cv=None, progress=False)
    frame = result.to_frame().query("metric == 'accuracy'").set_index("layer")
    assert frame.loc[6, "mean"] >= 0.9 > frame.loc[6, "baseline"]
    assert frame.loc[6, "ci_low"] <= frame.loc[6, "mean"] <= frame.loc[6, "ci_high"]
    assert result.meta["cv"] == "official split"


def test_probe_task_on_the_shipped_sample(minilm, tmp_path):
    out = tmp_path / "wsd"
    result = probe_task(minilm, "coarsewsd20", out, word="apple", layers="0,6", cv=3, seed=[0, 1], progress=False)
    fresh = bt.probe_layers(minilm, load_dataset("coarsewsd20", word="apple"), layers="0,6", cv=3, seed=[0, 1],
                            progress=False)
    pd.testing.assert_frame_equal(result.to_frame(), fresh.to_frame())
    saved = ProbeResult.load(out)
    pd.testing.assert_frame_equal(saved.to_frame(), fresh.to_frame(), check_dtype=False)
    best = saved.best_layer()
    accuracy = saved.to_frame("trained").query("metric == 'accuracy'").set_index("layer")
    assert best == 6 and accuracy.loc[6, "mean"] >= 0.85 > accuracy.loc[6, "baseline"]
    assert accuracy.loc[6, "mean"] > accuracy.loc[0, "mean"] and (accuracy["n"] == 6).all()
    assert saved.meta["dataset"] == "coarsewsd20" and saved.meta["seed"] == [0, 1]
    assert saved.meta["model"]["name"] == minilm.name
    assert (out / "figures" / "probe_accuracy.png").is_file() and (out / "figures" / "probe_selectivity.pdf").is_file()
    with pytest.raises(InputError, match="needs a data file"):
        probe_task(minilm, "table", tmp_path / "table")


def _run_step(step, params, directory, model, seed):
    spec = STEPS[step]
    ctx = StepContext(params={**spec.defaults, **params}, out=directory, data_root=directory, seed=seed,
                      progress=False, get_model=lambda: model)
    spec.run(ctx)
    written = spec.figures(directory)
    assert written and all(path.is_file() for path in written)
    return sorted(path.name for path in written)


def test_probe_step_saves_a_probe_result_with_the_run_seed(minilm, tmp_path):
    figures = _run_step("probe", {"dataset": "sst2", "layers": "0,6", "cv": 3}, tmp_path, minilm, seed=3)
    assert "probe_accuracy.png" in figures and "probe_selectivity.png" in figures
    saved = ProbeResult.load(tmp_path)
    fresh = bt.probe_layers(minilm, load_dataset("sst2"), layers="0,6", cv=3, seed=3, progress=False)
    pd.testing.assert_frame_equal(saved.to_frame(), fresh.to_frame(), check_dtype=False)
    assert saved.meta["seed"] == [3] and saved.meta["pool"] == "cls" and saved.meta["dataset"] == "sst2"


def test_geometry_step_saves_each_result(minilm, tmp_path):
    figures = _run_step("geometry", {"word": "bat", "layers": "0,6", "n_pairs": 200}, tmp_path, minilm, seed=0)
    assert figures == sorted(f"{name}.{ext}" for name in ("projection", "similarity_by_layer", "ethayarajh")
                             for ext in ("pdf", "png"))
    data = load_dataset("coarsewsd20", word="bat")
    assert sorted(ProjectionResult.load(tmp_path / "projection").coords) == [0, 6]
    similarity = SimilarityResult.load(tmp_path / "similarity").to_frame()
    expected = context_similarity(minilm, data, layers="0,6", progress=False).to_frame()
    pd.testing.assert_frame_equal(similarity, expected, check_exact=False, rtol=1e-5)
    same = similarity.set_index(["layer", "comparison"])["mean"]
    assert same[(6, "same sense")] > same[(6, "different sense")]
    measures = EthayarajhResult.load(tmp_path / "ethayarajh")
    assert measures.meta["n_pairs"] == 200 and set(measures.to_frame()["layer"]) == {0, 6}
