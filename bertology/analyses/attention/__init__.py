"""Attention analysis: Clark et al. (2019) head statistics, rollout, paper figures, an HTML head view."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'figures': ['plot_attention_map'],
        'head_view': ['HeadView', 'NeuronView', 'head_view', 'word_attention'],
        'neuron': ['QueryKey', 'query_key', 'score_scale'],
        'rollout': ['AttentionMaps', 'attention_rollout', 'head_mean_attention', 'rollout'],
        'sentence': ['SentenceAttention', 'attention_grid', 'attention_head_map', 'sentence_attention'],
        'stats': ['AttentionStats', 'HeadStatsAccumulator', 'STATISTICS', 'attention_stats'],
        'task': ['attention_task', 'head_view_task', 'save_attention_figures'],
        'tokens': ['TargetTokens', 'target_tokens'],
    },
)
