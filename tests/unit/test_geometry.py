"""Geometry measures against hand computations, and their result types."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from matplotlib.figure import Figure

import bertology as bt

from bertology.core.data import ProbeDataset
from bertology.core.errors import InputError
from bertology.analyses.geometry import (EthayarajhResult, ProjectionResult, anisotropy_baseline, context_similarity,
                                cosine_matrix, ethayarajh_measures, intra_sentence_similarity, pair_similarities,
                                pca_2d, project_layers, self_similarity, static_embeddings, word_vectors)


def cos(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_self_similarity_matches_hand_computation():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(6, 4))
    types = ["bank", "bat", "bank", "bank", "bat", "once"]
    bank = [0, 2, 3]
    expected_bank = np.mean([cos(vectors[i], vectors[j]) for i, j in itertools.permutations(bank, 2)])
    expected = np.mean([expected_bank, cos(vectors[1], vectors[4])])
    assert self_similarity(vectors, types) == pytest.approx(expected)
    assert self_similarity(vectors, types, min_count=3) == pytest.approx(expected_bank)
    with pytest.raises(InputError, match="at least 4 times"):
        self_similarity(vectors, types, min_count=4)


def test_intra_sentence_similarity_matches_hand_computation():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(5, 3))
    sentence = np.array([0, 0, 0, 1, 1])
    expected = np.mean([np.mean([cos(vectors[i], vectors[rows].mean(0)) for i in rows])
                        for rows in ([0, 1, 2], [3, 4])])
    assert intra_sentence_similarity(vectors, sentence) == pytest.approx(expected)


def test_anisotropy_baseline_is_mean_cosine_of_random_distinct_pairs():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    pairs = np.mean([cos(vectors[i], vectors[j]) for i, j in itertools.permutations(range(3), 2)])
    assert anisotropy_baseline(vectors, n_pairs=20000) == pytest.approx(pairs, abs=0.01)
    assert anisotropy_baseline(np.ones((4, 3))) == pytest.approx(1.0)


def test_cosine_and_pair_similarities():
    vectors = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    np.testing.assert_allclose(cosine_matrix(vectors), [[1, 1, 0], [1, 1, 0], [0, 0, 1]])
    pairs = pair_similarities(vectors, np.array([0, 0, 1]))
    assert pairs["same sense"].tolist() == [1.0] and pairs["different sense"].tolist() == [0.0, 0.0]


def test_pca_matches_numpy_svd_up_to_sign():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(20, 5)) * [5, 3, 1, 0.5, 0.1]
    coords = pca_2d(vectors)
    centred = vectors - vectors.mean(0)
    _, _, vt = np.linalg.svd(centred)
    reference = centred @ vt[:2].T
    np.testing.assert_allclose(np.abs(coords), np.abs(reference), atol=1e-8)
    assert pca_2d(np.array([[0.0], [1.0]])).shape == (2, 2)


def test_projection_result_round_trip_and_plot():
    result = ProjectionResult({0: np.zeros((3, 2)), 2: np.arange(6.0).reshape(3, 2)}, np.array([0, 1, 0]),
                              ["fruit", "company"], "pca")
    frame = result.to_frame()
    assert frame.columns.tolist() == ["layer", "item", "x", "y", "label", "sense"] and len(frame) == 6
    again = ProjectionResult.from_frame(frame)
    np.testing.assert_array_equal(again.coords[2], result.coords[2])
    assert again.label_names == ["fruit", "company"] and isinstance(again.plot(), Figure)


def test_project_layers_from_features():
    rng = np.random.default_rng(0)
    data = ProbeDataset([f"s{i}" for i in range(10)], np.arange(10) % 2, ["a", "b"])
    features = {0: rng.normal(size=(10, 4)), 3: rng.normal(size=(10, 4))}
    result = project_layers(features, data)
    np.testing.assert_allclose(result.coords[3], pca_2d(features[3]), atol=1e-5)
    with pytest.raises(InputError, match="'pca' or 'umap'"):
        project_layers(features, data, method="tsne")


BANK = ProbeDataset(["the bank is open", "the river bank", "my bank account", "a muddy bank"],
                    np.array([0, 1, 0, 1]), ["money", "river"], words=[1, 2, 1, 2], name="bank")


def test_context_similarity_on_a_tiny_model(tiny_model):
    model = tiny_model("bert")
    result = context_similarity(model, BANK, layers="0,2", progress=False)
    frame = result.to_frame()
    assert set(frame["comparison"]) == {"same sense", "different sense"} and set(frame["layer"]) == {0, 2}
    assert (frame["n"] == [2, 4, 2, 4]).all()
    assert frame["static"].to_numpy() == pytest.approx(1.0)  # one word form: identical static vectors
    assert isinstance(result.plot(), Figure)
    with pytest.raises(InputError, match="no target words"):
        context_similarity(model, ProbeDataset(["a"], np.array([0]), ["x"]))


def test_word_vectors_and_static_embeddings(tiny_model):
    model = tiny_model("bert")
    occurrences = word_vectors(model, ["the bank is open", "the river"], layers="0,1", progress=False)
    assert occurrences.types == ["the", "bank", "is", "open", "the", "river"]
    assert occurrences.sentence.tolist() == [0, 0, 0, 0, 1, 1] and occurrences.vectors[1].shape[0] == 6
    static = static_embeddings(model, ["the bank", "a bank"], [1, 1])
    ids = model.tokenizer("bank", add_special_tokens=False)["input_ids"]
    expected = model.model.get_input_embeddings().weight[ids].mean(0).detach().numpy()
    np.testing.assert_allclose(static[0], expected, rtol=1e-5)


def test_word_vectors_equal_one_word_pooled_extraction_per_occurrence(tiny_model, arch):
    model = tiny_model(arch)
    texts = ["the riverbank's edge , unbelievably", "a bank", "o'neill said it was the bank's fault"]
    occurrences = word_vectors(model, texts, layers="0,2", batch_size=2, progress=False)
    items = [(text, position) for text in texts for position in range(len(text.split()))]
    expected = bt.extract(model, [text for text, _ in items], layers="0,2", pool="word_mean",
                          words=[position for _, position in items], progress=False)
    for layer in (0, 2):
        np.testing.assert_allclose(occurrences.vectors[layer], expected[layer], rtol=1e-4, atol=1e-5)


def test_ethayarajh_measures_on_a_tiny_model(tiny_model):
    result = ethayarajh_measures(tiny_model("bert"), BANK.texts, layers="0,2", progress=False)
    frame = result.to_frame()
    assert set(frame["measure"]) == {"self_similarity", "intra_sentence", "anisotropy"}
    np.testing.assert_allclose(frame["adjusted"], frame["raw"] - frame["baseline"])
    occurrences = word_vectors(tiny_model("bert"), BANK.texts, layers=2, progress=False)
    at_2 = frame[frame["layer"] == 2].set_index("measure")["raw"]
    assert at_2["self_similarity"] == pytest.approx(self_similarity(occurrences.vectors[2], occurrences.types))
    assert at_2["intra_sentence"] == pytest.approx(intra_sentence_similarity(occurrences.vectors[2],
                                                                             occurrences.sentence))
    assert at_2["anisotropy"] == pytest.approx(anisotropy_baseline(occurrences.vectors[2]))
    assert isinstance(EthayarajhResult(frame).plot(), Figure)
