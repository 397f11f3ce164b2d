"""Attention analysis: Clark et al. (2019) head statistics, rollout, paper figures, an HTML head view."""

from bertology.attention.figures import (attention_grid, attention_head_map, plot_attention_grid, plot_attention_map,
                                         plot_stat_heatmaps)
from bertology.attention.head_view import HeadView, head_view
from bertology.attention.rollout import AttentionMaps, attention_rollout, head_mean_attention, rollout
from bertology.attention.sentence import SentenceAttention, sentence_attention
from bertology.attention.stats import STATISTICS, AttentionStats, HeadStatsAccumulator, attention_stats
from bertology.attention.tokens import TargetTokens, target_tokens

__all__ = ["STATISTICS", "AttentionMaps", "AttentionStats", "HeadStatsAccumulator", "HeadView", "SentenceAttention",
           "TargetTokens", "attention_grid", "attention_head_map", "attention_rollout", "attention_stats",
           "head_mean_attention", "head_view", "plot_attention_grid", "plot_attention_map", "plot_stat_heatmaps",
           "rollout", "sentence_attention", "target_tokens"]
