"""End to end on the bundled MiniLM: word_pos alignment, probing the shipped data, CLI and experiment steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bertology as bt
import bertology.experiments.steps  # noqa: F401  (registers the steps)
from bertology.cli import main
from bertology.experiments.registry import STEPS, StepContext
from bertology.analyses.probes import layer_features


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


def test_cli_probe_writes_table_and_figures(tmp_path, capsys):
    out = tmp_path / "wsd"
    assert main(["probe", "--model", "minilm", "--task", "coarsewsd20", "--word", "apple", "--layers", "0,6",
                 "--cv", "3", "--out", str(out)]) == 0
    assert "best layer" in capsys.readouterr().out
    assert (out / "probe_results.csv").is_file() and (out / "figures" / "probe_accuracy.png").is_file()
    assert main(["probe", "--task", "table", "--out", str(out)]) == 2


@pytest.mark.parametrize("step, params", [("probe", {"task": "sst2", "layers": "0,6", "cv": 3}),
                                          ("geometry", {"word": "bat", "layers": "0,6", "n_pairs": 200})])
def test_experiment_steps_run_and_render(minilm, tmp_path, step, params):
    spec = STEPS[step]
    ctx = StepContext(params={**spec.defaults, **params}, out_dir=tmp_path, data_root=tmp_path, seed=0,
                      progress=False, get_model=lambda: minilm)
    spec.run(ctx)
    written = spec.figures(tmp_path)
    assert written and all(path.is_file() for path in written)
