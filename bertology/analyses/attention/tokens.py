"""Which token ids count as [CLS], [SEP] and punctuation for a tokenizer (ids, never strings of the text)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import PreTrainedTokenizerBase

PUNCTUATION = (".", ",")


@dataclass(frozen=True)
class TargetTokens:
    """Token ids of the attention targets of Clark et al. (2019).

    Attributes
    ----------
    cls
        Ids of the sequence-start token (``cls_token_id``, ``bos_token_id``).
    sep
        Ids of the separator / sequence-end token (``sep_token_id``, ``eos_token_id``).
    punct
        Ids of the tokens ``.`` and ``,`` (word-initial variants included).
    """

    cls: tuple[int, ...]
    sep: tuple[int, ...]
    punct: tuple[int, ...]

    def masks(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Boolean target masks of shape ``(*input_ids.shape, 3)``: [CLS], [SEP], punctuation.

        Examples
        --------
        >>> TargetTokens((101,), (102,), (1012,)).masks(torch.tensor([[101, 7, 1012, 102]]))[0].int().tolist()
        [[1, 0, 0], [0, 0, 0], [0, 0, 1], [0, 1, 0]]
        """
        groups = [torch.tensor(ids, dtype=input_ids.dtype, device=input_ids.device) for ids in
                  (self.cls, self.sep, self.punct)]
        return torch.stack([torch.isin(input_ids, group) for group in groups], dim=-1)


def _ids(*values: int | None) -> tuple[int, ...]:
    return tuple(sorted({int(v) for v in values if v is not None}))


def target_tokens(tokenizer: PreTrainedTokenizerBase) -> TargetTokens:
    """The [CLS]/[SEP]/punctuation token ids of a tokenizer.

    Special tokens come from the tokenizer's own attributes (``cls``/``bos`` and
    ``sep``/``eos``); punctuation is every single-token encoding of ``.`` and ``,``
    (alone and after a space, which covers word-initial pieces such as ``▁.``).

    Parameters
    ----------
    tokenizer
        A Hugging Face tokenizer.

    Returns
    -------
    TargetTokens

    Examples
    --------
    >>> from bertology import load_model
    >>> t = target_tokens(load_model("minilm").tokenizer)
    >>> t.cls, t.sep, t.punct
    ((101,), (102,), (1010, 1012))
    """
    specials = set(tokenizer.all_special_ids)
    punct = set()
    for mark in PUNCTUATION:
        for text in (mark, f" {mark}"):
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            if len(ids) == 1 and ids[0] not in specials:
                punct.add(ids[0])
        direct = tokenizer.convert_tokens_to_ids(mark)
        if direct is not None and direct not in specials:
            punct.add(direct)
    return TargetTokens(cls=_ids(tokenizer.cls_token_id, tokenizer.bos_token_id),
                        sep=_ids(tokenizer.sep_token_id, tokenizer.eos_token_id),
                        punct=tuple(sorted(punct)))
