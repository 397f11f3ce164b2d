"""TOML-driven experiments: config, runs, manifests, figures and reports."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'compare': ['Comparison'],
        'config': ['ExperimentConfig', 'load_config'],
        'figures': ['render_run_figures'],
        'registry': ['STEPS', 'StepContext', 'StepSpec', 'register_step'],
        'report': ['write_report'],
        'results': ['Run', 'StepResult'],
        'runner': ['run_experiment'],
    },
)
