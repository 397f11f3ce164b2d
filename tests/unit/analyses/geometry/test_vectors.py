"""Word vectors of a corpus, static embeddings and cosine helpers."""

from __future__ import annotations

import numpy as np

import bertology as bt
from bertology.analyses.geometry import cosine_matrix, static_embeddings, word_vectors
from bertology.analyses.geometry.vectors import unit_rows


def test_cosine_matrix_and_unit_rows():
    vectors = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    np.testing.assert_allclose(cosine_matrix(vectors), [[1, 1, 0], [1, 1, 0], [0, 0, 1]])
    np.testing.assert_allclose(unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]])), [[0.6, 0.8], [0.0, 0.0]])


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
