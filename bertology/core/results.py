"""The result protocol every analysis result follows.

A result is a table (``to_frame``), a paper figure (``plot``) and a directory on disk
(``save`` / ``load``). ``save(out)`` writes the class's own files and then
``result.json`` naming the class, so ``load`` can tell a saved result from a wrong or
half-written directory and say so with a :class:`~bertology.core.errors.StoreError`.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from matplotlib.figure import Figure

from bertology.core.errors import StoreError
from bertology.core.io import write_json_atomic

RESULT_FILE = "result.json"
FORMAT_VERSION = 1
TABLE_FILE = "table.csv"
META_FILE = "meta.json"

R = TypeVar("R", bound="Result")

_DAMAGE = (OSError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile, pd.errors.EmptyDataError,
           pd.errors.ParserError)


class Result:
    """Base class of analysis results: ``to_frame``, ``plot``, ``save``, ``load``.

    Subclasses implement ``to_frame``, ``plot``, ``_write(directory)`` (write the
    result's files) and ``classmethod _read(directory)`` (read them back); ``save`` and
    ``load`` add the marker file and turn any failure to read into a ``StoreError``.
    Results with an HTML view also implement ``_repr_html_`` and ``save_html``.

    Examples
    --------
    >>> import tempfile
    >>> r = TableResult(pd.DataFrame({"layer": [0, 1], "score": [0.5, 0.7]}), {"model": "minilm"})
    >>> TableResult.load(r.save(tempfile.mkdtemp())).to_frame()["score"].tolist()
    [0.5, 0.7]
    """

    def to_frame(self) -> pd.DataFrame:
        """The result as a tidy table."""
        raise NotImplementedError

    def plot(self) -> Figure:
        """The result's paper figure."""
        raise NotImplementedError

    def _write(self, directory: Path) -> None:
        raise NotImplementedError

    @classmethod
    def _read(cls: type[R], directory: Path) -> R:
        raise NotImplementedError

    def save(self, out: str | Path) -> Path:
        """Write the result into directory ``out`` (created if needed); returns the directory.

        Examples
        --------
        >>> import tempfile
        >>> (TableResult(pd.DataFrame({"a": [1]})).save(tempfile.mkdtemp()) / RESULT_FILE).is_file()
        True
        """
        directory = Path(out)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / RESULT_FILE).unlink(missing_ok=True)
        self._write(directory)
        write_json_atomic(directory / RESULT_FILE, {"kind": type(self).__name__, "format": FORMAT_VERSION})
        return directory

    @classmethod
    def load(cls: type[R], out: str | Path) -> R:
        """Read a result saved with :meth:`save`.

        Raises
        ------
        StoreError
            When ``out`` is not a directory, holds no saved result, holds another kind of
            result, or its files are damaged; the message names the fix.

        Examples
        --------
        >>> TableResult.load("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        bertology.core.errors.StoreError: ...
        """
        directory = Path(out)
        if not directory.is_dir():
            raise StoreError(f"{directory} is not a directory: give the directory a {cls.__name__} was saved "
                             f"into with .save(out).")
        marker = directory / RESULT_FILE
        if not marker.is_file():
            raise StoreError(f"{directory} holds no saved result ({RESULT_FILE} is missing): save one there with "
                             f"{cls.__name__}.save(out), or re-run the analysis into it.")
        try:
            kind = json.loads(marker.read_text(encoding="utf-8"))["kind"]
        except (ValueError, KeyError, TypeError) as error:
            raise StoreError(f"{marker} is damaged ({error}): re-run the analysis into {directory}.") from None
        if kind != cls.__name__:
            raise StoreError(f"{directory} holds a {kind}, not a {cls.__name__}: load it with {kind}.load.")
        try:
            return cls._read(directory)
        except StoreError:
            raise
        except _DAMAGE as error:
            raise StoreError(f"The {cls.__name__} saved in {directory} is damaged ({type(error).__name__}: "
                             f"{error}): re-run the analysis into {directory}.") from None


class TableResult(Result):
    """A result that is one tidy table plus metadata; subclasses add the figure.

    Attributes
    ----------
    frame
        The table.
    meta
        JSON-serialisable metadata (model, parameters).
    """

    def __init__(self, frame: pd.DataFrame, meta: dict[str, Any] | None = None) -> None:
        self.frame = frame
        self.meta = dict(meta or {})

    def to_frame(self) -> pd.DataFrame:
        """A copy of the table.

        Examples
        --------
        >>> TableResult(pd.DataFrame({"a": [1]})).to_frame().shape
        (1, 1)
        """
        return self.frame.copy()

    def _write(self, directory: Path) -> None:
        self.frame.to_csv(directory / TABLE_FILE, index=False)
        write_json_atomic(directory / META_FILE, self.meta)

    @classmethod
    def _read(cls, directory: Path) -> TableResult:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        return cls(pd.read_csv(directory / TABLE_FILE), meta)

    def _repr_html_(self) -> str:
        return self.frame._repr_html_()
