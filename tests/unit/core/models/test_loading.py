"""load_model: alias, local paths, heads, and clear errors."""

from __future__ import annotations

import json

import pytest
import torch
import transformers

import bertology as bt
from bertology.core.errors import ModelError
from bertology.core.models import get_adapter
from bertology.core.models.loading import MINILM_WEIGHTS_SHA256


def test_minilm_alias_records_provenance(minilm):
    info = minilm.describe()
    assert info["weights_sha256"] == MINILM_WEIGHTS_SHA256
    assert info["revision"] == "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
    assert (info["num_layers"], info["num_heads"], info["hidden_size"]) == (6, 12, 384)
    assert not minilm.model.training
    assert minilm.tokenizer.is_fast


def test_local_path_loads_each_head(tiny_model_dir):
    directory = tiny_model_dir("bert", "mlm")
    assert isinstance(bt.load_model(str(directory), head="mlm").model, transformers.BertForMaskedLM)
    assert isinstance(bt.load_model(str(directory)).model, transformers.BertModel)


def test_missing_mlm_head_is_a_clear_error(tiny_model_dir):
    with pytest.raises(ModelError, match="no trained mlm head.*allow_random_head"):
        bt.load_model(str(tiny_model_dir("bert", "base")), head="mlm")


def test_random_head_only_when_asked_and_loudly(tiny_model_dir):
    with pytest.warns(UserWarning, match="randomly initialised mlm head"):
        model = bt.load_model(str(tiny_model_dir("bert", "base")), head="mlm", allow_random_head=True)
    assert model.head == "mlm" and isinstance(model.model, transformers.BertForMaskedLM)
    base = bt.load_model(str(tiny_model_dir("bert", "base")))
    torch.testing.assert_close(model.model.bert.embeddings.word_embeddings.weight,
                               base.model.embeddings.word_embeddings.weight)


def test_offline_hub_id_names_the_model_and_the_fix():
    with pytest.raises(ModelError, match="bert-base-uncased.*save_pretrained"):
        bt.load_model("bert-base-uncased")


def test_missing_local_path_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        bt.load_model(str(tmp_path / "nope.bin"))
    with pytest.raises(ModelError, match="no config.json"):
        bt.load_model(str(tmp_path))


def test_unknown_architecture_lists_supported(tmp_path):
    transformers.GPT2Config(n_layer=1, n_head=2, n_embd=8).save_pretrained(tmp_path)
    with pytest.raises(ModelError, match="'gpt2' is not supported.*bert.*distilbert"):
        bt.load_model(str(tmp_path))


def test_tampered_minilm_weights_are_refused(tmp_path, monkeypatch):
    from bertology.core.models import loading

    fake = tmp_path / "model"
    fake.mkdir()
    (fake / "model.safetensors").write_bytes(b"not the weights")
    (fake / "config.json").write_text(json.dumps({"model_type": "bert"}))
    monkeypatch.setattr(loading, "minilm_path", lambda: fake)
    with pytest.raises(ModelError, match="sha256.*reinstall"):
        bt.load_model("minilm")


def test_adapter_table_has_every_required_architecture():
    for model_type in ("bert", "distilbert", "roberta", "xlm-roberta", "albert", "electra", "deberta-v2"):
        assert get_adapter(model_type).model_type == model_type


def test_adapters_find_every_layer_of_each_tiny_model(tiny_model, arch):
    model = tiny_model(arch)
    layers = model.adapter.layer_modules(model.model)
    assert len(layers) == model.num_layers
    assert all(isinstance(layer, torch.nn.Module) for layer in layers)
