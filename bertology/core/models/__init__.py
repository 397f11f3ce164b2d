"""Model loading and the per-architecture adapter table."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'adapters': ['ADAPTERS', 'Adapter', 'get_adapter'],
        'loading': ['LoadedModel', 'hub_offline', 'load_model', 'minilm_path', 'model_provenance', 'resolve_device',
                    'resolve_dtype'],
    },
)
