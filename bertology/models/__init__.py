"""Model loading and the per-architecture adapter table."""

from bertology.models.adapters import ADAPTERS, Adapter, get_adapter
from bertology.models.loading import LoadedModel, load_model, minilm_path, model_provenance, resolve_device

__all__ = ["ADAPTERS", "Adapter", "LoadedModel", "get_adapter", "load_model", "minilm_path", "model_provenance", "resolve_device"]
