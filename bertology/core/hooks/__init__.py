"""Hook-based tracing of activations by canonical name."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'names': ['NamesFilter', 'canonical_names', 'hidden_state_name', 'resolve_names'],
        'trace': ['ActivationCache', 'StopForward', 'trace'],
    },
)
