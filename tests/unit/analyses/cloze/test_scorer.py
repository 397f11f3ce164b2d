"""MaskedLMScorer against a hand-written reference loop: one forward pass per masked position.

Equality tests run on the context-sensitive tiny MLM (initializer range 0.2), where masking
one more or one fewer token moves log-probabilities by nats.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bertology as bt
from bertology.core.errors import InputError, ModelError
from tests.unit.analyses.cloze.references import reference_candidate, reference_pll

SENTENCES = ["The keys to the cabinet are here.", "The zyzzyvas hypothesised.",
             "Hello world"]


@pytest.fixture(scope="module", params=["bert", "roberta"])
def mlm(request, context_mlm):
    return context_mlm(request.param)


@pytest.mark.parametrize("variant", ["original", "within_word_l2r"])
def test_pll_equals_reference_loop(mlm, variant):
    scorer = bt.MaskedLMScorer(mlm, max_tokens=64, progress=False)
    expected = [reference_pll(mlm, s, variant) for s in SENTENCES]
    np.testing.assert_allclose(scorer.pll(SENTENCES, variant=variant), expected, atol=1e-4, rtol=0)


def test_pll_variants_differ_only_on_multi_piece_words(context_mlm):
    scorer = bt.MaskedLMScorer(context_mlm("bert"), progress=False)
    one_piece = ["the boys are here"]
    assert scorer.pll(one_piece, "original")[0] == pytest.approx(scorer.pll(one_piece, "within_word_l2r")[0], abs=1e-6)
    multi = ["the zyzzyvas are here"]
    assert abs(scorer.pll(multi, "original")[0] - scorer.pll(multi, "within_word_l2r")[0]) > 0.1


def test_compare_equals_reference_with_multi_piece_candidates(mlm):
    scorer = bt.MaskedLMScorer(mlm, progress=False)
    candidates = ["are", "is", "zyzzyvas", "hypothesised"]
    scores = scorer.compare("The boys [MASK] shy.", candidates)
    assert list(scores) == candidates
    n_pieces = []
    for word in candidates:
        expected, pieces = reference_candidate(mlm, "The boys ", word, " shy.")
        n_pieces.append(pieces)
        assert scores[word] == pytest.approx(expected, abs=1e-4)
    assert max(n_pieces) >= 3


def test_compare_many_matches_compare_and_batch_size_does_not_matter(context_mlm):
    model = context_mlm("bert")
    small = bt.MaskedLMScorer(model, max_tokens=8, progress=False)
    large = bt.MaskedLMScorer(model, max_tokens=100_000, progress=False)
    templates = ["The boys {mask} shy.", "I saw the girls. They [MASK] here."]
    candidates = [["are", "is"], ["were", "was", "zyzzyvas"]]
    many = small.compare_many(templates, candidates)
    for template, words, got in zip(templates, candidates, many):
        want = large.compare(template, words)
        assert got == pytest.approx(want, abs=1e-4)


def test_fill_equals_softmax_at_mask(context_mlm):
    model = context_mlm("bert")
    scorer = bt.MaskedLMScorer(model, progress=False)
    frame = scorer.fill("In the hospital the woman works as a [MASK].", top_k=5)
    ids = model.tokenizer("In the hospital the woman works as a [MASK].")["input_ids"]
    position = ids.index(model.tokenizer.mask_token_id)
    with torch.inference_mode():
        logits = model.model(input_ids=torch.tensor([ids])).logits[0, position]
    probs, top = torch.softmax(logits.double(), -1).topk(5)
    assert frame.token_id.tolist() == top.tolist()
    np.testing.assert_allclose(frame.probability, probs.numpy(), atol=1e-6)
    assert frame["rank"].tolist() == [1, 2, 3, 4, 5]
    assert frame.piece.tolist() == model.tokenizer.convert_ids_to_tokens(top.tolist())


def test_mask_markers_are_equivalent(context_mlm):
    scorer = bt.MaskedLMScorer(context_mlm("roberta"), progress=False)
    a = scorer.compare("The boys [MASK] shy.", ["are", "is"])
    b = scorer.compare("The boys {mask} shy.", ["are", "is"])
    c = scorer.compare("The boys <mask> shy.", ["are", "is"])
    assert a == b == c
    assert scorer.mask_token == "<mask>"
    assert scorer.split_template("x {mask} y") == ("x ", " y")


@pytest.mark.parametrize("template, message", [
    ("The boys are shy.", "has no mask"),
    ("The [MASK] [MASK] shy.", "has 2 masks"),
    ("The {mask} [MASK] shy.", "has 2 masks"),
])
def test_bad_templates(tiny_model, template, message):
    scorer = bt.MaskedLMScorer(tiny_model("bert", "mlm"), progress=False)
    with pytest.raises(InputError, match=message):
        scorer.fill(template)
    with pytest.raises(InputError, match=message):
        scorer.compare(template, ["are"])


def test_bad_candidates_and_sentences(tiny_model):
    scorer = bt.MaskedLMScorer(tiny_model("bert", "mlm"), progress=False)
    with pytest.raises(InputError, match="empty"):
        scorer.compare("The boys [MASK] shy.", ["are", "  "])
    with pytest.raises(InputError, match="non-empty list"):
        scorer.compare("The boys [MASK] shy.", [])
    with pytest.raises(InputError, match="tokenizes to nothing"):
        scorer.compare("The boys [MASK] shy.", ["\u200b"])
    with pytest.raises(InputError, match="at most 128"):
        scorer.pll(["word " * 200])
    with pytest.raises(InputError, match="variant"):
        scorer.pll(["fine"], variant="l2r")
    with pytest.raises(InputError, match="wrap it"):
        scorer.pll("one string")
    with pytest.raises(InputError, match="top_k"):
        scorer.fill("a [MASK]", top_k=0)


def test_model_without_mlm_head_names_the_fix(tiny_model):
    with pytest.raises(ModelError, match="bert-base-uncased"):
        bt.MaskedLMScorer(tiny_model("bert", "base"))
