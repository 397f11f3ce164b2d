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
        "core.hooks": ["ActivationCache", "ablate", "add", "canonical_names", "gate_heads", "intervene", "project_out",
                       "set_from", "trace"],
        "core.models": ["ADAPTERS", "LoadedModel", "load_model"],
        "analyses.probes": ["LinearProbe", "ProbeResult", "probe_layers", "probe_task"],
        "analyses.geometry": ["context_similarity", "ethayarajh_measures", "geometry_task", "project_layers"],
        "analyses.attention": ["attention_grid", "attention_rollout", "attention_stats", "attention_task", "head_view",
                               "head_view_task"],
        "analyses.attribution": ["AttributionResult", "Classifier", "attribute", "attribute_task", "faithfulness",
                                 "load_eraser", "plausibility"],
        "analyses.attribution.benchmark": ["explanation_benchmark"],
        "analyses.attribution.methods": ["methods"],
        "analyses.heads": ["HeadAblation", "HeadImportance", "PruningCurve", "ablation_scores", "head_importance",
                           "prune_heads"],
        "analyses.cloze": ["ClozeResult", "MaskedLMScorer", "agreement_stimuli", "blimp", "cloze_task", "crows_pairs",
                           "run_suite", "stereoset"],
        "analyses.similarity": ["SimilarityMatrix", "similarity", "similarity_task"],
        "analyses.erasure": ["AmnesicResult", "Erasure", "amnesic_probe", "erase", "erase_task"],
        "analyses.patching": ["MinimalPair", "PatchingResult", "patch", "patch_task"],
        "analyses.syntax": ["DependencyHeads", "dependency_heads", "EdgeProbeResult", "conllu_to_edges", "edge_probe",
                            "load_edges", "StructuralProbeResult", "structural_probe", "syntax_task"],
        "experiments": ["run_experiment"],
        "experiments.compare": ["Comparison", "compare"],
    },
)
__all__ = [*__all__, "__version__"]
