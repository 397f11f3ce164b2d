"""Read Universal Dependencies CoNLL-U files into dependency trees (UD v2 format, as distributed)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

from conllu.exceptions import ParseException
from conllu.parser import parse_comment_line, parse_id_value, parse_int_value

from bertology.core.data.tables import read_text
from bertology.core.errors import InputError

COLUMNS = ("ID", "FORM", "LEMMA", "UPOS", "XPOS", "FEATS", "HEAD", "DEPREL", "DEPS", "MISC")
_KEEP_EVERY_COMMENT = {"__fallback__": lambda key, value: (key, value)}


@dataclass(frozen=True)
class DependencySentence:
    """One sentence of a treebank: its syntactic words and their basic dependency tree.

    Attributes
    ----------
    words
        FORM of each syntactic word (multiword token ranges such as ``2-3 don't`` and
        empty nodes such as ``5.1`` are left out, as UD's evaluation script does).
    upos, xpos
        Universal and language-specific part-of-speech tag of each word.
    heads
        CoNLL-U HEAD of each word: the 1-based index of its head word, 0 for the root.
    deprels
        DEPREL of each word, the full label with its subtype (``nmod:poss``).
    metadata
        The sentence's comment lines (``sent_id``, ``text``...), key to value
        (``""`` for a comment without ``=``, such as ``# newpar``).
    line
        Line of the file holding the sentence's first word.

    Examples
    --------
    >>> s = DependencySentence(("Dogs", "bark", "."), ("NOUN", "VERB", "PUNCT"), ("NNS", "VBP", "."), (2, 0, 2),
    ...                        ("nsubj", "root", "punct"))
    >>> s.text, s.root
    ('Dogs bark .', 1)
    """

    words: tuple[str, ...]
    upos: tuple[str, ...]
    xpos: tuple[str, ...]
    heads: tuple[int, ...]
    deprels: tuple[str, ...]
    metadata: dict[str, str] = field(default_factory=dict, compare=False)
    line: int = 0

    def __post_init__(self) -> None:
        columns = {"upos": self.upos, "xpos": self.xpos, "heads": self.heads, "deprels": self.deprels}
        wrong = [name for name, values in columns.items() if len(values) != len(self.words)]
        if wrong or not self.words:
            raise InputError(f"A dependency sentence needs one entry per word in words, upos, xpos, heads and "
                             f"deprels; got {len(self.words)} words and "
                             f"{', '.join(f'{len(columns[n])} {n}' for n in wrong) or 'no words'}.")

    @property
    def text(self) -> str:
        """The words joined by single spaces: whitespace-separated word ``i`` is word ``i``."""
        return " ".join(self.words)

    @property
    def root(self) -> int:
        """0-based index of the root word (the word whose HEAD is 0)."""
        return self.heads.index(0)


class Treebank(Sequence[DependencySentence]):
    """The sentences of a CoNLL-U file, in file order.

    Parameters
    ----------
    sentences
        The sentences.
    path
        The file they were read from (``""`` when built in memory).
    name
        Short name for tables and figures; default the file's stem (``en_ewt-ud-train``).

    Examples
    --------
    >>> s = DependencySentence(("Stop", "!"), ("VERB", "PUNCT"), ("VB", "."), (0, 1), ("root", "punct"))
    >>> bank = Treebank([s, s], name="mini")
    >>> len(bank), bank.n_words, bank[:1].name
    (2, 4, 'mini')
    """

    def __init__(self, sentences: Sequence[DependencySentence], path: str | Path = "", name: str | None = None) -> None:
        self.sentences = list(sentences)
        self.path = str(path)
        self.name = name if name is not None else (Path(path).stem if path else "treebank")

    @overload
    def __getitem__(self, index: int) -> DependencySentence: ...

    @overload
    def __getitem__(self, index: slice) -> Treebank: ...

    def __getitem__(self, index: int | slice) -> DependencySentence | Treebank:
        if isinstance(index, slice):
            return Treebank(self.sentences[index], self.path, self.name)
        return self.sentences[index]

    def __len__(self) -> int:
        return len(self.sentences)

    def __iter__(self) -> Iterator[DependencySentence]:
        return iter(self.sentences)

    @property
    def n_words(self) -> int:
        """Number of syntactic words over all sentences."""
        return sum(len(sentence.words) for sentence in self.sentences)

    def __repr__(self) -> str:
        return f"Treebank({self.name!r}, sentences={len(self)}, words={self.n_words})"


class _Block:
    """The lines of one sentence while it is read."""

    def __init__(self) -> None:
        self.metadata: dict[str, str] = {}
        self.rows: list[tuple[int, str, str, str, int, str]] = []
        self.first_line = 0

    def __bool__(self) -> bool:
        return bool(self.rows or self.metadata or self.first_line)


def _word_row(path: Path, number: int, line: str, expected: int) -> tuple[int, str, str, str, int, str] | None:
    """``(line, FORM, UPOS, XPOS, HEAD, DEPREL)`` of a word line, ``None`` for a multiword range or empty node."""
    fields = line.split("\t")
    if len(fields) != len(COLUMNS):
        hint = (" (the columns look separated by spaces; CoNLL-U separates them by tabs)"
                if len(fields) == 1 and len(line.split()) > 1 else "")
        raise InputError(f"{path}:{number}: {len(fields)} tab-separated columns{hint}, but a CoNLL-U word line has "
                         f"{len(COLUMNS)} ({' '.join(COLUMNS)}): fix the line, using '_' for an empty column.")
    try:
        identifier = parse_id_value(fields[0])
    except ParseException:
        identifier = None
    if identifier is None:
        raise InputError(f"{path}:{number}: ID {fields[0]!r} is not a word index (1, 2, ...), a multiword range "
                         "(1-2) or an empty node (8.1): fix the first column.")
    if isinstance(identifier, tuple):
        return None
    if identifier != expected:
        raise InputError(f"{path}:{number}: word ID {identifier}, but the sentence's next word is {expected}: word "
                         "IDs count 1, 2, 3... within a sentence, and a blank line separates sentences.")
    form = "".join(fields[1].split())
    if not form:
        raise InputError(f"{path}:{number}: word {identifier} has an empty FORM: give the word form ('_' for an "
                         "underscore).")
    try:
        head = parse_int_value(fields[6])
    except ParseException:
        head = None
    if head is None or head < 0:
        raise InputError(f"{path}:{number}: HEAD {fields[6]!r} of word {identifier} is not a word ID: give the ID "
                         "of the word's head, or 0 for the root.")
    return number, form, fields[3], fields[4], head, fields[7]


def _check_tree(path: Path, block: _Block) -> None:
    """Every HEAD inside the sentence, exactly one root, no cycle; errors name the offending line."""
    heads = [row[4] for row in block.rows]
    n = len(heads)
    for number, _, _, _, head, _ in block.rows:
        if head > n:
            raise InputError(f"{path}:{number}: HEAD {head} is past the sentence's last word ({n}): give the ID of a "
                             "word of this sentence, or 0 for the root.")
    roots = [row[0] for row in block.rows if row[4] == 0]
    if not roots:
        raise InputError(f"{path}:{block.first_line}: the sentence has no root (no word with HEAD 0): a UD tree has "
                         "exactly one root; set its HEAD to 0.")
    if len(roots) > 1:
        raise InputError(f"{path}:{roots[1]}: a second root (HEAD 0; the first is on line {roots[0]}): a UD tree has "
                         "exactly one root; attach this word to a word of the sentence.")
    for start in range(1, n + 1):
        node, steps = start, 0
        while node and steps <= n:
            node, steps = heads[node - 1], steps + 1
        if node:
            raise InputError(f"{path}:{block.rows[start - 1][0]}: the HEAD chain from word {start} loops without "
                             "reaching the root (a cycle): the HEAD column must form a tree; fix the heads.")


def _sentence(path: Path, block: _Block) -> DependencySentence:
    if not block.rows:
        raise InputError(f"{path}:{block.first_line}: the sentence has comment lines but no word lines: remove the "
                         "comments or add the sentence's words.")
    _check_tree(path, block)
    _, words, upos, xpos, heads, deprels = zip(*block.rows)
    return DependencySentence(words, upos, xpos, heads, deprels, block.metadata,
                              next(row[0] for row in block.rows))


def load_conllu(path: str | Path, limit: int | None = None) -> Treebank:
    """Read a CoNLL-U file (Universal Dependencies v2) into dependency trees.

    Reads FORM, UPOS, XPOS, HEAD and DEPREL of each syntactic word. Multiword token ranges
    (``2-3 don't``) and empty nodes (``5.1``) are skipped, as UD's own evaluation script
    (``conll18_ud_eval.py``) does for the basic tree; comment lines become the sentence's
    metadata. Whitespace inside a FORM (allowed in UD v2 for a few languages) is removed, so
    that the sentence's whitespace-separated word ``i`` is always its word ``i``. Fields are
    parsed with the ``conllu`` package's field parsers.

    Parameters
    ----------
    path
        The ``.conllu`` file, as distributed by UD (e.g. ``en_ewt-ud-train.conllu``).
    limit
        Read only the first ``limit`` sentences; ``None`` reads all.

    Returns
    -------
    Treebank

    Raises
    ------
    InputError
        A missing, empty, binary or non-UTF-8 file, a directory, a ``limit`` that is not a
        positive integer, or a malformed line (not 10 tab-separated columns, a bad ID, word
        IDs out of order, an empty FORM, a HEAD that is not a word of the sentence, no root
        or several, a cycle), named by file and line with the fix.

    References
    ----------
    de Marneffe et al. (2021), "Universal Dependencies", Computational Linguistics 47(2).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.conllu"
    >>> _ = p.write_text("# text = Dogs bark.\\n1\\tDogs\\tdog\\tNOUN\\tNNS\\t_\\t2\\tnsubj\\t_\\t_\\n"
    ...                  "2\\tbark\\tbark\\tVERB\\tVBP\\t_\\t0\\troot\\t_\\tSpaceAfter=No\\n"
    ...                  "3\\t.\\t.\\tPUNCT\\t.\\t_\\t2\\tpunct\\t_\\t_\\n\\n")
    >>> bank = load_conllu(p)
    >>> bank[0].words, bank[0].heads, bank[0].metadata["text"]
    (('Dogs', 'bark', '.'), (2, 0, 2), 'Dogs bark.')
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InputError(f"limit={limit!r} is not a positive number of sentences: give an integer of at least 1, or "
                         "None to read every sentence.")
    path = Path(path)
    text = read_text(path, "CoNLL-U file")
    if not text.strip():
        raise InputError(f"CoNLL-U file {path} is empty: give a CoNLL-U file with at least one sentence.")
    sentences: list[DependencySentence] = []
    block = _Block()
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            if block:
                sentences.append(_sentence(path, block))
                block = _Block()
                if limit is not None and len(sentences) >= limit:
                    break
            continue
        block.first_line = block.first_line or number
        if line.startswith("#"):
            for key, value in parse_comment_line(line, metadata_parsers=_KEEP_EVERY_COMMENT):
                if key:
                    block.metadata[key] = value if value is not None else ""
            continue
        row = _word_row(path, number, line, len(block.rows) + 1)
        if row is not None:
            block.rows.append(row)
    else:
        if block:
            sentences.append(_sentence(path, block))
    if not sentences:
        raise InputError(f"CoNLL-U file {path} holds no sentences (no word lines): give a CoNLL-U file.")
    return Treebank(sentences, path)
