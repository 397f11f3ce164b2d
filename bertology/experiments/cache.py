"""Step cache: what identifies a step's inputs, and the done marker that makes a step reusable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bertology.core.io import write_json_atomic
from bertology.core.manifest import content_hash
from bertology.core.models.loading import file_sha256
from bertology.core.paths import resolve_data_path
from bertology.experiments.config import StepConfig
from bertology.experiments.registry import StepSpec

MARKER = "step.json"
FIGURES_DIR = "figures"


def path_hash(path: Path) -> str:
    """SHA-256 of a file, or of a directory's ``(relative path, file hash)`` list.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "a.txt").write_text("x")
    >>> path_hash(d) == path_hash(d), len(path_hash(d / "a.txt"))
    (True, 64)
    """
    if path.is_file():
        return file_sha256(path)
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return content_hash([[p.relative_to(path).as_posix(), file_sha256(p)] for p in files])


def data_paths(step: StepConfig, data_root: Path) -> dict[str, Path]:
    """``{param: path}`` for each data path a step was given, resolved as the step reads it (nothing is hashed).

    Examples
    --------
    >>> spec = StepSpec("s", {"input": None, "labels": None}, run=print, figures=list, data_params=("input", "labels"))
    >>> paths = data_paths(StepConfig("s", spec, {"input": "a.tsv", "labels": None}), Path("/data"))
    >>> {key: path.as_posix() for key, path in paths.items()}
    {'input': '/data/a.tsv'}
    """
    return {key: resolve_data_path(value, data_root) for key in step.spec.data_params
            if (value := step.params.get(key))}


def data_hashes(step: StepConfig, data_root: Path) -> dict[str, dict[str, str]]:
    """``{param: {"path", "sha256"}}`` for each data path a step was given.

    Examples
    --------
    >>> spec = StepSpec("s", {"input": None}, run=print, figures=list, data_params=("input",))
    >>> data_hashes(StepConfig("s", spec, {"input": None}), Path("."))
    {}
    """
    return {key: {"path": str(path), "sha256": path_hash(path)} for key, path in data_paths(step, data_root).items()}


def step_key(step: StepConfig, model: dict[str, Any], data: dict[str, Any], seed: int) -> str:
    """The cache key of a step: its parameters, the model's identity, its input hashes and the seed.

    Examples
    --------
    >>> spec = StepSpec("s", {"n": 1}, run=print, figures=list)
    >>> a = step_key(StepConfig("s", spec, {"n": 1}), {"name": "minilm"}, {}, 0)
    >>> a == step_key(StepConfig("s", spec, {"n": 2}), {"name": "minilm"}, {}, 0)
    False
    """
    from bertology import __version__

    identity = {key: model.get(key) for key in ("name", "revision", "weights_sha256")}
    return content_hash({"step": step.name, "kind": step.spec.name, "params": step.params, "model": identity, "data": data,
                         "seed": seed, "bertology": __version__})


def read_marker(step_dir: Path) -> dict[str, Any] | None:
    """The step's marker (``None`` when absent, unreadable or not a JSON object).

    Examples
    --------
    >>> read_marker(Path("/nonexistent")) is None
    True
    """
    try:
        marker = json.loads((step_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def write_marker(step_dir: Path, payload: dict[str, Any]) -> None:
    """Write the step's marker atomically (the last thing a finished step writes).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); write_marker(d, {"status": "done"}); read_marker(d)["status"]
    'done'
    """
    step_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(step_dir / MARKER, payload)


def render_step_figures(spec: StepSpec, step_dir: Path) -> list[str]:
    """Render a step's figures from its stored results; the files written, relative to ``step_dir``.

    Examples
    --------
    >>> spec = StepSpec("s", {}, run=print, figures=lambda out: [out / FIGURES_DIR / "a.png"])
    >>> render_step_figures(spec, Path("/run/s"))
    ['figures/a.png']
    """
    return [Path(p).relative_to(step_dir).as_posix() for p in spec.figures(step_dir)]


def result_files(step_dir: Path) -> list[str]:
    """Every file a step wrote, relative to its directory, figures and the marker excluded.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "t.csv").write_text("a\\n1\\n"); result_files(d)
    ['t.csv']
    """
    return sorted(p.relative_to(step_dir).as_posix() for p in step_dir.rglob("*")
                  if p.is_file() and p.name != MARKER and not p.name.startswith(".")
                  and p.relative_to(step_dir).parts[0] != FIGURES_DIR)


def file_sizes(step_dir: Path, files: list[str]) -> dict[str, int]:
    """``{file: size in bytes}`` of a step's result files, recorded in its marker when it finishes.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "t.csv").write_text("a\\n1\\n"); file_sizes(d, ["t.csv"])
    {'t.csv': 4}
    """
    return {name: (step_dir / name).stat().st_size for name in files}


def damaged_files(step_dir: Path, marker: dict[str, Any]) -> list[str]:
    """The result files a marker lists that are gone, or whose size differs from the one recorded (truncated or
    edited since the step finished).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "t.csv").write_text("a\\n1\\n")
    >>> damaged_files(d, {"files": ["t.csv"], "sizes": {"t.csv": 4}}), damaged_files(d, {"files": ["t.csv", "u.csv"]})
    ([], ['u.csv'])
    >>> _ = (d / "t.csv").write_text("a\\n"); damaged_files(d, {"files": ["t.csv"], "sizes": {"t.csv": 4}})
    ['t.csv']
    """
    sizes = marker.get("sizes") or {}
    return [name for name in marker.get("files", []) if not (step_dir / name).is_file()
            or (name in sizes and (step_dir / name).stat().st_size != sizes[name])]


def missing_files(step_dir: Path, files: list[str]) -> list[str]:
    """The listed files that are no longer on disk.

    Examples
    --------
    >>> missing_files(Path("/nonexistent"), ["a.csv"])
    ['a.csv']
    """
    return [name for name in files if not (step_dir / name).is_file()]
