"""Activation patching: whole-stream and empty patches, batched vs one forward per component, a hand-made head patch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bertology as bt
from bertology.analyses.patching.engine import _inputs, _patch_edit, encode_pairs, run_metric
from bertology.analyses.patching.pairs import MinimalPair
from bertology.analyses.patching.patch import patch
from bertology.core.errors import InputError, ModelError

PAIRS = [("the boy [MASK] here", "the boys [MASK] here", ("is", "are")),
         ("the doctor [MASK] in the hospital", "the nurse [MASK] in the hospital", ("he", "she"))]


def _plain_metric(model, text: str, a: str, b: str) -> float:
    """log P(a) − log P(b) at the mask from the full logits, without bertology."""
    batch = model.tokenizer([text.replace("[MASK]", model.tokenizer.mask_token)], return_tensors="pt")
    with torch.inference_mode():
        logits = model.model(**batch).logits[0]
    position = batch["input_ids"][0].tolist().index(model.tokenizer.mask_token_id)
    scores = torch.log_softmax(logits[position], -1)
    ids = model.tokenizer.convert_tokens_to_ids([a, b])
    return float(scores[ids[0]] - scores[ids[1]])


def test_metrics_and_total_effect_match_plain_forwards(context_mlm):
    m = context_mlm()
    result = patch(m, pairs=PAIRS, progress=False)
    table = result.pairs.set_index("pair")
    for index, (base, counter, (a, b)) in enumerate(PAIRS):
        row = table.loc[f"pair-{index}"]
        assert row["metric_base"] == pytest.approx(_plain_metric(m, base, a, b), abs=1e-4)
        assert row["metric_counterfactual"] == pytest.approx(_plain_metric(m, counter, a, b), abs=1e-4)
        assert row["total_effect"] == pytest.approx(row["metric_counterfactual"] - row["metric_base"], abs=1e-9)
    assert table["total_effect"].abs().min() > 1e-3


def test_patching_the_whole_stream_gives_the_counterfactual_and_nothing_gives_the_base(context_mlm):
    m = context_mlm()
    encoded = encode_pairs(m, [MinimalPair("p", *PAIRS[0])], strict=True)
    names = ["embeddings"] + [f"layers.{i}.resid_post" for i in range(m.num_layers)]
    with torch.inference_mode(), bt.trace(m, names) as cache:
        m(**_inputs(m, encoded.ids["counterfactual"]))
    length = len(encoded.ids["base"][0])
    copies = len(names) + 1  # one copy per hidden state patched everywhere, and one copy patched nowhere
    inputs = _inputs(m, encoded.ids["base"] * copies)
    edits = {name: _patch_edit(torch.full((length,), k), torch.arange(length), cache[name][0], "resid")
             for k, name in enumerate(names)}
    with torch.inference_mode(), bt.intervene(m, edits):
        patched = run_metric(m, "mlm", inputs, np.repeat(encoded.read["base"], copies),
                             np.repeat(encoded.targets, copies, axis=0), 1).numpy()
    with torch.inference_mode():
        plain = {side: float(run_metric(m, "mlm", _inputs(m, encoded.ids[side]), encoded.read[side],
                                        encoded.targets, 1)[0]) for side in ("base", "counterfactual")}
    assert np.allclose(patched[:-1], plain["counterfactual"], atol=1e-5)
    assert patched[-1] == pytest.approx(plain["base"], abs=1e-5)
    assert abs(plain["base"] - plain["counterfactual"]) > 1e-3


def test_effects_at_the_embeddings_and_the_last_state(context_mlm):
    """Only the changed token differs at the embeddings, and only the mask is read at the last hidden state."""
    m = context_mlm()
    result = patch(m, pairs=PAIRS[:1], progress=False)
    frame = result.to_frame()
    total = result.pairs["total_effect"].iloc[0]
    embeddings = frame[frame["layer"] == 0].set_index("role")
    assert embeddings.loc["changed", "indirect_effect"] == pytest.approx(total, abs=1e-5)
    assert embeddings.loc["changed", "direct_effect"] == pytest.approx(0.0, abs=1e-5)
    assert np.allclose(embeddings.drop(index="changed")["indirect_effect"], 0.0, atol=1e-6)
    last = frame[frame["layer"] == m.num_layers].set_index("role")
    assert last.loc["mask", "indirect_effect"] == pytest.approx(total, abs=1e-5)
    assert np.allclose(last.drop(index="mask")["indirect_effect"], 0.0, atol=1e-6)
    assert list(frame[frame["layer"] == 0]["role"]) == ["start", "before", "changed", "mask", "after", "end"]


@pytest.mark.parametrize("components", ["resid", "heads"])
def test_batched_equals_one_forward_per_component(context_mlm, components):
    m = context_mlm()
    pairs = [MinimalPair("a", *PAIRS[0]), MinimalPair("b", *PAIRS[1]),
             MinimalPair("c", "the girls [MASK] there", "the girl [MASK] there", ("are", "is"))]
    batched = patch(m, pairs=pairs, components=components, batch_size=7, progress=False)
    looped = patch(m, pairs=pairs, components=components, batched=False, progress=False)
    assert np.allclose(batched.effects["indirect_effect"], looped.effects["indirect_effect"], atol=1e-5)
    assert np.allclose(batched.effects["direct_effect"], looped.effects["direct_effect"], atol=1e-5)
    assert batched.effects["indirect_effect"].abs().max() > 1e-3


def test_one_head_patched_by_hand(context_mlm):
    """Indirect effect of one head: the slice of the output projection's input, swapped with plain torch hooks."""
    m = context_mlm()
    layer, head = 1, 2
    result = patch(m, pairs=PAIRS[:1], components="heads", progress=False)
    frame = result.to_frame()
    ours = frame[(frame["layer"] == layer) & (frame["head"] == head)]["indirect_effect"].item()
    d_head = m.hidden_size // m.num_heads
    dense = m.model.bert.encoder.layer[layer].attention.output.dense
    base, counter, (a, b) = PAIRS[0]
    batch = {t: m.tokenizer([t.replace("[MASK]", "[MASK]")], return_tensors="pt") for t in (base, counter)}
    saved = {}
    handle = dense.register_forward_pre_hook(lambda mod, args: saved.setdefault("x", args[0].clone()))
    with torch.inference_mode():
        m.model(**batch[counter])
    handle.remove()

    def swap(mod, args):
        x = args[0].clone()
        x[..., head * d_head:(head + 1) * d_head] = saved["x"][..., head * d_head:(head + 1) * d_head]
        return (x,)

    handle = dense.register_forward_pre_hook(swap)
    with torch.inference_mode():
        logits = m.model(**batch[base]).logits[0]
    handle.remove()
    position = batch[base]["input_ids"][0].tolist().index(m.tokenizer.mask_token_id)
    scores = torch.log_softmax(logits[position], -1)
    ids = m.tokenizer.convert_tokens_to_ids([a, b])
    expected = float(scores[ids[0]] - scores[ids[1]]) - _plain_metric(m, base, a, b)
    assert ours == pytest.approx(expected, abs=1e-5)
    assert abs(expected) > 1e-5


def test_suite_pairs_and_positions(context_mlm):
    m = context_mlm()
    result = patch(m, suite="agreement", positions=[0, -1], progress=False)
    assert result.meta["n_pairs"] + result.meta["n_skipped"] == 96
    assert set(result.effects["role"]) == {"start", "end"}
    assert result.effects.groupby("pair").size().eq(2 * (m.num_layers + 1)).all()


def test_classifier_probability(tiny_model):
    m = tiny_model("bert", "classifier")
    result = patch(m, pairs=[("the film was great", "the film was terrible")], components="heads", label=0,
                   progress=False)
    assert result.meta["metric"] == "probability"
    assert result.pairs["metric_base"].between(0, 1).all()


def test_bad_input(context_mlm, minilm):
    m = context_mlm()
    with pytest.raises(InputError, match="pair-0.*equal token length"):
        patch(m, pairs=[("the boy [MASK] here", "the big boy [MASK] here", ("is", "are"))], progress=False)
    with pytest.raises(InputError, match="pair-0.*one token"):
        patch(m, pairs=[("the boy [MASK] here", "the boys [MASK] here", ("is", "hippopotamuses"))], progress=False)
    with pytest.raises(InputError, match="pair-0.*one \\[MASK\\]"):
        patch(m, pairs=[("the boy is here", "the boys are here", ("is", "are"))], progress=False)
    with pytest.raises(InputError, match="no candidates"):
        patch(m, pairs=[("the boy [MASK] here", "the boys [MASK] here")], progress=False)
    with pytest.raises(InputError, match="components"):
        patch(m, components="mlp", progress=False)
    with pytest.raises(InputError, match="positions"):
        patch(m, pairs=PAIRS[:1], positions=[40], progress=False)
    with pytest.raises(InputError, match="neither a shipped suite"):
        patch(m, suite="telicity-x", progress=False)
    with pytest.raises(ModelError, match="head='mlm'"):
        patch(minilm, pairs=PAIRS, progress=False)
