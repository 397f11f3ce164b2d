"""Reading a run directory back: its manifest and each step's stored tables."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bertology.core.errors import StoreError
from bertology.experiments.cache import FIGURES_DIR, damaged_files, read_marker
from bertology.experiments.config import COMPARE_DIR, model_slug
from bertology.experiments.registry import STEP_NAME

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
    sizes
        The size in bytes of each result file when the step finished.
    """

    name: str
    directory: Path
    status: str
    reason: str = ""
    files: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)

    def verify(self) -> None:
        """Check that every result file is still there at the size it was written with.

        Raises
        ------
        StoreError
            Naming the files that are gone, truncated or edited, and how to recompute them.

        Examples
        --------
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp()); _ = (d / "t.csv").write_text("a\\n1\\n")
        >>> StepResult("s", d, "done", files=["t.csv"], sizes={"t.csv": 4}).verify()
        >>> _ = (d / "t.csv").write_text("a\\n")
        >>> StepResult("s", d, "done", files=["t.csv"], sizes={"t.csv": 4}).verify()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        bertology.core.errors.StoreError: Step 's' of ...: t.csv is missing, truncated or changed since ...
        """
        damaged = damaged_files(self.directory, {"files": self.files, "sizes": self.sizes})
        if damaged:
            raise StoreError(f"Step {self.name!r} of {self.directory.parent}: {', '.join(damaged)} "
                             f"{'is' if len(damaged) == 1 else 'are'} missing, truncated or changed since the step "
                             f"finished: run the experiment again (bertology run CONFIG) to recompute the step.")

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
        try:
            return pd.read_csv(path, sep=TABLE_SUFFIXES[path.suffix])
        except (OSError, ValueError, pd.errors.EmptyDataError, pd.errors.ParserError) as error:
            raise StoreError(f"Table {path} of step {self.name!r} cannot be read ({type(error).__name__}: {error}): "
                             f"run the experiment again to recompute the step.") from None

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
        ``{step name: StepResult}`` in config order; in a multi-model run each step's
        combined results in ``compare/<step>``.
    """

    directory: Path
    manifest: dict[str, Any]
    results: dict[str, StepResult]

    @property
    def models(self) -> list[str]:
        """The models of a multi-model run, in order (empty for a run of one model).

        Examples
        --------
        >>> Run(Path("r"), {"models": [{"name": "minilm", "slug": "minilm"}]}, {}).models
        ['minilm']
        """
        return [str(entry.get("name")) for entry in self.manifest.get("models") or []]

    def model_runs(self) -> dict[str, Run]:
        """``{model name: Run}`` of each model's own run in a multi-model run (``{}`` for a run of one model).

        Raises
        ------
        StoreError
            When a model's run directory holds no run.

        Examples
        --------
        >>> Run(Path("r"), {"model": {"name": "minilm"}}, {}).model_runs()
        {}
        """
        return {name: Run.load(self.directory / model_slug(name)) for name in self.models}

    @classmethod
    def load(cls, directory: str | Path) -> Run:
        """Open a finished (or partly finished) run directory.

        Raises
        ------
        StoreError
            When the directory holds no run manifest, or a damaged one.

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
        damaged = (f"{path} is damaged ({{}}): run the experiment again into {directory} to rewrite it, or give "
                   f"another run directory.")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise StoreError(damaged.format(f"{type(error).__name__}: {error}")) from None
        steps = manifest.get("steps") if isinstance(manifest, dict) else None
        order = manifest.get("step_order", list(steps or {})) if isinstance(steps, dict) else None
        if not isinstance(order, list):
            raise StoreError(damaged.format("not a run manifest: no steps and step_order"))
        several = isinstance(manifest.get("models"), list)
        results = {}
        for name in order:
            if not (isinstance(name, str) and STEP_NAME.fullmatch(name)):
                raise StoreError(damaged.format(f"step {name!r} is not a plain directory name"))
            if name not in steps:
                continue
            entry = steps[name]
            if not isinstance(entry, dict):
                raise StoreError(damaged.format(f"the entry of step {name!r} is not a table"))
            step_dir = directory / COMPARE_DIR / name if several else directory / name
            marker = read_marker(step_dir) or {}
            results[name] = StepResult(name, step_dir, str(entry.get("status", "unknown")),
                                       str(entry.get("reason", "")), list(marker.get("files", [])),
                                       list(marker.get(FIGURES_DIR, [])), dict(marker.get("sizes") or {}))
        return cls(directory, manifest, results)
