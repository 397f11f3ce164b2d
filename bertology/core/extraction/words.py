"""Vectors of every word of every sentence (a treebank), one forward pass per sentence, stored ragged."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bertology.core.distributed import rank_info
from bertology.core.errors import InputError, StoreError
from bertology.core.extraction.align import as_integer, encode_corpus
from bertology.core.extraction.extractor import Layers, fill_store, parse_layers, resolve_layers
from bertology.core.extraction.pooling import WORD_POOLINGS, resolve_pooling
from bertology.core.extraction.store import ActivationStore
from bertology.core.manifest import content_hash, package_versions
from bertology.core.models import LoadedModel, load_model
from bertology.core.paths import check_output

logger = logging.getLogger(__name__)

KIND = "word_vectors"


@dataclass
class WordVectors:
    """Per-layer vectors of every word of every sentence, ragged: sentence ``i`` is rows ``offsets[i]:offsets[i+1]``.

    Attributes
    ----------
    offsets
        ``(n_sentences + 1,)`` int64 row offsets.
    layers
        Hidden-state indices (0 = embeddings).
    truncated
        ``(n_sentences,)`` bool: the sentence was longer than the model allows and only
        the words that fit whole are stored (consumers that need whole trees leave these out).
    vectors
        ``{layer: (n_words_total, hidden)}``: an :class:`ActivationStore` (memory-mapped)
        or in-memory arrays.

    Examples
    --------
    >>> wv = WordVectors.from_sentences({0: [np.zeros((2, 3)), np.ones((3, 3))]})
    >>> wv.offsets.tolist(), wv.sentence(1, 0).shape, len(wv)
    ([0, 2, 5], (3, 3), 2)
    """

    offsets: np.ndarray
    layers: list[int]
    truncated: np.ndarray
    vectors: Mapping[int, np.ndarray]

    def __post_init__(self) -> None:
        self.offsets = np.asarray(self.offsets, dtype=np.int64)
        self.truncated = np.asarray(self.truncated, dtype=bool)
        self.layers = [int(layer) for layer in self.layers]
        if self.offsets.ndim != 1 or len(self.offsets) < 2 or self.offsets[0] or np.any(np.diff(self.offsets) < 0):
            raise InputError("WordVectors.offsets must be (n_sentences + 1,) non-decreasing row offsets from 0.")
        if len(self.truncated) != len(self):
            raise InputError(f"WordVectors.truncated has {len(self.truncated)} entries for {len(self)} sentences; "
                             "give one flag per sentence.")

    @classmethod
    def from_sentences(cls, vectors: Mapping[int, Sequence[np.ndarray]],
                       truncated: Sequence[bool] | None = None) -> WordVectors:
        """Word vectors from per-sentence arrays: ``{layer: [(n_words_i, hidden) per sentence]}``.

        Examples
        --------
        >>> WordVectors.from_sentences({3: [np.eye(2)]}).layer(3).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
        """
        layers = sorted(int(layer) for layer in vectors)
        if not layers:
            raise InputError("WordVectors.from_sentences needs at least one layer: {layer: [arrays per sentence]}.")
        counts = [len(block) for block in vectors[layers[0]]]
        for layer in layers:
            if [len(block) for block in vectors[layer]] != counts:
                raise InputError(f"Layer {layer} has other sentence lengths than layer {layers[0]}: every layer needs "
                                 "one (n_words_i, hidden) array per sentence, the same sentences in the same order.")
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        flags = np.zeros(len(counts), dtype=bool) if truncated is None else np.asarray(truncated, dtype=bool)
        arrays = {layer: np.concatenate([np.asarray(b, dtype=np.float32) for b in vectors[layer]]) for layer in layers}
        return cls(offsets, layers, flags, arrays)

    @classmethod
    def load(cls, out: str | Path) -> WordVectors:
        """The word vectors stored under ``out`` by :func:`word_vectors`.

        Raises
        ------
        StoreError
            When ``out`` holds no store, an incomplete or damaged one, or a store of
            another kind (e.g. from :func:`bertology.extract`).
        """
        store = ActivationStore(out)
        words = store.manifest.get("words")
        if store.manifest.get("kind") != KIND or not isinstance(words, dict):
            raise StoreError(f"{out} holds an activation store, not word vectors: write word vectors there with "
                             "word_vectors(..., out=...).")
        if not store.complete:
            raise StoreError(f"The word vectors at {out} are incomplete (interrupted extraction): run the same "
                             "word_vectors call again to finish them.")
        offsets = np.asarray(words.get("offsets", []), dtype=np.int64)
        flags = np.zeros(max(len(offsets) - 1, 0), dtype=bool)
        flags[np.asarray(words.get("truncated", []), dtype=np.int64)] = True
        return cls(offsets, store.layers, flags, store)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        """``(n_sentences,)`` number of stored words per sentence."""
        return np.diff(self.offsets)

    def layer(self, layer: int) -> np.ndarray:
        """``(n_words_total, hidden)`` float32 vectors of one layer (memory-mapped when stored)."""
        if layer not in self.vectors:
            raise InputError(f"Layer {layer} is not in these word vectors; they hold layers {self.layers}.")
        return self.vectors[layer]

    def sentence(self, index: int, layer: int) -> np.ndarray:
        """``(n_words_i, hidden)`` vectors of sentence ``index``'s words at ``layer``."""
        return self.layer(layer)[self.offsets[index]:self.offsets[index + 1]]


def _word_lists(sentences: Sequence[Any]) -> list[tuple[str, ...]]:
    """The words of each sentence (a Treebank, DependencySentences or word lists), checked."""
    if isinstance(sentences, str) or not isinstance(sentences, Sequence) or not len(sentences):
        raise InputError("sentences must be a non-empty Treebank or list of word lists (e.g. [['Dogs', 'bark']]).")
    lists = []
    for index, sentence in enumerate(sentences):
        words = getattr(sentence, "words", sentence)
        if isinstance(words, str) or not isinstance(words, Sequence) or not len(words):
            raise InputError(f"Sentence {index} is {words!r}, not a non-empty list of words: give each sentence as "
                             "its list of words (a string would be read letter by letter).")
        for position, word in enumerate(words):
            if not isinstance(word, str) or not word or len(word.split()) != 1 or word != word.strip():
                raise InputError(f"Sentence {index}, word {position} is {word!r}: each word must be a non-empty "
                                 "string without whitespace (split such words, or remove their spaces).")
        lists.append(tuple(words))
    return lists


def word_vectors(model: LoadedModel | str, sentences: Sequence[Any], layers: Layers = "all",
                 pool: str = "word_mean", out: str | Path | None = None, batch_size: int = 32,
                 progress: bool = True, overwrite: bool = False) -> WordVectors:
    """Per-layer vectors of every word of every sentence, one forward pass per sentence.

    Each sentence (its words joined by spaces) runs once through the model, in batches of
    ``batch_size`` sentences of similar length; every word is then pooled from that pass over
    its word-pieces, found through the tokenizer's character offsets, as
    :func:`bertology.extract` does for one target word: the mean of the pieces
    (``word_mean``, Hewitt & Manning 2019) or the first piece (``word_first``). Vectors are
    streamed into an :class:`ActivationStore` with one row per word, sentence after sentence,
    so a treebank of any size fits; an interrupted run resumes.

    A sentence longer than the model allows keeps the words whose pieces all fit, is marked
    in ``truncated``, and the number of such sentences is logged as a warning: rows always
    belong to the words they are listed for.

    Parameters
    ----------
    model
        From :func:`bertology.load_model`, or a model name.
    sentences
        A :class:`~bertology.core.data.conllu.Treebank` (its syntactic words) or a list of
        word lists.
    layers
        Hidden states as in :func:`bertology.extract` (``"all"``: 0..L).
    pool
        ``"word_mean"`` or ``"word_first"``.
    out
        Store directory; ``None``: a temporary store, removed when the result is no
        longer referenced.
    batch_size
        Sentences per forward pass.
    progress
        Show a progress bar.
    overwrite
        Replace a store at ``out`` made with a different request.

    Returns
    -------
    WordVectors

    Raises
    ------
    InputError
        Empty input, a sentence that is not a list of words, a word with whitespace or that
        produces no word-pieces, a pooling other than the word poolings, bad layers, batch
        size or output; all before a model given by name loads.
    StoreError
        ``out`` holds a different extraction (without ``overwrite``) or is being written.

    References
    ----------
    Hewitt & Manning (2019), "A Structural Probe for Finding Syntax in Word Representations", NAACL.

    Examples
    --------
    >>> import bertology as bt
    >>> wv = word_vectors(bt.load_model("minilm"), [["Dogs", "bark", "."], ["Unbelievable", "!"]], layers=[0, 6],
    ...                   progress=False)
    >>> wv.offsets.tolist(), wv.sentence(1, 6).shape, wv.truncated.tolist()
    ([0, 3, 5], (2, 384), [False, False])
    """
    words = _word_lists(sentences)
    pooling = resolve_pooling(pool)
    if pooling not in WORD_POOLINGS:
        raise InputError(f"word_vectors pools words: pool must be 'word_mean' or 'word_first', got {pool!r}.")
    if as_integer(batch_size) is None or batch_size < 1:
        raise InputError(f"batch_size must be an integer of at least 1, got {batch_size!r}.")
    parse_layers(layers)
    if out is not None:
        check_output(out)
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    hidden_indices = resolve_layers(layers, loaded.num_layers)
    texts = [" ".join(sentence) for sentence in words]
    item_texts = [text for text, sentence in zip(texts, words) for _ in sentence]
    item_words = [position for sentence in words for position in range(len(sentence))]
    corpus = encode_corpus(loaded.tokenizer, item_texts, loaded.max_length, words=item_words, truncate=True,
                           on_error="skip")
    counts = np.array([len(sentence) for sentence in words], dtype=np.int64)
    first_item = np.concatenate([[0], np.cumsum(counts)])
    sentence_of = np.repeat(np.arange(len(words)), counts)
    cut = np.zeros(len(item_texts), dtype=bool)
    cut[list(corpus.skipped)] = True
    kept_counts = np.bincount(sentence_of[~cut], minlength=len(words))
    truncated = np.zeros(len(words), dtype=bool)
    truncated[sentence_of[corpus.truncated]] = True
    position = np.arange(len(item_texts)) - first_item[sentence_of]
    lost = cut & ((position < kept_counts[sentence_of]) | ~truncated[sentence_of])
    if lost.any():
        item = int(np.flatnonzero(lost)[0])
        sentence = int(sentence_of[item])
        word = words[sentence][position[item]]
        raise InputError(f"Sentence {sentence}, word {position[item]} ({word!r}) produces no word-pieces with this "
                         "tokenizer (it only holds characters the tokenizer drops): remove or replace it.")
    keep = np.flatnonzero(~cut)
    offsets = np.concatenate([[0], np.cumsum(kept_counts)]).astype(np.int64)
    if truncated.any():
        logger.warning("%d of %d sentences are longer than the model's %d tokens: only their first %d of %d words "
                       "are kept.", int(truncated.sum()), len(words), loaded.max_length,
                       int(kept_counts[truncated].sum()), int(counts[truncated].sum()))
    if not len(keep):
        raise InputError("No word fits the model's length limit: give shorter sentences.")
    kept = corpus.subset(keep)
    request = {
        "layers": hidden_indices, "pool": pooling, "dtype": "float32", "n_items": int(len(keep)),
        "batch_size": batch_size, "max_length": loaded.max_length,
        "input_sha256": content_hash({"sentences": [list(sentence) for sentence in words]}),
        "model_weights_sha256": loaded.weights_sha256, "model_source": loaded.source,
    }
    manifest: dict[str, Any] = {
        "kind": KIND, "request": request, "model": loaded.describe(),
        "tokenizer": type(loaded.tokenizer).__name__, "packages": package_versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    finish = {"words": {"offsets": offsets.tolist(), "truncated": np.flatnonzero(truncated).tolist()}}
    store = fill_store(out, loaded, kept, manifest, pooling, overwrite, rank_info(), progress, finish)
    return WordVectors(offsets, store.layers, truncated, store)

