"""score_copies: batched masked copies against single forward passes, top-k, token budgets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bertology.analyses.cloze.engine import MaskedCopy, _budget_batches, score_copies
from tests.unit.analyses.cloze.references import reference_log_prob


def test_context_mlm_depends_on_context(context_mlm, tiny_model):
    """The test MLM moves log-probabilities by nats between contexts; the default-initialised one hardly does."""
    spread = []
    for model in (context_mlm("bert"), tiny_model("bert", "mlm")):
        rows = []
        for text in ("the boys [MASK] here", "i think that the girls [MASK] shy today"):
            ids = torch.tensor([model.tokenizer(text)["input_ids"]])
            with torch.inference_mode():
                logits = model.model(input_ids=ids).logits[ids == model.tokenizer.mask_token_id][0]
            rows.append(torch.log_softmax(logits.double(), -1))
        spread.append(float((rows[0] - rows[1]).abs().max()))
    assert spread[0] > 2.0 and spread[0] > 5 * spread[1]


def test_score_copies_reads_target_and_top_k(context_mlm):
    model = context_mlm("bert")
    ids = model.tokenizer("the boys are here")["input_ids"]
    other = model.tokenizer("the keys to the cabinet are here")["input_ids"]
    copies = [MaskedCopy(0, (2,), 2, ids[2]), MaskedCopy(0, (2, 3), 3, ids[3]), MaskedCopy(1, (5,), 5, other[5])]
    scores, top_ids, top_lp = score_copies(model, [ids, other], copies, progress=False, top_k=3)
    assert scores[0] == pytest.approx(reference_log_prob(model, ids, (2,), 2, ids[2]), abs=1e-4)
    assert scores[1] == pytest.approx(reference_log_prob(model, ids, (2, 3), 3, ids[3]), abs=1e-4)
    assert scores[2] == pytest.approx(reference_log_prob(model, other, (5,), 5, other[5]), abs=1e-4)
    assert top_ids.shape == (3, 3) and np.all(np.diff(top_lp, axis=1) <= 0)
    assert top_lp[0, 0] == pytest.approx(reference_log_prob(model, ids, (2,), 2, int(top_ids[0, 0])), abs=1e-4)


def test_budget_batches_stay_within_max_tokens():
    lengths = np.array([5, 9, 3, 9, 4])
    batches = _budget_batches(lengths, 18)
    assert sorted(np.concatenate(batches).tolist()) == [0, 1, 2, 3, 4]
    assert all(len(rows) * lengths[rows].max() <= 18 for rows in batches)
    assert [len(rows) for rows in _budget_batches(lengths, 1)] == [1] * 5
