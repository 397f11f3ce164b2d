"""Where bertology's shipped data lives, how input paths are resolved, and output paths checked."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bertology.core.errors import InputError

SHIPPED_DIR = Path(__file__).resolve().parent / "data" / "shipped"
SHIPPED_PREFIX = "shipped:"


def resolve_data_path(value: str | Path, data_root: Path) -> Path:
    """An input path as a step will read it: absolute as given, relative ones under ``data_root``.

    ``shipped:NAME`` names a file of the data bertology ships (``bertology/core/data/shipped``).

    Examples
    --------
    >>> resolve_data_path("a.tsv", Path("/data")).as_posix(), resolve_data_path("/x/b.tsv", Path("/data")).as_posix()
    ('/data/a.tsv', '/x/b.tsv')
    >>> resolve_data_path("shipped:sst2_sample.tsv", Path("/data")).name
    'sst2_sample.tsv'
    """
    if str(value).startswith(SHIPPED_PREFIX):
        return SHIPPED_DIR / str(value)[len(SHIPPED_PREFIX):]
    path = Path(value).expanduser()
    return path if path.is_absolute() else data_root / path


def check_output(out: str | Path, kind: str = "directory") -> Path:
    """Make sure ``out`` can be written before any model work starts; returns it as a Path.

    A directory is created if needed and a file is tried in it; for ``kind="file"`` the
    parent directory is checked the same way and ``out`` must not be a directory.

    Raises
    ------
    InputError
        For an empty path, a file where a directory is wanted (or the reverse), or a place
        that cannot be written; the message names the path and the fix.

    Examples
    --------
    >>> import tempfile
    >>> check_output(Path(tempfile.mkdtemp()) / "run").is_dir()
    True
    >>> check_output("")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: ...
    """
    if not str(out).strip():
        raise InputError(f"The output {kind} is empty: give a path, e.g. --out runs/my_run.")
    path = Path(out).expanduser()
    if kind == "file" and path.is_dir():
        raise InputError(f"Output {path} is a directory: give a file name, e.g. {path / 'view.html'}.")
    if kind == "directory" and path.exists() and not path.is_dir():
        raise InputError(f"Output {path} is a file, not a directory: give a directory (it is created if needed).")
    directory = path.parent if kind == "file" else path
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        raise InputError(f"Cannot write to {directory} ({error.strerror or error}): choose a writable place "
                         f"for the output.") from None
    return path
