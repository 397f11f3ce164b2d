"""Per-layer features of a model on texts, written to memory-mapped files: every word, or one pooled row per text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from bertology.core.extraction import batch_tensors, encode_corpus, extract, length_sorted_batches
from bertology.core.hooks import hidden_state_name, trace
from bertology.core.models import LoadedModel
from bertology.core.progress import progress_bar

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
    """Vectors of every whitespace word of every text at each layer, written to ``.npy`` files under ``directory``.

    A word's vector is the mean of its word-pieces (the alignment of
    :func:`bertology.extract` with ``pool="word_mean"``). Each text runs through the
    model once, in length-sorted batches that stop after the deepest requested layer;
    each batch's words go straight to the memory-mapped files, so memory does not grow
    with the corpus. Rows follow the texts' order, then the words' order.

    Parameters
    ----------
    model
        From :func:`bertology.load_model`.
    texts
        Sentences.
    layers
        Hidden-state indices (0 = embeddings).
    directory
        An existing directory for the files ``words_layer_XX.npy``.
    batch_size
        Texts per forward pass.
    progress
        Show a progress bar.

    Returns
    -------
    dict
        ``{layer: (n_words, hidden) float32 memory-mapped array}``.

    Examples
    --------
    >>> import tempfile, bertology as bt
    >>> f = word_features(bt.load_model("minilm"), ["the river bank", "a bank"], [0, 6], tempfile.mkdtemp(),
    ...                   progress=False)
    >>> f[6].shape
    (5, 384)
    """
    corpus = encode_corpus(model.tokenizer, texts, model.max_length, all_words=True)
    counts = np.array([len(ranges) for ranges in corpus.all_word_tokens])
    first_row = np.concatenate([[0], np.cumsum(counts)])
    arrays = {layer: np.lib.format.open_memmap(Path(directory) / f"words_layer_{layer:02d}.npy", mode="w+",
                                               dtype=np.float32, shape=(int(first_row[-1]), model.hidden_size))
              for layer in layers}
    names = [hidden_state_name(layer, model.num_layers) for layer in layers]
    batches = length_sorted_batches(corpus.lengths, batch_size)
    with torch.inference_mode():
        for rows in progress_bar(batches, total=len(batches), desc="word features", unit="batch", progress=progress):
            inputs, _ = batch_tensors(model, corpus, rows)
            ranges = np.concatenate([corpus.all_word_tokens[row] for row in rows])
            item = torch.as_tensor(np.repeat(np.arange(len(rows)), counts[rows]))
            first, stop = torch.as_tensor(ranges[:, 0]), torch.as_tensor(ranges[:, 1])
            targets = np.concatenate([np.arange(first_row[row], first_row[row + 1]) for row in rows])
            lengths = (stop - first).unsqueeze(1).double()
            with trace(model, names, stop=True) as cache:
                model(**inputs)
            for layer, name in zip(layers, names):
                hidden = cache[name].double().cpu()
                prefix = torch.nn.functional.pad(hidden.cumsum(dim=1), (0, 0, 1, 0))  # (B, T + 1, H)
                means = (prefix[item, stop] - prefix[item, first]) / lengths
                arrays[layer][targets] = means.float().numpy()
    for array in arrays.values():
        array.flush()
    return arrays


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
