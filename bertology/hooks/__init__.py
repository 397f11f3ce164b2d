"""Hook-based tracing of activations by canonical name."""

from bertology.hooks.names import NamesFilter, canonical_names, hidden_state_name, resolve_names
from bertology.hooks.trace import ActivationCache, StopForward, trace

__all__ = ["ActivationCache", "NamesFilter", "StopForward", "canonical_names", "hidden_state_name",
           "resolve_names", "trace"]
