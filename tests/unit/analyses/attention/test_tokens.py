"""Which token ids count as [CLS], [SEP] and punctuation."""

from __future__ import annotations

import torch

from bertology.analyses.attention import TargetTokens, target_tokens


def test_target_tokens_come_from_tokenizer_ids(minilm):
    targets = target_tokens(minilm.tokenizer)
    tok = minilm.tokenizer
    assert targets.cls == (tok.cls_token_id,) and targets.sep == (tok.sep_token_id,)
    assert set(tok.convert_ids_to_tokens(list(targets.punct))) == {".", ","}
    masks = targets.masks(torch.tensor([tok("Hi, you.")["input_ids"]]))
    assert masks[0].sum(0).tolist() == [1, 1, 2]


def test_masks_mark_each_target_kind():
    masks = TargetTokens(cls=(1,), sep=(2, 3), punct=(9,)).masks(torch.tensor([[1, 5, 9, 2, 3]]))
    assert masks[0].int().tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 0]]
