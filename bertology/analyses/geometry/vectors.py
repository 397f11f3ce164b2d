"""Contextual vectors of every word of a corpus, and cosine helpers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from bertology.core.extraction import batch_tensors, encode_corpus, length_sorted_batches, resolve_layers
from bertology.core.hooks import hidden_state_name, trace
from bertology.core.models import LoadedModel
from bertology.core.progress import progress_bar


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

    Each sentence runs through the model once, in length-sorted batches that stop after
    the deepest requested layer; every word is then pooled from that one pass, with the
    word-piece alignment of :func:`bertology.extract` (``pool="word_mean"``).

    Parameters
    ----------
    model
        From :func:`bertology.load_model`.
    texts
        Sentences; each whitespace-separated word is one occurrence.
    layers
        Hidden states as in :func:`bertology.extract`.
    batch_size
        Sentences per forward pass.
    progress
        Show a progress bar.

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
    corpus = encode_corpus(model.tokenizer, texts, model.max_length, all_words=True)
    hidden_indices = resolve_layers(layers, model.num_layers)
    names = [hidden_state_name(index, model.num_layers) for index in hidden_indices]
    counts = np.array([len(ranges) for ranges in corpus.all_word_tokens])
    first_row = np.concatenate([[0], np.cumsum(counts)])
    vectors = {k: np.empty((int(counts.sum()), model.hidden_size)) for k in hidden_indices}
    batches = length_sorted_batches(corpus.lengths, batch_size)
    with torch.inference_mode():
        for rows in progress_bar(batches, total=len(batches), desc="word vectors", unit="batch", progress=progress):
            inputs, _ = batch_tensors(model, corpus, rows)
            with trace(model, names, stop=True) as cache:
                model(**inputs)
            for index, name in zip(hidden_indices, names):
                hidden = cache[name].double().cpu()
                prefix = torch.nn.functional.pad(hidden.cumsum(dim=1), (0, 0, 1, 0)).numpy()  # (B, T + 1, H)
                for position, row in enumerate(rows):
                    first, stop = corpus.all_word_tokens[row].T
                    sums = prefix[position, stop] - prefix[position, first]
                    vectors[index][first_row[row]:first_row[row + 1]] = sums / (stop - first)[:, None]
    sentence = np.repeat(np.arange(len(texts)), counts)
    types = [word.lower() for text in texts for word in text.split()]
    return WordVectors(vectors, sentence, types)


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
