"""Writable hooks: identity edits are exact, head gates equal weight surgery, gradients, composition, cleanup."""

from __future__ import annotations

import copy

import pytest
import torch

import bertology as bt
from bertology.core.errors import InputError
from bertology.core.hooks import gate_heads

SENTENCES = ["The bank raised its rates.", "It's a bat!"]


def _batch(model: bt.LoadedModel) -> dict:
    batch = dict(model.tokenizer(SENTENCES, return_tensors="pt", padding=True))
    if not model.adapter.uses_token_type_ids:
        batch.pop("token_type_ids", None)
    return batch


def _hook_count(model: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def _output(model, batch) -> torch.Tensor:
    return model(**batch).last_hidden_state


def _output_projection(model: bt.LoadedModel, layer: int) -> torch.nn.Linear:
    module = model.adapter.layer_modules(model.model)[layer]
    return module.get_submodule(model.adapter.attn_output_path)


def test_all_gates_one_reproduce_the_forward_exactly(tiny_model, arch):
    model = tiny_model(arch)
    batch = _batch(model)
    gates = torch.ones(model.num_layers, model.num_heads)
    with torch.no_grad():
        plain = _output(model, batch)
        with bt.intervene(model, {"layers.*.attn.heads": gate_heads(gates)}):
            gated = _output(model, batch)
        with bt.intervene(model, {"*": lambda t: t}):
            identity = _output(model, batch)
    assert torch.equal(gated, plain)
    assert torch.equal(identity, plain)


def test_gate_zero_equals_zeroing_the_heads_slice_of_the_output_projection(tiny_model, arch):
    model = tiny_model(arch)
    batch = _batch(model)
    head, d_head = 1, model.hidden_size // model.num_heads
    gates = torch.ones(model.num_layers, model.num_heads)
    gates[:, head] = 0
    surgery = copy.deepcopy(model.model)
    surgery_model = bt.LoadedModel(**{**model.__dict__, "model": surgery})
    with torch.no_grad():
        for layer in range(model.num_layers):
            _output_projection(surgery_model, layer).weight[:, head * d_head:(head + 1) * d_head] = 0
        expected = _output(surgery, batch)
        with bt.intervene(model, {"layers.*.attn.heads": gate_heads(gates)}):
            gated = _output(model, batch)
        plain = _output(model, batch)
    torch.testing.assert_close(gated, expected, rtol=1e-5, atol=1e-5)
    assert (gated - plain).abs().max() > 1e-3


def test_one_layer_gate_zero_equals_weight_surgery_on_that_layer(tiny_model):
    model = tiny_model("bert")
    batch = _batch(model)
    layer, head, d_head = 1, 2, model.hidden_size // model.num_heads
    surgery = copy.deepcopy(model.model)
    with torch.no_grad():
        surgery.encoder.layer[layer].attention.output.dense.weight[:, head * d_head:(head + 1) * d_head] = 0
        expected = _output(surgery, batch)
        with bt.intervene(model, {f"layers.{layer}.attn.heads": bt.ablate(heads=[head])}):
            ablated = _output(model, batch)
    torch.testing.assert_close(ablated, expected, rtol=1e-5, atol=1e-5)


def test_attn_heads_is_the_attention_weighted_sum_of_values(tiny_model):
    model = tiny_model("bert")
    batch = _batch(model)
    layer = model.model.encoder.layer[1]
    names = ["layers.1.resid_pre", "layers.1.attn.pattern", "layers.1.attn.heads"]
    with torch.no_grad(), bt.trace(model, names) as cache:
        model(**batch)
    values = layer.attention.self.value(cache["layers.1.resid_pre"])
    values = values.view(*values.shape[:2], model.num_heads, -1)
    expected = torch.einsum("bhqk,bkhd->bqhd", cache["layers.1.attn.pattern"], values)
    torch.testing.assert_close(cache["layers.1.attn.heads"], expected, rtol=1e-5, atol=1e-6)


def test_resid_pre_is_the_previous_layers_output(tiny_model, arch):
    model = tiny_model(arch)
    with torch.no_grad(), bt.trace(model, ["embeddings", "layers.*.resid_pre", "layers.*.resid_post"]) as cache:
        model(**_batch(model))
    assert torch.equal(cache["layers.0.resid_pre"], cache["embeddings"])
    for i in range(1, model.num_layers):
        assert torch.equal(cache[f"layers.{i}.resid_pre"], cache[f"layers.{i - 1}.resid_post"])


def test_stop_waits_for_every_requested_name(tiny_model, arch):
    model = tiny_model(arch)
    names = ["layers.0.attn.pattern", "layers.0.attn.heads"]
    with torch.no_grad(), bt.trace(model, names, stop=True) as cache:
        model(**_batch(model))
    assert set(cache) == set(names)
    assert cache["layers.0.attn.heads"].shape[2] == model.num_heads


def _fd_model(tiny_model):
    model = tiny_model("bert")
    return bt.LoadedModel(**{**model.__dict__, "model": copy.deepcopy(model.model).double()})


def test_gate_gradients_equal_finite_differences(tiny_model):
    model = _fd_model(tiny_model)
    batch = _batch(model)
    target = torch.randn(model.hidden_size, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

    def loss(gates: torch.Tensor) -> torch.Tensor:
        with bt.intervene(model, {"layers.*.attn.heads": gate_heads(gates)}):
            return (_output(model, batch) @ target).pow(2).mean()

    gates = torch.rand(model.num_layers, model.num_heads, dtype=torch.float64,
                       generator=torch.Generator().manual_seed(1)).requires_grad_()
    (grad,) = torch.autograd.grad(loss(gates), gates)
    step = 1e-6
    numeric = torch.zeros_like(grad)
    with torch.no_grad():
        for layer in range(model.num_layers):
            for head in range(model.num_heads):
                up, down = gates.detach().clone(), gates.detach().clone()
                up[layer, head] += step
                down[layer, head] -= step
                numeric[layer, head] = (loss(up) - loss(down)) / (2 * step)
    torch.testing.assert_close(grad, numeric, rtol=1e-5, atol=1e-8)
    assert grad.abs().min() > 0


@pytest.mark.parametrize("trace_outside", [True, False])
def test_edits_compose_with_trace_in_either_order(tiny_model, trace_outside):
    model = tiny_model("bert")
    batch = _batch(model)
    edits = {"layers.1.resid_post": lambda t: torch.zeros_like(t)}
    names = ["layers.1.resid_post", "layers.2.resid_pre"]
    with torch.no_grad():
        if trace_outside:
            with bt.trace(model, names) as cache, bt.intervene(model, edits):
                model(**batch)
        else:
            with bt.intervene(model, edits), bt.trace(model, names) as cache:
                model(**batch)
    assert cache["layers.1.resid_post"].abs().max() == 0
    assert cache["layers.2.resid_pre"].abs().max() == 0


def test_edits_of_one_name_run_in_order_and_shared_albert_layers_are_told_apart(tiny_model):
    model = tiny_model("albert")
    batch = _batch(model)
    with torch.no_grad():
        with bt.trace(model, "layers.*.resid_post") as plain:
            model(**batch)
        with bt.intervene(model, {"layers.1.mlp_out": lambda t: t + 1, "layers.1.*": lambda t: 2 * t}), \
                bt.trace(model, "layers.*.resid_post") as edited:
            model(**batch)
    assert torch.equal(edited["layers.0.resid_post"], plain["layers.0.resid_post"])
    assert not torch.allclose(edited["layers.1.resid_post"], plain["layers.1.resid_post"])


def test_no_hook_survives_an_exception_inside_an_edit(tiny_model, arch):
    model = tiny_model(arch)
    before = _hook_count(model.model)

    def explode(tensor):
        raise RuntimeError("boom inside an edit")

    with pytest.raises(RuntimeError, match="boom"):
        with torch.no_grad(), bt.intervene(model, {"layers.1.attn.heads": explode}), \
                bt.trace(model, "layers.*.attn.pattern"):
            model(**_batch(model))
    assert _hook_count(model.model) == before
    with torch.no_grad():
        model(**_batch(model))


def test_no_hook_survives_a_normal_run_or_a_bad_name(tiny_model):
    model = tiny_model("bert")
    before = _hook_count(model.model)
    with torch.no_grad(), bt.intervene(model, {"layers.*.attn.heads": bt.ablate(heads=0)}):
        model(**_batch(model))
    assert _hook_count(model.model) == before
    with pytest.raises(InputError, match=r"layers\.9\.attn\.heads.*matches nothing.*resid_pre\|attn\.pattern"):
        with bt.intervene(model, {"layers.9.attn.heads": bt.ablate(heads=0)}):
            pass
    assert _hook_count(model.model) == before


def test_an_edit_returning_the_wrong_shape_is_an_input_error(tiny_model):
    model = tiny_model("bert")
    before = _hook_count(model.model)
    with pytest.raises(InputError, match="must return a tensor of the activation's shape"):
        with torch.no_grad(), bt.intervene(model, {"layers.0.mlp_out": lambda t: t[:, :1]}):
            model(**_batch(model))
    assert _hook_count(model.model) == before


@pytest.mark.parametrize("edits, message", [
    ({}, "non-empty mapping"),
    ({"layers.0.attn.pattern": lambda t: t}, "cannot be edited"),
    ({"layers.0.mlp_out": 3}, "not a function"),
    ({"layers.0.mlp_out": bt.ablate(heads=[1])}, "per-head activations"),
    ({"layers.0.attn.heads": bt.ablate(heads=[9])}, "Head 9 is out of range"),
    ({"layers.*.attn.heads": gate_heads(torch.ones(2, 2))}, "Gates have shape"),
    ({"layers.0.mlp_out": bt.set_from({})}, "patching cache has no"),
])
def test_bad_edits_fail_before_the_model_runs(tiny_model, edits, message):
    model = tiny_model("bert")
    before = _hook_count(model.model)
    with pytest.raises(InputError, match=message):
        with bt.intervene(model, edits):
            pass
    assert _hook_count(model.model) == before
