"""Progress bars that can be switched off per call or globally.

Set the environment variable ``BERTOLOGY_PROGRESS=0`` to silence every bar (CI logs),
or pass ``progress=False`` to any function that shows one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def progress_enabled(progress: bool = True) -> bool:
    """Whether a progress bar should be shown.

    Parameters
    ----------
    progress
        The caller's wish; ``False`` always wins.

    Returns
    -------
    bool
        ``False`` when ``progress`` is false or ``BERTOLOGY_PROGRESS`` is ``0``/``false``/``no``.

    Examples
    --------
    >>> progress_enabled(False)
    False
    """
    if not progress:
        return False
    return os.environ.get("BERTOLOGY_PROGRESS", "1").strip().lower() not in {"0", "false", "no", "off"}


def progress_bar(iterable: Iterable[T], *, total: int | None = None, desc: str = "", progress: bool = True,
                 unit: str = "it") -> Iterable[T]:
    """Wrap ``iterable`` in a tqdm bar unless progress is disabled.

    Parameters
    ----------
    iterable
        What to iterate over.
    total, desc, unit
        Passed to :class:`tqdm.tqdm`.
    progress
        ``False`` returns ``iterable`` unchanged.

    Returns
    -------
    Iterable
        The same items, with a bar on stderr when enabled.

    Examples
    --------
    >>> list(progress_bar(range(3), progress=False))
    [0, 1, 2]
    """
    if not progress_enabled(progress):
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit=unit, dynamic_ncols=True)
