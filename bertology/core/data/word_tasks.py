"""Per-word tagging tasks from a treebank (UPOS, XPOS, DEPREL) as probing datasets."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bertology.core.data.conllu import DependencySentence
from bertology.core.data.dataset import ProbeDataset
from bertology.core.data.names import WORD_TAGS
from bertology.core.errors import InputError


def _tagged_rows(sentences: Sequence[DependencySentence], tag: str) -> tuple[list[str], list[int], list[str]]:
    texts: list[str] = []
    words: list[int] = []
    tags: list[str] = []
    for sentence in sentences:
        values = getattr(sentence, {"deprel": "deprels"}.get(tag, tag))
        text = sentence.text
        texts += [text] * len(values)
        words += range(len(values))
        tags += values
    return texts, words, tags


def word_task(treebank: Sequence[DependencySentence], tag: str = "upos",
              test: Sequence[DependencySentence] | None = None, min_count: int = 1) -> ProbeDataset:
    """A per-word tagging task: one item per word of every sentence, labelled with its tag.

    The tasks on which Hewitt & Liang (2019) defined control tasks: part of speech (UPOS,
    or the treebank's XPOS) and the dependency label of the arc from each word to its head
    (DEPREL, with its subtype). Each item's text is the sentence (words joined by spaces)
    and its target word the word's index, so :func:`bertology.probe_layers` runs one forward
    pass per sentence for all its words, and control tasks give each word type (the
    lowercased form) one random label.

    Parameters
    ----------
    treebank
        A :class:`~bertology.core.data.conllu.Treebank` (or list of sentences).
    tag
        ``"upos"``, ``"xpos"`` or ``"deprel"``.
    test
        A second treebank used as the test split (e.g. the UD test file): items from
        ``treebank`` are then ``split="train"``, those from ``test`` ``split="test"``
        (probe with ``cv=None``).
    min_count
        Leave out the words of tags seen fewer than ``min_count`` times in ``treebank``
        (rare DEPREL subtypes), e.g. ``min_count=5`` for 5-fold cross-validation, which
        needs 5 items of every class.

    Returns
    -------
    ProbeDataset
        With ``words`` set, labels the sorted tag set, and ``split`` when ``test`` is given.

    Raises
    ------
    InputError
        An unknown tag, an empty treebank, a ``min_count`` below 1, or a tag column that is
        empty (``_``) throughout (many treebanks have no XPOS).

    References
    ----------
    Hewitt & Liang (2019), "Designing and Interpreting Probes with Control Tasks", EMNLP.

    Examples
    --------
    >>> from bertology.core.data.conllu import DependencySentence
    >>> s = DependencySentence(("Dogs", "bark", "."), ("NOUN", "VERB", "PUNCT"), ("NNS", "VBP", "."), (2, 0, 2),
    ...                        ("nsubj", "root", "punct"))
    >>> d = word_task([s], "upos")
    >>> d.texts[0], d.words, [d.label_names[k] for k in d.labels]
    ('Dogs bark .', [0, 1, 2], ['NOUN', 'VERB', 'PUNCT'])
    """
    if tag not in WORD_TAGS:
        raise InputError(f"Unknown word tag {tag!r}: choose one of {', '.join(WORD_TAGS)}.")
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise InputError(f"min_count={min_count!r} must be an integer of at least 1 (1 keeps every tag).")
    parts = [("train", treebank)] + ([("test", test)] if test is not None else [])
    texts: list[str] = []
    words: list[int] = []
    tags: list[str] = []
    split: list[str] = []
    for part, sentences in parts:
        if not len(sentences):
            raise InputError(f"The {part} treebank has no sentences: give a treebank with at least one sentence.")
        part_texts, part_words, part_tags = _tagged_rows(sentences, tag)
        texts += part_texts
        words += part_words
        tags += part_tags
        split += [part] * len(part_texts)
    if all(value == "_" for value in tags):
        raise InputError(f"The treebank has no {tag.upper()} tags (the column is '_' throughout): choose another "
                         "tag, e.g. upos.")
    tag_array = np.asarray(tags, dtype=object).astype(str)
    split_array = np.asarray(split)
    values, counts = np.unique(tag_array[split_array == "train"], return_counts=True)
    frequent = set(values[counts >= min_count].tolist())
    keep = np.flatnonzero([value in frequent for value in tag_array])
    if min_count > 1 and len(keep) < len(tags):
        texts, words = [texts[i] for i in keep], [words[i] for i in keep]
        tag_array, split_array = tag_array[keep], split_array[keep]
    names, labels = np.unique(tag_array, return_inverse=True)
    name = f"{getattr(treebank, 'name', 'treebank')}-{tag}"
    return ProbeDataset(texts, labels, [str(n) for n in names], words, split_array if test is not None else None,
                        name)
