"""bertology: look inside BERT-family encoders and turn what you see into paper figures.

The public API is re-exported here. The foundation (models, tracing, extraction) is
imported with the package; each analysis (probes, attention, attribution, cloze,
experiments) is imported on first use, so sessions load only what they need.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from bertology.errors import BertologyError, InputError, ModelError, StoreError
from bertology.extract import ActivationStore, extract
from bertology.hooks import ActivationCache, canonical_names, trace
from bertology.models import ADAPTERS, LoadedModel, load_model

try:
    __version__ = version("bertology")
except PackageNotFoundError:
    __version__ = "0.0.0"

_EXPORTS = {
    "bertology.probes": ("LinearProbe", "ProbeResult", "probe_layers"),
    "bertology.geometry": ("context_similarity", "ethayarajh_measures", "project_layers"),
    "bertology.attention": ("attention_grid", "attention_rollout", "attention_stats", "head_view"),
    "bertology.attribution": ("AttributionResult", "Classifier", "attribute", "faithfulness"),
    "bertology.cloze": ("ClozeResult", "MaskedLMScorer", "benchmarks", "run_suite"),
    "bertology.experiments": ("run_experiment",),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}
_SUBPACKAGES = ("data", "viz", "distributed", "manifest", "progress")

__all__ = ["ADAPTERS", "ActivationCache", "ActivationStore", "BertologyError", "InputError", "LoadedModel",
           "ModelError", "StoreError", "__version__", "canonical_names", "extract", "load_model", "trace",
           *sorted(_HOME)]


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
