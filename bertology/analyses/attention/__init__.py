"""Attention analysis: Clark et al. (2019) head statistics, rollout, paper figures, an HTML head view."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'figures': ['attention_grid', 'attention_head_map', 'plot_attention_grid', 'plot_attention_map', 'plot_stat_heatmaps'],
        'head_view': ['HeadView', 'head_view'],
        'rollout': ['AttentionMaps', 'attention_rollout', 'head_mean_attention', 'rollout'],
        'sentence': ['SentenceAttention', 'sentence_attention'],
        'stats': ['AttentionStats', 'HeadStatsAccumulator', 'STATISTICS', 'attention_stats'],
        'tokens': ['TargetTokens', 'target_tokens'],
    },
)
