"""bertology: look inside BERT-family encoders and turn what you see into paper figures."""

from importlib.metadata import PackageNotFoundError, version

from bertology.errors import BertologyError, InputError, ModelError, StoreError
from bertology.extract import ActivationStore, extract
from bertology.hooks import ActivationCache, canonical_names, trace
from bertology.models import ADAPTERS, LoadedModel, load_model

try:
    __version__ = version("bertology")
except PackageNotFoundError:
    __version__ = "0.0.0"

__all__ = [
    "ADAPTERS", "ActivationCache", "ActivationStore", "extract", "BertologyError", "InputError", "LoadedModel", "ModelError", "StoreError",
    "canonical_names", "load_model", "trace", "__version__",
]
