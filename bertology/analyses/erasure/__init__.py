"""Concept erasure (LEACE, INLP) on one layer and amnesic probing inside the forward pass."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'amnesic': ['AmnesicResult', 'amnesic_probe'],
        'erasure': ['Erasure', 'erase', 'probe_accuracy', 'random_basis'],
        'inlp': ['inlp_fit', 'nullspace_intersection_basis', 'rowspace_projection'],
        'leace': ['leace_fit'],
        'names': ['METHODS'],
        'task': ['erase_task', 'save_erasure_figures'],
    },
)
