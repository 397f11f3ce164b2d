"""score_copies: batched masked copies against single forward passes, top-k, token budgets."""

from __future__ import annotations

import numpy as np
import pytest

from bertology.analyses.cloze.engine import MaskedCopy, _budget_batches, score_copies
from tests.unit.analyses.cloze.references import reference_log_prob


def test_score_copies_reads_target_and_top_k(tiny_model):
    model = tiny_model("bert", "mlm")
    ids = model.tokenizer("the boys are here")["input_ids"]
    copies = [MaskedCopy(0, (2,), 2, ids[2]), MaskedCopy(0, (2, 3), 3, ids[3])]
    scores, top_ids, top_lp = score_copies(model, [ids], copies, progress=False, top_k=3)
    assert scores[0] == pytest.approx(reference_log_prob(model, ids, (2,), 2, ids[2]), abs=1e-5)
    assert scores[1] == pytest.approx(reference_log_prob(model, ids, (2, 3), 3, ids[3]), abs=1e-5)
    assert top_ids.shape == (2, 3) and np.all(np.diff(top_lp, axis=1) <= 0)
    assert top_lp[0, 0] == pytest.approx(reference_log_prob(model, ids, (2,), 2, int(top_ids[0, 0])), abs=1e-5)


def test_budget_batches_stay_within_max_tokens():
    lengths = np.array([5, 9, 3, 9, 4])
    batches = _budget_batches(lengths, 18)
    assert sorted(np.concatenate(batches).tolist()) == [0, 1, 2, 3, 4]
    assert all(len(rows) * lengths[rows].max() <= 18 for rows in batches)
    assert [len(rows) for rows in _budget_batches(lengths, 1)] == [1] * 5
