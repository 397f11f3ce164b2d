"""File writing shared by every layer: atomic JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_json_atomic(path: Path, payload: Any, durable: bool = True) -> None:
    """Write JSON to ``path`` through a temporary file and ``os.replace`` (never half-written).

    ``durable=False`` skips the ``fsync``: the file is still replaced atomically, which is
    what survives an interrupted process; ``fsync`` adds safety against power loss.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.json"
    >>> write_json_atomic(p, {"a": 1}); json.loads(p.read_text())
    {'a': 1}
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True, default=str)
        handle.flush()
        if durable:
            os.fsync(handle.fileno())
    os.replace(tmp, path)
