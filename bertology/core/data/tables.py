"""Read sentence tables (TSV, CSV, JSONL, plain text) with errors that name file and line."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from bertology.core.errors import InputError

FORMATS = ("auto", "tsv", "csv", "jsonl", "txt")


def _detect(path: Path) -> str:
    suffix = path.suffix.lower()
    return {".tsv": "tsv", ".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".txt": "txt"}.get(suffix, "tsv")


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
        Missing file, unknown format, malformed line (named with file and line number),
        or an empty table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.tsv"
    >>> _ = p.write_text("sentence\\tlabel\\nA fine film.\\t1\\n")
    >>> read_table(p)
    [{'sentence': 'A fine film.', 'label': '1'}]
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Input file {path} does not exist.")
    if fmt not in FORMATS:
        raise InputError(f"Unknown input format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    fmt = _detect(path) if fmt == "auto" else fmt
    rows: list[dict[str, Any]] = []
    with open(path, encoding="utf-8", newline="") as handle:
        if fmt == "txt":
            rows = [{"text": line.rstrip("\n")} for line in handle if line.strip()]
        elif fmt == "jsonl":
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as error:
                    raise InputError(f"{path}:{number}: not valid JSON ({error.msg}).") from None
                if not isinstance(row, dict):
                    raise InputError(f"{path}:{number}: expected a JSON object per line, got {type(row).__name__}.")
                rows.append(row)
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

    Examples
    --------
    >>> column([{"text": "a"}, {"text": "b"}], "text")
    ['a', 'b']
    """
    if name not in rows[0]:
        raise InputError(f"{path} has no column {name!r}; its columns are: {', '.join(rows[0])}.")
    return [row[name] for row in rows]


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
