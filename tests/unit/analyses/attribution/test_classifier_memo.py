"""Classifier.probabilities_of_ids runs each distinct sequence once; Classifier.memoized remembers them across calls."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bertology as bt


@pytest.fixture(scope="module")
def head(tiny_model):
    return bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))


def counting(clf):
    """Rows through the network, per forward pass."""
    rows = []
    clf.network.register_forward_hook(lambda module, args, output: rows.append(args[0].shape[0]))
    return rows


def one_by_one(clf, sequences, segments=None, position=None):
    out = []
    with torch.no_grad():
        for row, ids in enumerate(sequences):
            ids = torch.tensor([ids])
            types = None if segments is None else torch.tensor([segments[row]])
            if position is None:
                out.append(clf.probabilities(ids, torch.ones_like(ids), types)[0].numpy())
            else:
                with clf.at_token(position):
                    out.append(clf.probabilities(ids, torch.ones_like(ids), types)[0].numpy())
    return np.array(out)


def test_each_distinct_sequence_runs_once(tiny_model):
    clf = bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))
    rows = counting(clf)
    a, b, c = clf.encode(["the film was great", "hated it", "a long , dull city film"])
    sequences = [a, b, a, c, b, a]
    probs = clf.probabilities_of_ids(sequences, batch_size=2)
    assert sorted(rows) == [1, 2]
    np.testing.assert_allclose(probs, one_by_one(clf, sequences), atol=1e-6)
    assert (probs[0] == probs[2]).all() and (probs[1] == probs[4]).all() and not np.allclose(probs[0], probs[1])
    assert clf.probabilities_of_ids([]).shape == (0, 2)


def test_segment_ids_make_a_sequence_distinct(tiny_model):
    clf = bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))
    rows = counting(clf)
    ids, segments = clf.encode_pairs([("the film", "was great")])
    sequences, types = ids * 3, [segments[0], [0] * len(ids[0]), segments[0]]
    with clf.memoized():
        probs = clf.probabilities_of_ids(sequences, segments=types)
        again = clf.probabilities_of_ids(sequences[:2], segments=types[:2])
    assert rows == [2]
    np.testing.assert_allclose(probs, one_by_one(clf, sequences, types), atol=1e-7)
    assert np.abs(probs[0] - probs[1]).max() > 1e-6 and (again == probs[:2]).all()


def test_memoized_remembers_within_the_block_only(head):
    rows = counting(head)
    sequences = head.encode(["the film was great", "hated it", "loved the boys"])
    with head.memoized():
        first = head.probabilities_of_ids(sequences[:2])
        with head.memoized():
            inner = head.predict_proba(["hated it", "loved the boys"])
        again = head.probabilities_of_ids(sequences[::-1])
    assert rows == [2, 1]
    assert (inner[0] == first[1]).all() and (again == np.vstack([inner[1], first[1], first[0]])).all()
    head.probabilities_of_ids(sequences[:1])
    assert rows == [2, 1, 1]


def test_memoized_keeps_token_positions_apart(tiny_model):
    tagger = bt.Classifier.from_pretrained(tiny_model("bert", "token-classifier"))
    sequences = tagger.encode(["the film was great"])
    with tagger.memoized():
        with tagger.at_token(1):
            at_one = tagger.probabilities_of_ids(sequences)
        with tagger.at_token(2):
            at_two = tagger.probabilities_of_ids(sequences)
    np.testing.assert_allclose(at_one, one_by_one(tagger, sequences, position=1), atol=1e-6)
    np.testing.assert_allclose(at_two, one_by_one(tagger, sequences, position=2), atol=1e-6)
    assert not np.allclose(at_one, at_two)


def test_attention_methods_share_one_reading_of_a_text_inside_the_block(tiny_model):
    clf = bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))
    calls = []
    handle = clf.network.hf_model.register_forward_pre_hook(lambda module, args: calls.append(1))
    methods = ["attention", "rollout", "norm", "attention_flow"]
    try:
        alone = [bt.attribute(clf, "the film was great", method=m).token_scores for m in methods]
        per_call = len(calls) // len(methods)
        calls.clear()
        with clf.memoized():
            shared = [bt.attribute(clf, "the film was great", method=m).token_scores for m in methods]
            bt.attribute(clf, ("the film", "was great"), method="attention")
        assert len(calls) == 2 * (per_call - 1)
    finally:
        handle.remove()
    np.testing.assert_array_equal(shared, alone)


def test_attention_read_in_padded_batches_equals_each_text_read_alone(tiny_model, arch):
    from bertology.analyses.attribution.attention_methods import attention_values, remember_attention
    from bertology.analyses.attribution.words import tokenize_input

    clf = bt.Classifier.from_pretrained(tiny_model(arch, "classifier"))
    texts = [tokenize_input(clf, text) for text in
             ["the film was great and the boys loved it", "hated it", ("a man plays", "someone makes music")]]
    alone = [attention_values(clf, t, hidden=True) for t in texts]
    calls = []
    handle = clf.network.hf_model.register_forward_pre_hook(lambda module, args: calls.append(1))
    try:
        with clf.memoized():
            remember_attention(clf, texts, batch_size=3)
            batched = [attention_values(clf, t, hidden=True) for t in texts]
    finally:
        handle.remove()
    assert len(calls) == 1
    for ours, expected in zip(batched, alone):
        for got, want in zip(ours, expected):
            assert got.shape == want.shape
            torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)
