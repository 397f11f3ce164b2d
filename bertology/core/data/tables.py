"""Read sentence tables (TSV, CSV, JSONL, plain text) with errors that name file and line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from bertology.core.errors import InputError

FORMATS = ("auto", "tsv", "csv", "jsonl", "txt")


def _detect(path: Path) -> str:
    suffix = path.suffix.lower()
    return {".tsv": "tsv", ".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".txt": "txt"}.get(suffix, "tsv")


def read_text(path: str | Path, what: str = "Input file") -> str:
    """The content of a UTF-8 text file, with an error that says what is wrong with the path.

    A byte-order mark at the start is dropped.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for messages (``"Input file"``, ``"Suite file"``...).

    Returns
    -------
    str

    Raises
    ------
    InputError
        When ``path`` does not exist, is a directory, cannot be read, holds binary data,
        or is not UTF-8 (the message names the first bad byte and how to convert).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.txt"
    >>> _ = p.write_bytes("café".encode("utf-8")); read_text(p)
    'café'
    >>> _ = p.write_bytes("café".encode("latin-1")); read_text(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    bertology.core.errors.InputError: Input file ... is not UTF-8 text (byte 0xe9 at offset 3): ...
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{what} {path} is a directory, not a file: give the path of a file in it.")
    if not path.is_file():
        raise InputError(f"{what} {path} does not exist: check the path.")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{what} {path} cannot be read ({error.strerror or error}): check its permissions.") from None
    if b"\x00" in data:
        raise InputError(f"{what} {path} is a binary file, not text: give a UTF-8 text file (TSV, CSV, JSONL or "
                         f"TXT).")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{what} {path} is not UTF-8 text (byte {data[error.start]:#04x} at offset {error.start}): "
                         f"it must be UTF-8; convert it, e.g. iconv -f latin1 -t utf-8 {path.name} > "
                         f"utf8_{path.name}.") from None


def jsonl_objects(text: str, path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """The JSON objects of JSON-lines ``text`` with their line numbers; blank lines are skipped.

    Parameters
    ----------
    text
        The file's content (see :func:`read_text`).
    path
        The file, for messages.

    Returns
    -------
    list of (int, dict)
        ``(line number, object)`` per non-blank line.

    Raises
    ------
    InputError
        A line that is not valid JSON or not a JSON object, named by file and line.

    Examples
    --------
    >>> jsonl_objects('{"a": 1}\\n\\n{"a": 2}\\n', "x.jsonl")
    [(1, {'a': 1}), (3, {'a': 2})]
    """
    objects = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}:{number}: not valid JSON ({error.msg}).") from None
        if not isinstance(row, dict):
            raise InputError(f"{path}:{number}: expected a JSON object per line, got {type(row).__name__}.")
        objects.append((number, row))
    return objects


def read_table(path: str | Path, fmt: str = "auto") -> list[dict[str, Any]]:
    """Rows of a sentence table as dictionaries.

    Parameters
    ----------
    path
        A ``.tsv``/``.csv`` file with a header row, a ``.jsonl`` file (one object per
        line), or a ``.txt`` file (one sentence per line, read as column ``text``).
    fmt
        One of ``auto`` (from the suffix), ``tsv``, ``csv``, ``jsonl``, ``txt``.

    Returns
    -------
    list of dict
        One dict per row; blank lines are ignored.

    Raises
    ------
    InputError
        Missing file, a directory, a file that is binary or not UTF-8 (see
        :func:`read_text`), unknown format, malformed line (named with file and line
        number), or an empty table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.tsv"
    >>> _ = p.write_text("sentence\\tlabel\\nA fine film.\\t1\\n")
    >>> read_table(p)
    [{'sentence': 'A fine film.', 'label': '1'}]
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise InputError(f"Unknown input format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    fmt = _detect(path) if fmt == "auto" else fmt
    rows: list[dict[str, Any]] = []
    with io.StringIO(read_text(path), newline="") as handle:
        if fmt == "txt":
            rows = [{"text": line.rstrip("\n")} for line in handle if line.strip()]
        elif fmt == "jsonl":
            rows = [row for _, row in jsonl_objects(handle.getvalue(), path)]
        else:
            reader = csv.reader(handle, delimiter="\t" if fmt == "tsv" else ",",
                                quoting=csv.QUOTE_NONE if fmt == "tsv" else csv.QUOTE_MINIMAL)
            header = next(reader, None)
            if header is None:
                raise InputError(f"{path} is empty.")
            for number, values in enumerate(reader, start=2):
                if not values or not any(v.strip() for v in values):
                    continue
                if len(values) != len(header):
                    raise InputError(f"{path}:{number}: {len(values)} fields, but the header has {len(header)} "
                                     f"({', '.join(header)}).")
                rows.append(dict(zip(header, values)))
    if not rows:
        raise InputError(f"{path} holds no rows.")
    return rows


def column(rows: list[dict[str, Any]], name: str, path: str | Path = "input") -> list[Any]:
    """One column of :func:`read_table` rows, with an error naming the columns that exist.

    When the column is missing and the header looks like data (a sentence, a number), the
    error says that the file needs a header line.

    Examples
    --------
    >>> column([{"text": "a"}, {"text": "b"}], "text")
    ['a', 'b']
    """
    if name not in rows[0]:
        if any(_looks_like_data(key) for key in rows[0]):
            raise InputError(f"{path} has no column {name!r}, and its first line ({', '.join(rows[0])}) looks like "
                             f"data, not a header: add a header line naming the columns, e.g. {name} and label, "
                             f"separated like the data.")
        raise InputError(f"{path} has no column {name!r}; its columns are: {', '.join(rows[0])}.")
    return [row[name] for row in rows]


def _looks_like_data(key: Any) -> bool:
    """Whether a column name looks like a value: words with spaces, or a number."""
    text = str(key).strip()
    try:
        float(text)
    except ValueError:
        return " " in text
    return True


def find_text_column(rows: list[dict[str, Any]], name: str | None = None) -> str:
    """The column holding the texts: ``name`` if given, else ``sentence`` or ``text``, whichever exists.

    Examples
    --------
    >>> find_text_column([{"text": "a", "label": 1}]), find_text_column([{"text": "a"}], "body")
    ('text', 'body')
    """
    if name:
        return name
    return next((candidate for candidate in ("sentence", "text") if candidate in rows[0]), "sentence")


def int_column(rows: list[dict[str, Any]], name: str, path: str | Path = "input") -> list[int]:
    """A column of integer word indices (e.g. CoarseWSD-20 ``word_pos``), with an error naming the bad row.

    Examples
    --------
    >>> int_column([{"w": "3"}, {"w": 0}], "w")
    [3, 0]
    """
    values = []
    for number, value in enumerate(column(rows, name, path), start=1):
        try:
            values.append(int(value))
        except (TypeError, ValueError):
            raise InputError(f"{path}: row {number}: {name!r} must be an integer word index "
                             f"(0-based, whitespace-split), got {value!r}.") from None
    return values
