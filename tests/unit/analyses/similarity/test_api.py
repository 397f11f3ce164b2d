"""similarity() on stores and on models: word features, pooled features, and the checks before any model loads."""

from __future__ import annotations

import numpy as np
import pytest
import transformers

import bertology as bt
from bertology.analyses.geometry import word_vectors
from bertology.analyses.similarity import SimilarityMatrix, linear_cka, similarity, svcca, word_features
from bertology.core.errors import InputError

TEXTS = ["the bank raised its rates again", "we sat on the river bank", "a cat slept on the warm mat",
         "rates rose sharply this year", "the river flooded the old town", "antidisestablishment xylophonic views"]


def test_word_features_are_the_word_vectors_of_every_word(tiny_model, tmp_path):
    model = tiny_model("bert")
    features = word_features(model, TEXTS, [0, 2], tmp_path, batch_size=4, progress=False)
    expected = word_vectors(model, TEXTS, layers="0,2", batch_size=3, progress=False)
    assert features[2].shape == (sum(len(t.split()) for t in TEXTS), model.hidden_size)
    np.testing.assert_allclose(features[2], expected.vectors[2], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(features[0], expected.vectors[0], rtol=1e-5, atol=1e-6)


def test_within_one_model_the_diagonal_is_one_and_the_matrix_symmetric(tiny_model):
    sim = similarity(tiny_model("bert"), None, texts=TEXTS, progress=False)
    assert isinstance(sim, SimilarityMatrix) and sim.meta["within"]
    assert np.allclose(np.diag(sim.values), 1.0) and np.allclose(sim.values, sim.values.T)
    assert sim.meta["n_rows"] == 33 and sim.meta["pool"] == "all_words"


def test_two_models_with_different_tokenizers_compare_the_same_words(tiny_model, tmp_path):
    bert, roberta = tiny_model("bert"), tiny_model("roberta")
    sim = similarity(bert, roberta, texts=TEXTS, layers="0,2", metric="svcca", progress=False)
    a = word_features(bert, TEXTS, [0, 2], tmp_path, progress=False)
    (tmp_path / "b").mkdir()
    b = word_features(roberta, TEXTS, [0, 2], tmp_path / "b", progress=False)
    assert sim.values[1, 0] == pytest.approx(svcca(a[2], b[0]), abs=1e-6)
    assert not sim.meta["within"] and sim.meta["models"]["b"]["name"] == roberta.name


def test_stores_give_the_same_matrix_as_the_models_with_pooled_features(tiny_model):
    bert, electra = tiny_model("bert"), tiny_model("electra")
    store_a = bt.extract(bert, TEXTS, pool="mean", progress=False)
    store_b = bt.extract(electra, TEXTS, pool="mean", progress=False)
    from_stores = similarity(store_a, store_b, metric="procrustes", progress=False)
    from_models = similarity(bert, electra, texts=TEXTS, pool="mean", metric="procrustes", progress=False)
    np.testing.assert_allclose(from_stores.values, from_models.values, atol=1e-9)
    assert from_stores.meta["stores"]["a"] == str(store_a.directory)


def test_store_layers_and_paths(tiny_model):
    store = bt.extract(tiny_model("bert"), TEXTS, layers="0,2", pool="cls", progress=False)
    sim = similarity(str(store.directory), store.directory, layers=2, progress=False)
    assert sim.meta["within"] and sim.values.shape == (1, 1)
    assert sim.values[0, 0] == pytest.approx(linear_cka(store[2], store[2]))
    with pytest.raises(InputError, match=r"Layers \[1\] are not in the store"):
        similarity(store, store, layers=1, progress=False)


def _forbid_weights(monkeypatch):
    def refuse(cls, *args, **kwargs):
        raise AssertionError("model weights were loaded before the bad input was reported")

    monkeypatch.setattr(transformers.PreTrainedModel, "from_pretrained", classmethod(refuse))


@pytest.mark.parametrize("kwargs, match", [
    ({"metric": "cka"}, "metric = 'cka'"),
    ({"pool": "word_mean"}, "pool = 'word_mean'"),
    ({"layers": "1-x"}, "Cannot read layers"),
    ({"minibatch": 2}, "minibatch = 2"),
    ({"texts": None}, "needs texts"),
    ({"texts": ["fine", " "]}, "Item 1 is empty"),
    ({"texts": ["w"] * 3000, "metric": "rbf_cka"}, "at most 2500 rows"),
])
def test_bad_arguments_fail_before_any_model_loads(kwargs, match, tiny_model_dir, monkeypatch):
    _forbid_weights(monkeypatch)
    with pytest.raises(InputError, match=match):
        similarity(str(tiny_model_dir("bert")), None, **{"texts": TEXTS, **kwargs})


def test_stores_and_models_do_not_mix(tiny_model, tiny_model_dir, monkeypatch):
    store = bt.extract(tiny_model("bert"), TEXTS, layers="0", progress=False)
    other = bt.extract(tiny_model("bert"), TEXTS[:5], layers="0", progress=False)
    _forbid_weights(monkeypatch)
    with pytest.raises(InputError, match="not one of each"):
        similarity(store, str(tiny_model_dir("bert")), progress=False)
    with pytest.raises(InputError, match="leave texts out"):
        similarity(store, store, texts=TEXTS, progress=False)
    with pytest.raises(InputError, match="different inputs"):
        similarity(store, other, progress=False)
