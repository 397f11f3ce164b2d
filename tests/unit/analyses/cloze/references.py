"""Hand-written reference scoring for cloze tests: one unbatched forward pass per masked position."""

from __future__ import annotations

import torch


def reference_log_prob(model, ids, masked, read, target):
    """log P(target at read | ids with `masked` replaced by the mask token), one unbatched forward."""
    ids = torch.tensor([ids])
    ids[0, list(masked)] = model.tokenizer.mask_token_id
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if model.adapter.uses_token_type_ids:
        inputs["token_type_ids"] = torch.zeros_like(ids)
    with torch.inference_mode():
        logits = model.model(**inputs).logits[0, read]
    return float(torch.log_softmax(logits.double(), -1)[target])


def reference_pll(model, sentence, variant):
    """Σ_t log P(w_t | masked copy t), one unbatched forward pass per masked position."""
    encoding = model.tokenizer(sentence)
    ids, words = encoding["input_ids"], encoding.word_ids()
    total = 0.0
    for t, word in enumerate(words):
        if word is None:
            continue
        later = [u for u in range(t + 1, len(ids)) if words[u] == word] if variant == "within_word_l2r" else []
        total += reference_log_prob(model, ids, [t] + later, t, ids[t])
    return total


def reference_candidate(model, prefix, word, suffix):
    """Within-word left-to-right log-probability of ``word`` between ``prefix`` and ``suffix``, and its pieces."""
    text = prefix + word + suffix
    encoding = model.tokenizer(text, return_offsets_mapping=True, return_special_tokens_mask=True)
    start, end = len(prefix), len(prefix) + len(word)
    pieces = [i for i, ((a, b), s) in enumerate(zip(encoding["offset_mapping"], encoding["special_tokens_mask"]))
              if not s and a < end and b > start]
    ids = encoding["input_ids"]
    return sum(reference_log_prob(model, ids, pieces[j:], p, ids[p]) for j, p in enumerate(pieces)), len(pieces)
