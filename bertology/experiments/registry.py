"""The experiment-step registry: each analysis registers one step the TOML runner can call."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bertology.core.distributed import RankInfo
from bertology.core.models import LoadedModel

STEP_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,99}")
"""A step name, which is also the step's directory in the run: letters, digits, ``_`` and ``-``."""


@dataclass
class StepContext:
    """What a step gets when it runs.

    Attributes
    ----------
    params
        The step's validated parameters (defaults filled in).
    out
        The step's own directory inside the run; write result tables (CSV) and JSON here.
    data_root
        Directory that relative data paths in ``params`` are resolved against.
    seed
        The run's seed.
    progress
        Whether to show progress bars.
    get_model
        Loads the run's model on first call (lazy: a cached step never loads it).
    rank
        This process's place in a ``torchrun`` / ``accelerate launch`` run; a
        ``distributed`` step writes its shared tables on rank 0 only.
    """

    params: dict[str, Any]
    out: Path
    data_root: Path
    seed: int
    progress: bool
    get_model: Callable[..., LoadedModel]
    rank: RankInfo = field(default_factory=RankInfo)


@dataclass(frozen=True)
class StepSpec:
    """One experiment step.

    Attributes
    ----------
    name
        The TOML table name (``[steps.<name>]``).
    defaults
        Every allowed parameter with its default; the type of the default is the
        expected type (``None`` default: any type).
    run
        ``run(ctx) -> None``: compute and write results into ``ctx.out``.
    figures
        ``figures(out) -> list[Path]``: render figures from stored results only.
    required
        Parameters that must be given.
    data_params
        Parameters naming input files or directories that must exist before the run starts.
    needs_mlm
        The step needs a masked-LM head; it is skipped with a clear message otherwise.
    distributed
        Under a launcher, every rank runs the step and it shares the work out by rank
        itself; other steps run on rank 0 alone.
    description
        One line for listings and reports.
    types
        Parameters that accept more than the type of their default, e.g.
        ``{"layers": (str, int, list)}``.
    validate
        ``validate(params) -> None``: checks the values of the parameters (choices, ranges,
        texts) once their types are right, before any model loads; raises
        :class:`~bertology.core.errors.InputError` with a message that starts with the
        parameter, e.g. ``"pool = 'maxx': choose one of ..."``.
    layer_params
        Parameters holding a layer selection (``"all"``, ``6``, ``"0,3,6"``, ``[0, 2]``),
        checked against the model's depth before it loads.
    """

    name: str
    defaults: Mapping[str, Any]
    run: Callable[[StepContext], None]
    figures: Callable[[Path], list[Path]]
    required: tuple[str, ...] = ()
    data_params: tuple[str, ...] = ()
    needs_mlm: bool = False
    distributed: bool = False
    description: str = ""
    types: Mapping[str, tuple[type, ...]] = field(default_factory=dict)
    validate: Callable[[Mapping[str, Any]], None] | None = None
    layer_params: tuple[str, ...] = ()


STEPS: dict[str, StepSpec] = {}


def register_step(spec: StepSpec) -> StepSpec:
    """Add a step to the registry (called at import time by each step module).

    Examples
    --------
    >>> spec = register_step(StepSpec("noop", {}, run=lambda ctx: None, figures=lambda d: []))
    >>> STEPS["noop"] is spec
    True
    >>> del STEPS["noop"]
    """
    STEPS[spec.name] = spec
    return spec
