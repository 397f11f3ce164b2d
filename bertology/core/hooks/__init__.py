"""Hook-based tracing and editing of activations by canonical name."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'edits': ['Edit', 'ablate', 'add', 'gate_heads', 'project_out', 'set_from', 'token_means'],
        'intervene': ['intervene'],
        'names': ['NamesFilter', 'canonical_names', 'hidden_state_name', 'resolve_names'],
        'points': ['HookPoints', 'unwrap_model'],
        'position': ['one_position'],
        'trace': ['ActivationCache', 'StopForward', 'trace'],
    },
)
