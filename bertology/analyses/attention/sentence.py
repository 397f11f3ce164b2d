"""All attention patterns of one sentence or sentence pair, with its tokens."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bertology.core.errors import InputError
from bertology.core.hooks import trace
from bertology.core.models import LoadedModel

Text = str | tuple[str, str]


@dataclass
class SentenceAttention:
    """Attention probabilities of every layer and head for one input.

    Attributes
    ----------
    tokens
        Token strings, special tokens included.
    patterns
        ``(layers, heads, query, key)`` float32 array.
    segments
        Segment of each token: 0 for the first text (and leading specials), 1 for the second.
    """

    tokens: list[str]
    patterns: np.ndarray
    segments: np.ndarray

    @property
    def is_pair(self) -> bool:
        """Whether the input was a sentence pair."""
        return bool(self.segments.max(initial=0) > 0)

    def head_mean(self) -> np.ndarray:
        """Head-averaged maps ``(layers, query, key)``.

        Examples
        --------
        >>> SentenceAttention(["a"], np.ones((2, 3, 1, 1)), np.zeros(1, int)).head_mean().shape
        (2, 1, 1)
        """
        return self.patterns.mean(axis=1)

    def save(self, path: str | Path) -> Path:
        """Write to a compressed ``.npz`` file.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> a = SentenceAttention(["a", "b"], np.ones((1, 1, 2, 2), np.float32) / 2, np.zeros(2, int))
        >>> SentenceAttention.load(a.save(pathlib.Path(tempfile.mkdtemp()) / "a.npz")).tokens
        ['a', 'b']
        """
        path = Path(path).with_suffix(".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, tokens=np.asarray(self.tokens, dtype=str), patterns=self.patterns,
                            segments=self.segments)
        return path

    @classmethod
    def load(cls, path: str | Path) -> SentenceAttention:
        """Read a file written by :meth:`save`.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> a = SentenceAttention(["a"], np.ones((1, 1, 1, 1), np.float32), np.zeros(1, int))
        >>> SentenceAttention.load(a.save(pathlib.Path(tempfile.mkdtemp()) / "a")).patterns.shape
        (1, 1, 1, 1)
        """
        with np.load(Path(path), allow_pickle=False) as data:
            return cls([str(t) for t in data["tokens"]], data["patterns"], data["segments"])


def encode_text(model: LoadedModel, text: Text) -> tuple[dict[str, torch.Tensor], np.ndarray]:
    """Model inputs for one sentence or a ``(text_a, text_b)`` pair (batch of one), and the segments.

    Parameters
    ----------
    model
        From :func:`bertology.load_model`.
    text
        A sentence, or ``(text_a, text_b)`` for a [SEP]-separated pair.

    Returns
    -------
    tuple
        ``(inputs, segments)``: the keyword arguments of the model, and per token its
        segment (0 for the first text and leading specials, 1 from the second text on).

    Raises
    ------
    InputError
        Empty text, a pair that is not two strings, or an input longer than the model accepts.

    Examples
    --------
    >>> from bertology import load_model
    >>> inputs, segments = encode_text(load_model("minilm"), ("Is it open?", "Yes."))
    >>> inputs["token_type_ids"].tolist(), segments.tolist()
    ([[0, 0, 0, 0, 0, 0, 1, 1, 1]], [0, 0, 0, 0, 0, 0, 1, 1, 1])
    """
    parts = (text,) if isinstance(text, str) else tuple(text) if isinstance(text, (tuple, list)) else ()
    if not 1 <= len(parts) <= 2 or not all(isinstance(p, str) for p in parts):
        raise InputError(f"Expected a sentence or a (text_a, text_b) pair of strings, got {text!r}.")
    if not all(p.strip() for p in parts):
        raise InputError("The text is empty: pass a sentence with at least one word.")
    encoded = model.tokenizer(*parts, return_tensors="pt", truncation=False,
                              return_token_type_ids=True, verbose=False)
    length = encoded["input_ids"].shape[1]
    if length > model.max_length:
        raise InputError(f"The input has {length} tokens but the model accepts at most {model.max_length}: "
                         "shorten the sentence.")
    inputs = {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}
    if model.adapter.uses_token_type_ids:
        inputs["token_type_ids"] = encoded["token_type_ids"]
    sequence_ids = encoded.sequence_ids(0)
    segments = np.array([0 if s is None else s for s in sequence_ids], dtype=np.int64)
    if len(parts) == 2:
        segments[sequence_ids.index(1):] = 1
    return inputs, segments


def sentence_attention(model: LoadedModel, text: Text) -> SentenceAttention:
    """Attention probabilities of every layer and head for one sentence or sentence pair.

    Parameters
    ----------
    model
        From :func:`bertology.load_model` (any supported architecture; attention runs eager).
    text
        A sentence, or ``(text_a, text_b)`` for a [SEP]-separated pair.

    Returns
    -------
    SentenceAttention

    Examples
    --------
    >>> from bertology import load_model
    >>> a = sentence_attention(load_model("minilm"), "The bank is closed.")
    >>> a.tokens[:3], a.patterns.shape
    (['[CLS]', 'the', 'bank'], (6, 12, 7, 7))
    """
    inputs, segments = encode_text(model, text)
    names = [f"layers.{i}.attn.pattern" for i in range(model.num_layers)]
    with torch.inference_mode(), trace(model, names, stop=True) as cache:
        model(**{key: value.to(model.device) for key, value in inputs.items()})
    patterns = torch.stack([cache[name][0] for name in names]).float().cpu().numpy()
    tokens = model.tokenizer.convert_ids_to_tokens(inputs["input_ids"][0].tolist())
    return SentenceAttention(tokens, patterns, segments)
