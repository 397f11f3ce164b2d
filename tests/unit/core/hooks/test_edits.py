"""Built-in edits against hand computations: mean ablation, patching, addition, projection."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bertology as bt
from bertology.core.errors import InputError
from bertology.core.hooks import token_means

REFERENCE = ["The keys to the cabinet are here.", "A doctor works in the hospital.", "Boys ran."]
BASE = ["The bank raised its rates.", "It's a bat!"]


def _batch(model: bt.LoadedModel, texts: list[str]) -> dict:
    batch = dict(model.tokenizer(texts, return_tensors="pt", padding=True))
    if not model.adapter.uses_token_type_ids:
        batch.pop("token_type_ids", None)
    return batch


def test_token_means_average_every_real_token_of_each_sentence(tiny_model):
    model = tiny_model("roberta")
    name = "layers.1.attn.heads"
    rows = []
    with torch.no_grad():
        for text in REFERENCE:
            with bt.trace(model, name) as cache:
                model(**_batch(model, [text]))
            rows.append(cache[name][0].numpy())
    expected = np.concatenate(rows).mean(0)
    got = token_means(model, REFERENCE, [name], batch_size=2)[name]
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_mean_ablation_writes_the_reference_mean_into_the_chosen_heads_only(tiny_model):
    model = tiny_model("bert")
    name = "layers.2.attn.heads"
    mean = token_means(model, REFERENCE, [name])[name]
    batch = _batch(model, BASE)
    with torch.no_grad():
        with bt.trace(model, name) as plain:
            model(**batch)
        with bt.intervene(model, {name: bt.ablate(heads=[0, 3], how="mean", reference=REFERENCE)}), \
                bt.trace(model, name) as ablated:
            model(**batch)
    heads = ablated[name]
    torch.testing.assert_close(heads[:, :, [0, 3]], mean[[0, 3]].expand(*heads.shape[:2], 2, -1))
    torch.testing.assert_close(heads[:, :, [1, 2]], plain[name][:, :, [1, 2]])


def test_mean_ablation_from_a_cache_or_a_tensor(tiny_model):
    model = tiny_model("bert")
    name = "layers.0.mlp_out"
    with torch.no_grad(), bt.trace(model, name) as reference:
        model(**_batch(model, REFERENCE))
    mean = reference[name].reshape(-1, model.hidden_size).mean(0)
    for ref in (reference, mean):
        with torch.no_grad(), bt.intervene(model, {name: bt.ablate(how="mean", reference=ref)}), \
                bt.trace(model, name) as cache:
            model(**_batch(model, BASE))
        torch.testing.assert_close(cache[name], mean.expand_as(cache[name]))


def test_patching_everything_reproduces_the_source_run(tiny_model, arch):
    model = tiny_model(arch)
    source_batch = _batch(model, ["The boys are here.", "The girl is here."])
    base_batch = _batch(model, ["The girls was there.", "The boy were there."])
    assert source_batch["input_ids"].shape == base_batch["input_ids"].shape
    with torch.no_grad():
        with bt.trace(model, ["layers.0.resid_pre", "layers.2.resid_post"]) as source:
            model(**{**base_batch, "input_ids": source_batch["input_ids"]})
        with bt.intervene(model, {"layers.0.resid_pre": bt.set_from(source)}), \
                bt.trace(model, "layers.2.resid_post") as patched:
            model(**base_batch)
    torch.testing.assert_close(patched["layers.2.resid_post"], source["layers.2.resid_post"])


def test_patching_one_position_and_head_changes_only_that_slice(tiny_model):
    model = tiny_model("bert")
    name = "layers.1.attn.heads"
    with torch.no_grad():
        with bt.trace(model, name) as source:
            model(**_batch(model, ["The boys are here."]))
        with bt.trace(model, name) as base:
            model(**_batch(model, ["The girl is here."]))
        with bt.intervene(model, {name: bt.set_from(source, positions=2, heads=[1])}), \
                bt.trace(model, name) as patched:
            model(**_batch(model, ["The girl is here."]))
    expected = base[name].clone()
    expected[:, 2, 1] = source[name][:, 2, 1]
    assert torch.equal(patched[name], expected)


def test_patching_with_a_different_length_is_an_input_error(tiny_model):
    model = tiny_model("bert")
    with torch.no_grad(), bt.trace(model, "layers.0.mlp_out") as source:
        model(**_batch(model, ["Hi."]))
    with pytest.raises(InputError, match="same batch and token length"):
        with torch.no_grad(), bt.intervene(model, {"layers.0.mlp_out": bt.set_from(source)}):
            model(**_batch(model, ["A much longer sentence than that."]))


def test_add_and_project_out_by_hand():
    x = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(0))
    vector = torch.arange(4.0)
    added = bt.add(vector, positions=[1]).apply(x, "layers.0.resid_post")
    assert torch.equal(added[:, 1], x[:, 1] + vector)
    assert torch.equal(added[:, [0, 2]], x[:, [0, 2]])
    basis = torch.tensor([[1.0, 1.0, 0.0, 0.0], [2.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 3.0]])
    projected = bt.project_out(basis).apply(x, "layers.0.resid_post")
    q, _ = np.linalg.qr(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]))
    expected = x.numpy() - x.numpy() @ q @ q.T
    np.testing.assert_allclose(projected.numpy(), expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(projected @ basis.T, torch.zeros(2, 3, 3), atol=1e-5, rtol=0)


@pytest.mark.parametrize("make, message", [
    (lambda: bt.ablate(how="median"), "not an ablation"),
    (lambda: bt.ablate(how="mean"), "needs reference"),
    (lambda: bt.ablate(heads=[]), "non-empty list"),
    (lambda: bt.set_from([1, 2]), "takes a cache"),
    (lambda: bt.project_out([[0.0, 0.0]]), "only zero directions"),
    (lambda: bt.gate_heads(torch.ones(3)), r"\(layers, heads\)"),
    (lambda: bt.add([1.0, 2.0]).apply(torch.zeros(1, 2, 3), "layers.0.resid_post"), "Cannot add"),
])
def test_bad_edit_arguments(make, message):
    with pytest.raises(InputError, match=message):
        make()
