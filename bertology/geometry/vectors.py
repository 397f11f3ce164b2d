"""Contextual vectors of every word of a corpus, and cosine helpers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from bertology.extract import encode_corpus, extract
from bertology.models import LoadedModel


@dataclass
class WordVectors:
    """Per-layer vectors of word occurrences.

    Attributes
    ----------
    vectors
        ``{layer: (n_occurrences, hidden)}``.
    sentence
        ``(n_occurrences,)`` index of each occurrence's sentence.
    types
        Lowercased surface form of each occurrence.
    """

    vectors: dict[int, np.ndarray]
    sentence: np.ndarray
    types: list[str]


def word_vectors(model: LoadedModel, texts: Sequence[str], layers: str | int | Sequence[int] = "all",
                 batch_size: int = 32, progress: bool = True) -> WordVectors:
    """Vectors of every whitespace word of every sentence, at each layer (mean of its word-pieces).

    Parameters
    ----------
    model
        From :func:`bertology.load_model`.
    texts
        Sentences; each whitespace-separated word is one occurrence.
    layers
        Hidden states as in :func:`bertology.extract`.
    batch_size, progress
        Passed to :func:`bertology.extract`.

    Returns
    -------
    WordVectors

    Examples
    --------
    >>> import bertology as bt
    >>> wv = word_vectors(bt.load_model("minilm"), ["the bank", "a bank"], layers=6, progress=False)
    >>> wv.vectors[6].shape, wv.types
    ((4, 384), ['the', 'bank', 'a', 'bank'])
    """
    items = [(index, position) for index, text in enumerate(texts) for position in range(len(text.split()))]
    sentence = np.array([index for index, _ in items])
    store = extract(model, [texts[index] for index, _ in items], layers=layers, pool="word_mean",
                    words=[position for _, position in items], batch_size=batch_size, progress=progress)
    types = [texts[index].split()[position].lower() for index, position in items]
    return WordVectors({k: np.asarray(store[k], dtype=np.float64) for k in store.layers}, sentence, types)


def static_embeddings(model: LoadedModel, texts: Sequence[str], words: Sequence[int]) -> np.ndarray:
    """Static input embedding of each target word: the mean of its word-pieces' rows of the input embedding matrix.

    Parameters
    ----------
    model
        The model whose input embedding matrix is read (no position or segment embeddings).
    texts
        Sentences.
    words
        Per sentence, the 0-based whitespace index of the target word.

    Returns
    -------
    numpy.ndarray
        ``(n, hidden)``.

    Examples
    --------
    >>> import bertology as bt
    >>> m = bt.load_model("minilm")
    >>> v = static_embeddings(m, ["the bank", "a bank"], [1, 1])
    >>> bool(np.allclose(v[0], v[1]))
    True
    """
    corpus = encode_corpus(model.tokenizer, texts, model.max_length, words=words)
    matrix = model.model.get_input_embeddings().weight
    with torch.inference_mode():
        rows = [matrix[torch.tensor(ids[start:stop])].mean(dim=0)
                for ids, (start, stop) in zip(corpus.input_ids, corpus.word_tokens)]
        return torch.stack(rows).double().cpu().numpy()


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero).

    Examples
    --------
    >>> unit_rows(np.array([[3.0, 4.0]])).tolist()
    [[0.6, 0.8]]
    """
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """All pairwise cosine similarities of the rows.

    Examples
    --------
    >>> cosine_matrix(np.array([[1.0, 0.0], [1.0, 1.0]])).round(3).tolist()
    [[1.0, 0.707], [0.707, 1.0]]
    """
    unit = unit_rows(vectors)
    return unit @ unit.T
