"""The labelled dataset every probe reads: texts, one label each, optional target words and split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bertology.core.errors import InputError


@dataclass
class ProbeDataset:
    """Texts with one label each, optional target words and an optional train/test split.

    Attributes
    ----------
    texts
        Sentences.
    labels
        ``(n,)`` int class indices ``0..K-1``.
    label_names
        Name of each class index.
    words
        Per text, the 0-based whitespace index of the target word (word-level tasks), else ``None``.
    split
        ``(n,)`` array of ``"train"``/``"test"`` for an official split, else ``None``.
    name
        Short dataset name for tables and figures.

    Examples
    --------
    >>> d = ProbeDataset(["a good film", "a bad film"], np.array([1, 0]), ["negative", "positive"])
    >>> d.n_classes, len(d)
    (2, 2)
    """

    texts: list[str]
    labels: np.ndarray
    label_names: list[str]
    words: list[int] | None = None
    split: np.ndarray | None = None
    name: str = "dataset"

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if len(self.texts) != len(self.labels) or not len(self.texts):
            raise InputError(f"Dataset {self.name!r}: {len(self.texts)} texts but {len(self.labels)} labels; "
                             "give exactly one label per text (and at least one text).")
        if self.words is not None and len(self.words) != len(self.texts):
            raise InputError(f"Dataset {self.name!r}: {len(self.words)} word indices for {len(self.texts)} texts; "
                             "give one word index per text.")
        if self.labels.min() < 0 or self.labels.max() >= len(self.label_names):
            raise InputError(f"Dataset {self.name!r}: labels must be 0..{len(self.label_names) - 1} "
                             f"(one per label name), got {self.labels.min()}..{self.labels.max()}.")

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.label_names)

    @property
    def types(self) -> list[str]:
        """Per item, the word type used by control tasks: the lowercased target word, else the sentence."""
        if self.words is None:
            return [text.lower() for text in self.texts]
        split: dict[str, list[str]] = {}
        return [(split.get(text) or split.setdefault(text, text.split()))[word].lower()
                for text, word in zip(self.texts, self.words)]

    def subset(self, rows: np.ndarray) -> ProbeDataset:
        """The items ``rows`` as a new dataset."""
        rows = np.asarray(rows)
        return ProbeDataset([self.texts[i] for i in rows], self.labels[rows], self.label_names,
                            None if self.words is None else [self.words[i] for i in rows],
                            None if self.split is None else self.split[rows], self.name)
