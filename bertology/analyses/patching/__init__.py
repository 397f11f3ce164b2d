"""Activation patching and causal mediation analysis over minimal pairs (Vig et al. 2020; Meng et al. 2022)."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'names': ['COMPONENTS', 'SUITES'],
        'pairs': ['MinimalPair', 'as_pairs', 'suite_pairs'],
        'patch': ['patch'],
        'result': ['PatchingResult'],
        'task': ['patch_task', 'save_patching_figures'],
    },
)
