"""Traced activations equal Hugging Face's own outputs; stop=True; hooks never survive."""

from __future__ import annotations

import pytest
import torch

import bertology as bt
from bertology.core.errors import InputError
from bertology.core.hooks import hidden_state_name, resolve_names

SENTENCES = ["The bank raised its rates.", "It's a bat!"]


def _hf_outputs(model: bt.LoadedModel, batch: dict) -> tuple:
    hf = model.model
    previous = hf.config._attn_implementation
    hf.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            out = hf(**batch, output_hidden_states=True, output_attentions=True)
    finally:
        hf.set_attn_implementation(previous)
    return out.hidden_states, out.attentions


def _batch(model: bt.LoadedModel) -> dict:
    batch = dict(model.tokenizer(SENTENCES, return_tensors="pt", padding=True))
    if not model.adapter.uses_token_type_ids:
        batch.pop("token_type_ids", None)
    return batch


def _hook_count(model: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def _assert_traced_equal_hf(model: bt.LoadedModel) -> None:
    batch = _batch(model)
    hidden, attentions = _hf_outputs(model, batch)
    with torch.no_grad(), bt.trace(model, "*") as cache:
        model(**batch)
    assert len(hidden) == model.num_layers + 1 and len(attentions) == model.num_layers
    for index, expected in enumerate(hidden):
        torch.testing.assert_close(cache[hidden_state_name(index, model.num_layers)], expected)
    for layer, expected in enumerate(attentions):
        torch.testing.assert_close(cache[f"layers.{layer}.attn.pattern"], expected)


def test_traced_activations_equal_hf_outputs(tiny_model, arch):
    _assert_traced_equal_hf(tiny_model(arch))


def test_traced_activations_equal_hf_outputs_with_mlm_head(tiny_model):
    _assert_traced_equal_hf(tiny_model("roberta", "mlm"))


def test_mlp_out_is_the_ffn_output_before_the_residual(tiny_model):
    model = tiny_model("bert")
    batch = _batch(model)
    layer = model.model.encoder.layer[1]
    seen = {}
    handle = layer.attention.register_forward_hook(lambda m, a, out: seen.update(attn=out[0]))
    try:
        with torch.no_grad(), bt.trace(model, ["layers.1.mlp_out", "layers.1.resid_post"]) as cache:
            model(**batch)
    finally:
        handle.remove()
    expected_mlp = layer.output.dense(layer.intermediate(seen["attn"]))
    torch.testing.assert_close(cache["layers.1.mlp_out"], expected_mlp)
    torch.testing.assert_close(cache["layers.1.resid_post"],
                               layer.output.LayerNorm(cache["layers.1.mlp_out"] + seen["attn"]))


def test_attention_implementation_is_restored(tiny_model):
    model = tiny_model("bert")
    assert model.model.config._attn_implementation == "sdpa"
    with torch.no_grad(), bt.trace(model, "layers.0.attn.pattern"):
        assert model.model.config._attn_implementation == "eager"
        model(**_batch(model))
    assert model.model.config._attn_implementation == "sdpa"


def test_stop_runs_fewer_layers_and_returns_the_same_tensors(tiny_model, arch):
    model = tiny_model(arch)
    batch = _batch(model)
    layers = model.adapter.layer_modules(model.model)
    calls = []
    handles = [module.register_forward_hook(lambda m, a, o: calls.append(1)) for module in dict.fromkeys(layers)]
    try:
        with torch.no_grad(), bt.trace(model, "layers.0.resid_post") as full:
            model(**batch)
        full_calls = len(calls)
        calls.clear()
        with torch.no_grad(), bt.trace(model, ["embeddings", "layers.0.resid_post"], stop=True) as stopped:
            model(**batch)
    finally:
        for handle in handles:
            handle.remove()
    assert full_calls == model.num_layers
    assert len(calls) == 1
    torch.testing.assert_close(stopped["layers.0.resid_post"], full["layers.0.resid_post"])
    assert set(stopped) == {"embeddings", "layers.0.resid_post"}


def test_no_hook_survives_a_normal_run(tiny_model):
    model = tiny_model("bert")
    before = _hook_count(model.model)
    with torch.no_grad(), bt.trace(model, "*", stop=True):
        model(**_batch(model))
    assert _hook_count(model.model) == before


def test_no_hook_survives_a_bad_name(tiny_model):
    model = tiny_model("bert")
    before = _hook_count(model.model)
    with pytest.raises(InputError, match="layers.9.resid_post.*matches nothing"):
        with bt.trace(model, "layers.9.resid_post"):
            pass
    assert _hook_count(model.model) == before


def test_no_hook_survives_an_exception_inside_the_forward(tiny_model):
    model = tiny_model("bert")
    before = _hook_count(model.model)

    def explode(module, args, output):
        raise RuntimeError("boom inside layer 1")

    handle = model.model.encoder.layer[1].register_forward_hook(explode)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            with torch.no_grad(), bt.trace(model, ["layers.*.attn.pattern", "layers.2.resid_post"]):
                model(**_batch(model))
    finally:
        handle.remove()
    assert _hook_count(model.model) == before
    assert model.model.config._attn_implementation == "sdpa"


def test_names_filters_glob_list_and_predicate():
    assert resolve_names(["layers.1.resid_post", "embeddings"], 2) == ["embeddings", "layers.1.resid_post"]
    assert resolve_names(lambda n: n.endswith("mlp_out"), 2) == ["layers.0.mlp_out", "layers.1.mlp_out"]
    assert len(resolve_names("*", 2)) == 11
    with pytest.raises(InputError, match="empty"):
        resolve_names([], 2)


def test_hidden_state_name_bounds():
    assert hidden_state_name(3, 6) == "layers.2.resid_post"
    with pytest.raises(InputError, match="out of range"):
        hidden_state_name(7, 6)
