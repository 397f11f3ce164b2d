"""A toy classifier for attribution tests: p(positive) = sigmoid(sum of fixed per-word weights)."""

from __future__ import annotations

import torch
from torch import nn

from bertology.analyses.attribution import Classifier


class WordWeightNet(nn.Module):
    """logits = [0, Σ_t weight(token_t)] over real tokens; one embedding dimension per token."""

    def __init__(self, vocab_size: int, weights: dict[int, float]) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, 1)
        with torch.no_grad():
            self.embed.weight.zero_()
            for token_id, weight in weights.items():
                self.embed.weight[token_id, 0] = weight

    def forward(self, input_ids, attention_mask):
        score = (self.embed(input_ids)[..., 0] * attention_mask).sum(dim=1)
        return torch.stack([torch.zeros_like(score), score], dim=1)


def toy_classifier(tokenizer, word_weights: dict[str, float], max_length: int = 512) -> Classifier:
    """A Classifier over ``tokenizer`` whose positive logit is the sum of ``word_weights`` (single-piece words)."""
    ids = {tokenizer.convert_tokens_to_ids(word): weight for word, weight in word_weights.items()}
    net = WordWeightNet(len(tokenizer), ids)
    return Classifier(net, tokenizer, ["negative", "positive"], net.embed, max_length=max_length)
