"""Faithfulness of sentence-pair attributions: rationale words removed or kept in both segments, [CLS]/[SEP] and
every kept token's segment id kept; equal to hand-built variants run through the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bertology as bt
from bertology.analyses.attribution.faithfulness import rank_agreement
from bertology.analyses.attribution.result import AttributionResult
from tests.unit.analyses.attribution.conftest import probe_classifier

PAIR = ("the man played a film", "people loved it")
SCORES = [0.0, 4.0, 0.0, 0.0, 3.0, 0.0, 5.0, 0.0]  # top 2: "loved" (second segment), "man" (first segment)


@pytest.fixture(scope="module", params=["head", "probe", "regression"])
def pair_clf(request, tiny_model, tiny_model_dir):
    """A tiny BERT's head, a CLS probe on it, and a regressor with larger weights whose output visibly follows
    the segment ids (the tiny head barely does)."""
    if request.param == "regression":
        return bt.Classifier.from_pretrained(str(tiny_model_dir("bert", "regression")))
    if request.param == "head":
        return bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))
    return probe_classifier(tiny_model)


def pair_result(clf, scores=SCORES, method="oracle"):
    enc = clf.tokenizer(*PAIR)
    tokens = clf.tokenizer.convert_ids_to_tokens(enc["input_ids"])
    return AttributionResult(PAIR[0], tokens, [-1] * len(tokens), [0.0] * len(tokens), " ".join(PAIR).split(),
                             list(scores), clf.labels[-1], len(clf.labels) - 1, method, 0.0,
                             {"text_pair": PAIR[1], "word_segments": [0] * 5 + [1] * 3})


def probability(clf, ids, types, target=-1):
    """The explained output (softmax probability, or the regressor's raw value), from the network itself."""
    ids = torch.tensor([ids])
    with torch.no_grad():
        out = clf.network(ids, torch.ones_like(ids), torch.tensor([types]))
    return float((out if len(clf.labels) == 1 else torch.softmax(out, -1))[0, target])


def hand_variants(clf, chosen_words, mask_id=None):
    """(ids, segment ids) of the pair without the chosen words and with only them, built from the tokenizer."""
    enc = clf.tokenizer(*PAIR, return_special_tokens_mask=True)
    ids, types, special = enc["input_ids"], enc["token_type_ids"], enc["special_tokens_mask"]
    word_of = []
    for position, word in enumerate(enc.word_ids()):
        sequence = enc.sequence_ids()[position]
        word_of.append(-1 if special[position] else word + (5 if sequence == 1 else 0))
    chosen = [w in chosen_words for w in word_of]
    rest = [w >= 0 and not c for w, c in zip(word_of, chosen)]
    if mask_id is None:
        return ([(i, t) for i, t, c in zip(ids, types, chosen) if not c],
                [(i, t) for i, t, r in zip(ids, types, rest) if not r])
    return ([(mask_id if c else i, t) for i, t, c in zip(ids, types, chosen)],
            [(mask_id if r else i, t) for i, t, r in zip(ids, types, rest)])


@pytest.mark.parametrize("removal", ["remove", "mask"])
def test_pair_faithfulness_equals_hand_built_variants(pair_clf, removal):
    clf = pair_clf
    mask_id = clf.tokenizer.mask_token_id if removal == "mask" else None
    row = bt.faithfulness(clf, [pair_result(clf)], bins=(25,), removal=removal).scores.iloc[0]
    enc = clf.tokenizer(*PAIR)
    full = probability(clf, enc["input_ids"], enc["token_type_ids"])
    without, only = hand_variants(clf, {1, 6}, mask_id)
    for variant in (without, only):
        ids = [i for i, _ in variant]
        seps = [p for p, i in enumerate(ids) if i == clf.tokenizer.sep_token_id]
        assert ids[0] == clf.tokenizer.cls_token_id and len(seps) == 2 and seps[1] == len(ids) - 1
    p_without = probability(clf, *map(list, zip(*without)))
    p_only = probability(clf, *map(list, zip(*only)))
    assert row["k"] == 2
    assert row["p_full"] == pytest.approx(full, abs=1e-5)
    assert row["p_without"] == pytest.approx(p_without, abs=1e-5)
    assert row["p_only"] == pytest.approx(p_only, abs=1e-5)
    assert row["comprehensiveness"] == pytest.approx(full - p_without, abs=1e-5)
    assert row["sufficiency"] == pytest.approx(full - p_only, abs=1e-5)
    one_segment = probability(clf, [i for i, _ in without], [0] * len(without))
    if clf.description["kind"] != "sequence-classification":
        assert abs(one_segment - p_without) > 1e-3


def test_pairs_and_single_texts_score_together(clf):
    single = bt.attribute(clf, "the film was great", method="occlusion")
    pair = pair_result(clf)
    other = pair_result(clf, [1.0, 0.0, 2.0, 0.0, 0.0, 0.0, 3.0, 0.0], method="other")
    together = bt.faithfulness(clf, [single, pair, other])
    alone = bt.faithfulness(clf, [pair, other])
    pair_rows = together.scores[together.scores["item"] == 1].drop(columns="item").reset_index(drop=True)
    np.testing.assert_allclose(pair_rows[["p_without", "p_only"]], alone.scores[["p_without", "p_only"]], atol=1e-7)
    assert together.agreement["item"].tolist() == [1]
    same_first = AttributionResult(PAIR[0], [], [], [], [], [], "positive", 1, "x", 0.0, {"text_pair": "another"})
    assert len(rank_agreement([pair, same_first])) == 0


@pytest.mark.parametrize("method", ["saliency", "occlusion", "attention"])
def test_pair_results_of_methods_are_scored(clf, method):
    result = bt.attribute(clf, PAIR, method=method)
    scores = bt.faithfulness(clf, [result]).scores
    enc = clf.tokenizer(*PAIR)
    full = probability(clf, enc["input_ids"], enc["token_type_ids"], result.target_index)
    assert scores["p_full"].iloc[0] == pytest.approx(full, abs=1e-5)
    assert np.isfinite(scores[["comprehensiveness", "sufficiency"]].to_numpy()).all()
