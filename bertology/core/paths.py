"""Where bertology's shipped data lives and how input paths are resolved."""

from __future__ import annotations

from pathlib import Path

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
