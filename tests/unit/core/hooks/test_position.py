"""one_position: one layer's feed-forward block at one token, exact there, on every architecture."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import torch

import bertology as bt
from bertology.core.errors import InputError
from bertology.core.hooks import one_position, unwrap_model

TEXTS = ["the boys near the old city were happy", "short one"]


def _batch(model):
    return model.tokenizer(TEXTS, padding=True, return_tensors="pt")


def _layer_outputs(model, batch):
    names = [f"layers.{i}.resid_post" for i in range(model.num_layers)]
    with bt.trace(model, names) as cache:
        model.model(**batch)
    return [cache[name] for name in names]


@contextmanager
def rows_entering(model, path="mlp_in_path"):
    """Within the block, the rows (token positions) that entered each call of every layer's module at the adapter's
    ``path`` (default the feed-forward block's first linear map), in call order."""
    hf_model, adapter = unwrap_model(model)
    rows: list[int] = []
    modules = dict.fromkeys(layer.get_submodule(getattr(adapter, path)) for layer in adapter.layer_modules(hf_model))
    handles = [m.register_forward_hook(lambda _m, args, _out: rows.append(args[0].shape[1])) for m in modules]
    try:
        yield rows
    finally:
        for handle in handles:
            handle.remove()


@pytest.mark.parametrize("layer, position", [(-1, 0), (1, 2)])
def test_exact_at_the_position_and_one_row_in_the_block(tiny_model, arch, layer, position):
    model = tiny_model(arch)
    batch = _batch(model)
    with torch.inference_mode():
        full = _layer_outputs(model, batch)
        with one_position(model, layer, position), rows_entering(model) as rows, \
                rows_entering(model, "attn_output_path") as projected:
            narrowed = _layer_outputs(model, batch)
    chosen = layer % model.num_layers
    seq = batch["input_ids"].shape[1]
    assert rows == projected == [1 if i == chosen else seq for i in range(model.num_layers)]
    for i in range(chosen):
        torch.testing.assert_close(narrowed[i], full[i], atol=1e-6, rtol=0)
    torch.testing.assert_close(narrowed[chosen][:, position], full[chosen][:, position], atol=1e-5, rtol=0)
    assert not torch.allclose(narrowed[chosen], full[chosen], atol=1e-3)


def test_gradients_at_the_position_are_unchanged(tiny_model):
    model = tiny_model("bert")
    batch = _batch(model)

    def gradient():
        embeddings = model.model.embeddings(batch["input_ids"]).detach().requires_grad_()
        out = model.model(inputs_embeds=embeddings, attention_mask=batch["attention_mask"]).last_hidden_state
        return torch.autograd.grad(out[:, 0].square().sum(), embeddings)[0]

    expected = gradient()
    with one_position(model, -1):
        narrowed = gradient()
    torch.testing.assert_close(narrowed, expected, atol=1e-5, rtol=0)


def test_hooks_are_removed_and_layer_checked(tiny_model):
    model = tiny_model("bert")
    batch = _batch(model)
    with torch.inference_mode():
        with one_position(model, -1):
            pass
        with rows_entering(model) as rows:
            model.model(**batch)
    assert rows == [batch["input_ids"].shape[1]] * model.num_layers
    with pytest.raises(InputError, match="out of range"):
        with one_position(model, model.num_layers):
            pass
