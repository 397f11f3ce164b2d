"""bertology: look inside BERT-family encoders and turn what you see into paper figures.

The public API is re-exported here and imported on first use, so ``import bertology``
and the command line start quickly whatever analyses a session needs.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from bertology.errors import BertologyError, InputError, ModelError, StoreError

try:
    __version__ = version("bertology")
except PackageNotFoundError:
    __version__ = "0.0.0"

_EXPORTS = {
    "bertology.models": ("ADAPTERS", "LoadedModel", "load_model"),
    "bertology.hooks": ("ActivationCache", "canonical_names", "trace"),
    "bertology.extract": ("ActivationStore", "extract"),
    "bertology.probes": ("LinearProbe", "ProbeResult", "probe_layers"),
    "bertology.geometry": ("context_similarity", "ethayarajh_measures", "project_layers"),
    "bertology.attention": ("attention_grid", "attention_rollout", "attention_stats", "head_view"),
    "bertology.attribution": ("AttributionResult", "Classifier", "attribute", "faithfulness"),
    "bertology.cloze": ("ClozeResult", "MaskedLMScorer", "benchmarks", "run_suite"),
    "bertology.experiments": ("run_experiment",),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}
_SUBPACKAGES = ("data", "viz", "distributed", "manifest", "progress")

__all__ = ["BertologyError", "InputError", "ModelError", "StoreError", "__version__", *sorted(_HOME)]


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(importlib.import_module(_HOME[name]), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f"bertology.{name}")
    else:
        raise AttributeError(f"module 'bertology' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME) | set(_SUBPACKAGES))
