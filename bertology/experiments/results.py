"""Reading a run directory back: its manifest and each step's stored tables."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bertology.core.errors import StoreError
from bertology.experiments.cache import FIGURES_DIR, read_marker

RUN_MANIFEST = "manifest.json"
TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}


@dataclass
class StepResult:
    """One step's stored results.

    Attributes
    ----------
    name
        The step name.
    directory
        The step's directory in the run.
    status
        ``done``, ``cached`` or ``skipped``.
    reason
        Why a step was skipped (empty otherwise).
    files
        Result files, relative to ``directory``.
    figures
        Figure files written for the step.
    """

    name: str
    directory: Path
    status: str
    reason: str = ""
    files: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)

    @property
    def table_names(self) -> list[str]:
        """Relative paths of the step's CSV/TSV tables."""
        return [name for name in self.files if Path(name).suffix in TABLE_SUFFIXES]

    def table(self, name: str) -> pd.DataFrame:
        """One stored table as a DataFrame (``name`` with or without its suffix).

        Examples
        --------
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp()); _ = (d / "t.csv").write_text("a\\n1\\n")
        >>> StepResult("s", d, "done", files=["t.csv"]).table("t")["a"].tolist()
        [1]
        """
        matches = [t for t in self.table_names if t == name or str(Path(t).with_suffix("")) == name]
        if not matches:
            raise StoreError(f"Step {self.name!r} has no table {name!r}; "
                             f"it has {', '.join(self.table_names) or 'none'}.")
        path = self.directory / matches[0]
        return pd.read_csv(path, sep=TABLE_SUFFIXES[path.suffix])

    def to_frame(self) -> pd.DataFrame:
        """The step's results as one DataFrame: its only table, or all tables stacked with a ``table`` column.

        Examples
        --------
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp()); _ = (d / "t.csv").write_text("a\\n1\\n")
        >>> StepResult("s", d, "done", files=["t.csv"]).to_frame().shape
        (1, 1)
        """
        names = self.table_names
        if not names:
            return pd.DataFrame()
        if len(names) == 1:
            return self.table(names[0])
        return pd.concat([self.table(n).assign(table=n) for n in names], ignore_index=True)

    def _repr_html_(self) -> str:
        return self.to_frame()._repr_html_()


@dataclass
class Run:
    """A run directory: its manifest and each step's results.

    Attributes
    ----------
    directory
        The run directory.
    manifest
        The content of ``manifest.json``.
    results
        ``{step name: StepResult}`` in config order.
    """

    directory: Path
    manifest: dict[str, Any]
    results: dict[str, StepResult]

    @classmethod
    def load(cls, directory: str | Path) -> Run:
        """Open a finished (or partly finished) run directory.

        Raises
        ------
        StoreError
            When the directory holds no run manifest.

        Examples
        --------
        >>> Run.load("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        bertology.core.errors.StoreError: ...
        """
        directory = Path(directory)
        path = directory / RUN_MANIFEST
        if not path.is_file():
            raise StoreError(f"{directory} is not a run directory (no {RUN_MANIFEST}): give the 'out' directory "
                             f"of a finished `bertology run`.")
        manifest = json.loads(path.read_text(encoding="utf-8"))
        results = {}
        steps = manifest.get("steps", {})
        for name in manifest.get("step_order", list(steps)):
            if name not in steps:
                continue
            entry = steps[name]
            step_dir = directory / name
            marker = read_marker(step_dir) or {}
            results[name] = StepResult(name, step_dir, entry.get("status", "unknown"), entry.get("reason", ""),
                                       list(marker.get("files", [])), list(marker.get(FIGURES_DIR, [])))
        return cls(directory, manifest, results)
