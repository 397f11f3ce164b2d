"""bertology: look inside BERT-family encoders and turn what you see into paper figures.

The public API is re-exported here and imported on first use: ``import bertology``
loads neither torch nor transformers until a function that needs them is called. The
package is layered (see ``ARCHITECTURE.md``): ``bertology.core`` (models, hooks,
extraction, data, shared helpers) → ``bertology.analyses`` → ``bertology.experiments``
→ ``bertology.cli``.
"""

from importlib.metadata import PackageNotFoundError, version

import lazy_loader

try:
    __version__ = version("bertology")
except PackageNotFoundError:
    __version__ = "0.0.0"

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "core": ["data", "viz"],
        "core.errors": ["BertologyError", "InputError", "ModelError", "StoreError"],
        "core.extraction": ["ActivationStore", "extract", "extract_task"],
        "core.hooks": ["ActivationCache", "canonical_names", "trace"],
        "core.models": ["ADAPTERS", "LoadedModel", "load_model"],
        "analyses.probes": ["LinearProbe", "ProbeResult", "probe_layers", "probe_task"],
        "analyses.geometry": ["context_similarity", "ethayarajh_measures", "geometry_task", "project_layers"],
        "analyses.attention": ["attention_grid", "attention_rollout", "attention_stats", "attention_task", "head_view",
                               "head_view_task"],
        "analyses.attribution": ["AttributionResult", "Classifier", "attribute", "attribute_task", "faithfulness"],
        "analyses.cloze": ["ClozeResult", "MaskedLMScorer", "agreement_stimuli", "blimp", "cloze_task", "crows_pairs",
                           "run_suite", "stereoset"],
        "experiments": ["run_experiment"],
    },
)
__all__ = [*__all__, "__version__"]
