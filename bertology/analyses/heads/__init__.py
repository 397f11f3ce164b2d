"""Attention heads as causes: gate-gradient importance, leave-one-out ablation, pruning curves (Michel et al., 2019)."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'importance': ['gate_gradients', 'head_importance', 'normalize_importance'],
        'objective': ['LOSSES', 'Objective', 'texts_and_labels'],
        'pruning': ['ablation_scores', 'prune_heads'],
        'result': ['HeadAblation', 'HeadImportance', 'PruningCurve', 'check_order', 'importance_frame'],
    },
)
