"""layer_features on word-level data: rows that share a sentence share one forward pass, with per-row results."""

from __future__ import annotations

import numpy as np
import pytest

import bertology as bt
from bertology.core.data import ProbeDataset, load_conllu, word_task
from bertology.core.extraction import layer_features, word_vectors
from bertology.core.paths import SHIPPED_DIR

FIXTURE = SHIPPED_DIR / "ud_sample.conllu"


@pytest.fixture
def forward_rows(monkeypatch):
    def install(model):
        calls = []
        original = type(model).__call__

        def counted(self, *args, **kwargs):
            calls.append(int(kwargs["input_ids"].shape[0]))
            return original(self, *args, **kwargs)

        monkeypatch.setattr(type(model), "__call__", counted)
        return calls

    return install


@pytest.mark.parametrize("pool", ["word_mean", "word_first"])
def test_word_task_features_equal_the_per_row_computation_with_one_pass_per_sentence(tiny_model, forward_rows, pool):
    model = tiny_model("roberta")
    ud = load_conllu(FIXTURE)
    data = word_task(ud, "upos")
    calls = forward_rows(model)
    features, valid = layer_features(model, data, layers=[0, 3], pool=pool, batch_size=4, progress=False)
    assert calls == [4, 2] and sum(calls) == len(set(data.texts)) == len(ud)
    assert valid.all() and features[3].shape == (len(data), model.hidden_size)
    for row in range(0, len(data), 3):
        alone = bt.extract(model, [data.texts[row]], layers=[0, 3], pool=pool, words=[data.words[row]],
                           progress=False)
        for layer in (0, 3):
            np.testing.assert_allclose(features[layer][row], alone[layer][0], rtol=1e-4, atol=1e-5)
    wv = word_vectors(model, ud, layers=[3], pool=pool, progress=False)
    np.testing.assert_allclose(features[3], wv.layer(3), rtol=1e-5, atol=1e-6)


def test_interleaved_rows_and_a_skipped_duplicate_keep_their_places(tiny_model, forward_rows):
    model = tiny_model("bert")
    long = " ".join(f"w{i}" for i in range(model.max_length + 5))
    texts = ["the bank of the river", long, "a cat sat", "the bank of the river", long, "a cat sat"]
    words = [1, 2, 0, 4, model.max_length + 3, 2]
    calls = forward_rows(model)
    store = bt.extract(model, texts, layers=[2], pool="word_mean", words=words, batch_size=2, truncate=True,
                       on_error="skip", progress=False)
    assert sum(calls) == 3 and store.valid.tolist() == [True, True, True, True, False, True]
    assert not store[2][4].any()
    for row in (0, 1, 2, 3, 5):
        alone = bt.extract(model, [texts[row]], layers=[2], pool="word_mean", words=[words[row]], truncate=True,
                           progress=False)
        np.testing.assert_allclose(store[2][row], alone[2][0], rtol=1e-4, atol=1e-5)


def test_distinct_texts_keep_one_row_per_pass(tiny_model, forward_rows):
    model = tiny_model("bert")
    data = ProbeDataset(["a b c", "d e", "f"], np.array([0, 1, 0]), ["x", "y"], words=[2, 0, 0])
    calls = forward_rows(model)
    layer_features(model, data, layers=[1], batch_size=2, progress=False)
    assert calls == [2, 1]


def test_probe_layers_on_a_word_task_with_control_tasks_and_mdl(tiny_model):
    from bertology.analyses.probes import probe_layers
    from bertology.analyses.probes.controls import control_task_labels

    ud = load_conllu(FIXTURE)
    data = word_task(ud, "upos", min_count=3)
    controls = control_task_labels(data.types, data.labels, seed=0)
    by_type = {}
    for word_type, label in zip(data.types, controls):
        assert by_type.setdefault(word_type, label) == label
    assert len(by_type) < len(data)
    frame = probe_layers(tiny_model("bert"), data, layers=[0, 3], cv=3, controls=True, mdl=True,
                         progress=False).to_frame()
    accuracy = frame[(frame["metric"] == "accuracy") & (frame["encoder"] == "trained")]
    assert sorted(accuracy["layer"]) == [0, 3] and accuracy["selectivity"].notna().all()
    assert "mdl_codelength" in set(frame["metric"])
