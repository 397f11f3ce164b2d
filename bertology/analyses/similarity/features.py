"""Per-layer features of a model on texts, written to memory-mapped files: every word, or one pooled row per text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bertology.core.errors import InputError
from bertology.core.extraction import extract, word_vectors
from bertology.core.models import LoadedModel

WORD_FEATURES = "all_words"


def count_rows(texts: Sequence[str], pool: str) -> int:
    """Rows the features of ``texts`` will have: whitespace words for ``all_words``, else one per text.

    Examples
    --------
    >>> count_rows(["a b c", "d"], "all_words"), count_rows(["a b c", "d"], "cls")
    (4, 2)
    """
    return sum(len(text.split()) for text in texts) if pool == WORD_FEATURES else len(texts)


def word_features(model: LoadedModel, texts: Sequence[str], layers: Sequence[int], directory: str | Path,
                  batch_size: int = 32, progress: bool = True) -> dict[int, np.ndarray]:
    """Vectors of every whitespace word of every text at each layer, stored under ``directory``.

    A word's vector is the mean of its word-pieces, from one forward pass per text
    (:func:`bertology.core.extraction.word_vectors` into an ActivationStore, so memory does
    not grow with the corpus). Rows follow the texts' order, then the words' order, so the
    rows of two models with different tokenizers are the same words.

    Parameters
    ----------
    model
        From :func:`bertology.load_model`.
    texts
        Sentences.
    layers
        Hidden-state indices (0 = embeddings).
    directory
        A directory for the store (``directory/words``).
    batch_size
        Texts per forward pass.
    progress
        Show a progress bar.

    Returns
    -------
    dict
        ``{layer: (n_words, hidden) float32 memory-mapped array}``.

    Raises
    ------
    InputError
        When a text is longer than the model allows: its last words would have no vector,
        and the rows of two models would no longer be the same words.

    Examples
    --------
    >>> import tempfile, bertology as bt
    >>> f = word_features(bt.load_model("minilm"), ["the river bank", "a bank"], [0, 6], tempfile.mkdtemp(),
    ...                   progress=False)
    >>> f[6].shape
    (5, 384)
    """
    vectors = word_vectors(model, [text.split() for text in texts], layers=list(layers), pool="word_mean",
                           out=Path(directory) / "words", batch_size=batch_size, progress=progress)
    if vectors.truncated.any():
        first = int(np.flatnonzero(vectors.truncated)[0])
        raise InputError(f"{int(vectors.truncated.sum())} texts are longer than {model.name} allows "
                         f"({model.max_length} tokens), e.g. text {first}: shorten or split them, so that every word "
                         "has a vector.")
    return {layer: vectors.layer(layer) for layer in layers}


def model_features(model: LoadedModel, texts: Sequence[str], layers: Sequence[int], pool: str,
                   directory: str | Path, batch_size: int = 32, progress: bool = True) -> dict[int, np.ndarray]:
    """Features of ``texts`` for similarity: every word (``pool="all_words"``), or one pooled row per text.

    Pooled features are extracted with :func:`bertology.extract` into a store under
    ``directory``; word features with :func:`word_features`.

    Returns
    -------
    dict
        ``{layer: (rows, hidden) memory-mapped array}``.

    Examples
    --------
    >>> import tempfile, bertology as bt
    >>> f = model_features(bt.load_model("minilm"), ["One.", "Two."], [6], "cls", tempfile.mkdtemp(), progress=False)
    >>> f[6].shape
    (2, 384)
    """
    if pool == WORD_FEATURES:
        return word_features(model, texts, layers, directory, batch_size, progress)
    store = extract(model, texts, layers=list(layers), pool=pool, batch_size=batch_size,
                    out=Path(directory) / "store", progress=progress)
    return {layer: store[layer] for layer in layers}
