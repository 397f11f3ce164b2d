"""Linear probes: the LinearProbe estimator, layer-wise runner, control tasks and MDL."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'controls': ['control_task_labels', 'majority_predictions', 'selectivity'],
        'encoders': ['random_encoder'],
        'estimator': ['LinearProbe'],
        'mdl': ['MDLScore', 'PORTIONS', 'block_ends', 'online_codelength'],
        'result': ['ProbeResult'],
        'layerwise': ['fold_splits', 'probe_layers'],
        'task': ['probe_task', 'save_probe_figures'],
    },
)
