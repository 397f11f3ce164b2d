"""Edge-probing data: the jiant JSON-lines format of Tenney et al. (2019a), and a CoNLL-U converter.

One example per line::

    {"text": "The dog barked .", "targets": [{"span1": [1, 2], "span2": [2, 3], "label": "nsubj"}]}

Spans index the whitespace-split words of ``text`` and are end-exclusive; ``span2`` is
left out by single-span tasks (part of speech, entities); ``label`` is a string or, for
multi-label tasks, a list of strings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bertology.core.data.tables import jsonl_objects, read_text
from bertology.core.errors import InputError
from bertology.core.extraction.align import as_integer

if TYPE_CHECKING:
    from bertology.core.data.conllu import DependencySentence, Treebank

Span = tuple[int, int]


@dataclass(frozen=True)
class EdgeTarget:
    """One probing target: a span (or a pair of spans) and its label(s).

    Attributes
    ----------
    span1
        ``(start, end)`` whitespace-word indices, end-exclusive.
    span2
        The second span of a two-span task (the head of a dependency arc), or ``None``.
    labels
        The target's labels (one for single-label tasks).
    """

    span1: Span
    span2: Span | None
    labels: tuple[str, ...]


@dataclass(frozen=True)
class EdgeExample:
    """A sentence and its targets.

    Attributes
    ----------
    text
        The sentence; its whitespace-separated words are what spans index.
    targets
        The sentence's targets.
    line
        Line of the example in its file (1-based), or the item's position + 1 for data built in memory.
    """

    text: str
    targets: tuple[EdgeTarget, ...]
    line: int = 0

    @property
    def words(self) -> list[str]:
        """The whitespace-separated words of :attr:`text`."""
        return self.text.split()


class EdgeData(Sequence[EdgeExample]):
    """Edge-probing examples read from one source, all one-span or all two-span.

    Attributes
    ----------
    examples
        The examples, in file order.
    source
        The file they came from, or ``"<items>"``.

    Examples
    --------
    >>> data = edge_examples([{"text": "a b", "targets": [{"span1": [0, 1], "label": "X"}]}])
    >>> len(data), data.labels, data.two_spans, data.n_targets
    (1, ['X'], False, 1)
    """

    def __init__(self, examples: Sequence[EdgeExample], source: str = "<items>") -> None:
        self.examples = list(examples)
        self.source = source
        self.two_spans = False
        first: bool | None = None
        for example in self.examples:
            for target in example.targets:
                two = target.span2 is not None
                if first is None:
                    first = self.two_spans = two
                elif two != first:
                    raise InputError(f"{source}:{example.line}: some targets have span2 and others do not; one "
                                     "task's targets are all one-span or all two-span: split the file by task.")

    def __getitem__(self, index):  # type: ignore[override]
        return self.examples[index]

    def __len__(self) -> int:
        return len(self.examples)

    def __iter__(self) -> Iterator[EdgeExample]:
        return iter(self.examples)

    def __repr__(self) -> str:
        return (f"EdgeData({self.source!r}, examples={len(self)}, targets={self.n_targets}, "
                f"labels={len(self.labels)}, two_spans={self.two_spans})")

    @property
    def labels(self) -> list[str]:
        """Every label used, sorted."""
        return sorted({label for example in self.examples for target in example.targets for label in target.labels})

    @property
    def n_targets(self) -> int:
        """Targets over all examples."""
        return sum(len(example.targets) for example in self.examples)


def _span(value: object, n_words: int, where: str, name: str) -> Span:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise InputError(f"{where}: {name} is {value!r}, not a [start, end] pair of word indices.")
    start, end = (as_integer(v) for v in value)
    if start is None or end is None:
        raise InputError(f"{where}: {name} {value!r} holds a value that is not an integer word index.")
    if not 0 <= start < end <= n_words:
        raise InputError(f"{where}: {name} [{start}, {end}] is not a non-empty span of the sentence's {n_words} "
                         "whitespace words (indices from 0, end exclusive).")
    return start, end


def _labels(value: object, where: str) -> tuple[str, ...]:
    labels = [value] if isinstance(value, str) else value
    if not isinstance(labels, list) or not labels or not all(isinstance(v, str) and v for v in labels):
        raise InputError(f"{where}: label is {value!r}; give a non-empty string or a non-empty list of strings.")
    return tuple(dict.fromkeys(labels))


def _example(row: Mapping[str, Any], where: str, line: int) -> EdgeExample:
    text = row.get("text")
    if not isinstance(text, str) or not text.split():
        raise InputError(f"{where}: 'text' is missing or empty; each line needs the sentence as a string.")
    targets = row.get("targets")
    if not isinstance(targets, list):
        raise InputError(f"{where}: 'targets' is missing or not a list of {{span1, span2, label}} objects.")
    n_words = len(text.split())
    parsed = []
    for number, target in enumerate(targets):
        at = f"{where}, target {number}"
        if not isinstance(target, Mapping) or "span1" not in target or "label" not in target:
            raise InputError(f"{at}: a target needs 'span1' and 'label' (and 'span2' for two-span tasks).")
        span2 = target.get("span2")
        parsed.append(EdgeTarget(_span(target["span1"], n_words, at, "span1"),
                                 None if span2 is None else _span(span2, n_words, at, "span2"),
                                 _labels(target["label"], at)))
    return EdgeExample(text, tuple(parsed), line)


def load_edges(path: str | Path, limit: int | None = None) -> EdgeData:
    """Read an edge-probing file in jiant's JSON-lines format (Tenney et al. 2019a).

    Parameters
    ----------
    path
        A ``.json``/``.jsonl`` file, one ``{"text", "targets"}`` object per line.
    limit
        Read at most this many examples.

    Returns
    -------
    EdgeData

    Raises
    ------
    InputError
        A missing or unreadable file, a line that is not a JSON object, a missing text or
        targets list, a span outside its sentence, a bad label, or a file mixing one-span and
        two-span targets; the message names the file and line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "pos.jsonl"
    >>> _ = p.write_text('{"text": "dogs bark", "targets": [{"span1": [1, 2], "label": "VERB"}]}\\n')
    >>> load_edges(p)[0].targets[0]
    EdgeTarget(span1=(1, 2), span2=None, labels=('VERB',))
    """
    if limit is not None and (as_integer(limit) is None or limit < 1):
        raise InputError(f"limit must be a positive integer or None, got {limit!r}.")
    objects = jsonl_objects(read_text(path, "Edge-probing file"), path)
    if not objects:
        raise InputError(f"Edge-probing file {path} holds no examples: give one JSON object per line.")
    examples = [_example(row, f"{path}:{line}", line) for line, row in objects[:limit]]
    return EdgeData(examples, str(path))


def edge_examples(items: EdgeData | Iterable[Mapping[str, Any] | EdgeExample]) -> EdgeData:
    """Edge-probing data from examples in memory: dictionaries in the file format, or :class:`EdgeExample` objects.

    Parameters
    ----------
    items
        The examples (an :class:`EdgeData` is returned as it is).

    Returns
    -------
    EdgeData

    Raises
    ------
    InputError
        As :func:`load_edges`, naming the item by its position.

    Examples
    --------
    >>> edge_examples([{"text": "a b", "targets": [{"span1": [0, 1], "span2": [1, 2], "label": ["x", "y"]}]}]).labels
    ['x', 'y']
    """
    if isinstance(items, EdgeData):
        return items
    if isinstance(items, (str, bytes, Path)):
        raise InputError("edge_examples takes examples in memory; read a file with load_edges(path).")
    examples = []
    for index, item in enumerate(items):
        if isinstance(item, EdgeExample):
            examples.append(item)
        elif isinstance(item, Mapping):
            examples.append(_example(item, f"<items>:{index + 1}", index + 1))
        else:
            raise InputError(f"<items>:{index + 1}: expected a dict in the edge-probing format or an EdgeExample, "
                             f"got {type(item).__name__}.")
    if not examples:
        raise InputError("No edge-probing examples given: pass at least one.")
    return EdgeData(examples)


def _record(example: EdgeExample) -> dict[str, Any]:
    targets = []
    for target in example.targets:
        record: dict[str, Any] = {"span1": list(target.span1)}
        if target.span2 is not None:
            record["span2"] = list(target.span2)
        record["label"] = target.labels[0] if len(target.labels) == 1 else list(target.labels)
        targets.append(record)
    return {"text": example.text, "targets": targets}


def write_edges(data: EdgeData | Iterable[EdgeExample], path: str | Path) -> Path:
    """Write examples in jiant's JSON-lines format (what :func:`load_edges` reads).

    Parameters
    ----------
    data
        The examples.
    path
        The output file (its folder is created).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> data = edge_examples([{"text": "a b", "targets": [{"span1": [0, 1], "label": "X"}]}])
    >>> p = write_edges(data, pathlib.Path(tempfile.mkdtemp()) / "x.jsonl")
    >>> p.read_text()
    '{"text": "a b", "targets": [{"span1": [0, 1], "label": "X"}]}\\n'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(_record(example), ensure_ascii=False) + "\n" for example in data]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _word(form: str) -> str:
    return "_".join(form.split()) or "_"


def _sentence_example(sentence: DependencySentence, task: str, tag: str, line: int) -> EdgeExample:
    words = [_word(form) for form in sentence.words]
    if task == "pos":
        tags = sentence.upos if tag == "upos" else sentence.xpos
        targets = tuple(EdgeTarget((i, i + 1), None, (label,)) for i, label in enumerate(tags))
    else:
        targets = tuple(EdgeTarget((i, i + 1), ((head or i + 1) - 1, head or i + 1), (label,))
                        for i, (head, label) in enumerate(zip(sentence.heads, sentence.deprels)))
    return EdgeExample(" ".join(words), targets, line)


def conllu_to_edges(treebank: Treebank | Sequence[DependencySentence] | str | Path,
                    task: Literal["pos", "dep"] = "dep", tag: Literal["upos", "xpos"] = "upos",
                    out: str | Path | None = None) -> EdgeData:
    """Edge-probing examples from a CoNLL-U treebank: part of speech or dependency labels.

    ``task="pos"``: one target per word, ``span1`` the word, label its UPOS (or XPOS).
    ``task="dep"``: one target per word as in jiant's ``ud_to_json.py`` (Tenney et al.
    2019a, UD English EWT): ``span1`` the dependent, ``span2`` its head, label the full
    DEPREL (``nmod:poss``); the root's ``span2`` is the root itself, as in jiant.
    Multiword-token ranges and empty nodes are not words here (the reader skips them).
    A FORM holding spaces becomes one word, its spaces replaced by ``_``, so that the
    whitespace words of ``text`` stay the treebank's words.

    Parameters
    ----------
    treebank
        A :class:`~bertology.core.data.conllu.Treebank` (or its sentences), or the path of a CoNLL-U file.
    task
        ``"pos"`` or ``"dep"``.
    tag
        For ``task="pos"``: ``"upos"`` or ``"xpos"``.
    out
        Also write the examples to this JSON-lines file.

    Returns
    -------
    EdgeData

    Raises
    ------
    InputError
        For an unknown task or tag, or an empty treebank.

    Examples
    --------
    >>> from types import SimpleNamespace as S
    >>> s = S(words=("Dogs", "bark"), upos=("NOUN", "VERB"), xpos=("NNS", "VBP"), heads=(2, 0),
    ...       deprels=("nsubj", "root"), line=3)
    >>> [t.span2 for t in conllu_to_edges([s], "dep")[0].targets]
    [(1, 2), (1, 2)]
    """
    if task not in ("pos", "dep"):
        raise InputError(f"task={task!r} is not an edge-probing conversion: choose 'pos' or 'dep'.")
    if tag not in ("upos", "xpos"):
        raise InputError(f"tag={tag!r} is not a CoNLL-U tag column: choose 'upos' or 'xpos'.")
    if isinstance(treebank, (str, Path)):
        from bertology.core.data.conllu import load_conllu

        treebank = load_conllu(treebank)
    source = str(getattr(treebank, "path", "<items>"))
    sentences = list(treebank)
    if not sentences:
        raise InputError(f"{source} holds no sentences to convert.")
    data = EdgeData([_sentence_example(s, task, tag, int(getattr(s, "line", 0))) for s in sentences if s.words],
                    source)
    if out is not None:
        write_edges(data, out)
    return data
