"""load_model: alias, local paths, heads, and clear errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
import torch
import transformers

import bertology as bt
from bertology.core.errors import InputError, ModelError
from bertology.core.models import get_adapter, loading, model_provenance, resolve_device, resolve_dtype
from bertology.core.models.loading import MINILM_FILES_SHA256, MINILM_WEIGHTS_SHA256, file_sha256, minilm_path


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


def _minilm_copy(tmp_path, monkeypatch):
    """A copy of the bundled MiniLM directory (weights linked) that ``load_model("minilm")`` reads."""
    copy = tmp_path / "minilm"
    copy.mkdir()
    for path in minilm_path().iterdir():
        if path.name == "model.safetensors":
            (copy / path.name).symlink_to(path)
        elif path.is_file():
            shutil.copy(path, copy / path.name)
    monkeypatch.setattr(loading, "minilm_path", lambda: copy)
    return copy


@pytest.mark.parametrize("name", sorted(set(MINILM_FILES_SHA256) - {"model.safetensors"}))
def test_tampered_minilm_config_or_tokenizer_is_refused(tmp_path, monkeypatch, name):
    copy = _minilm_copy(tmp_path, monkeypatch)
    assert model_provenance("minilm")["files_sha256"] == MINILM_FILES_SHA256
    text = (copy / name).read_text(encoding="utf-8")
    (copy / name).write_text(text.replace("a", "b", 1), encoding="utf-8")
    with pytest.raises(ModelError, match=f"{name} has sha256 .*expected {MINILM_FILES_SHA256[name]}.*reinstall"):
        bt.load_model("minilm")
    (copy / name).unlink()
    with pytest.raises(ModelError, match=f"{name} is missing.*reinstall"):
        model_provenance("minilm")


def test_provenance_records_every_behaviour_file(minilm, tiny_model_dir):
    identity = model_provenance("minilm")
    assert identity["files_sha256"] == MINILM_FILES_SHA256 == minilm.describe()["files_sha256"]
    assert {"config.json", "model.safetensors", "tokenizer.json", "vocab.txt"} <= set(identity["files_sha256"])
    directory = tiny_model_dir("bert", "base")
    local = model_provenance(str(directory))["files_sha256"]
    assert local["config.json"] == file_sha256(directory / "config.json")
    assert bt.load_model(str(directory)).describe()["files_sha256"] == local
    assert model_provenance("someone/some-model")["files_sha256"] is None


def test_file_hash_is_not_fooled_by_a_restored_mtime(tmp_path, monkeypatch):
    path = tmp_path / "config.json"
    for racy_ns in (loading._RACY_NS, 0):
        monkeypatch.setattr(loading, "_RACY_NS", racy_ns)
        path.write_text('{"a": 1}')
        os.utime(path, ns=(10**18, 10**18))
        before = file_sha256(path)
        time.sleep(0.05)
        path.write_text('{"a": 2}')
        os.utime(path, ns=(10**18, 10**18))
        assert file_sha256(path) != before


def _fail_if_files_are_read(monkeypatch):
    def resolve(name):
        raise AssertionError(f"{name} was resolved before the arguments were checked")

    monkeypatch.setattr(loading, "_resolve", resolve)


@pytest.mark.parametrize("device, message", [("tpu7", "Unknown device 'tpu7'"),
                                             ("cuda:99", "'cuda:99'.*(needs a CUDA GPU|asks for GPU 99)"),
                                             ("cuda", "needs a CUDA GPU")])
def test_bad_device_is_an_input_error_before_loading(monkeypatch, device, message):
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    _fail_if_files_are_read(monkeypatch)
    with pytest.raises(InputError, match=message):
        bt.load_model("minilm", device=device)
    with pytest.raises(InputError, match=message):
        resolve_device(device)


@pytest.mark.parametrize("dtype", ["float99", "int8", "tensor", torch.int64])
def test_bad_dtype_is_an_input_error_before_loading(monkeypatch, dtype):
    _fail_if_files_are_read(monkeypatch)
    with pytest.raises(InputError, match="Unknown model dtype.*'bfloat16'"):
        bt.load_model("minilm", dtype=dtype)
    assert resolve_dtype("float16") == resolve_dtype(torch.float16) == torch.float16 and resolve_dtype(None) is None


OFFLINE_PROBE = """
import sys, time
import transformers
from transformers import AutoConfig, AutoModel, AutoTokenizer
import bertology as bt
from bertology.core.models import loading
start = time.perf_counter()
try:
    bt.load_model("nobody-bertology/made-up-model-123")
except bt.ModelError as error:
    print(f"{time.perf_counter() - start:.2f}")
    print(error)
"""


@pytest.mark.parametrize("environment", [{"HF_ENDPOINT": "http://127.0.0.1:9"}, {"HF_HUB_OFFLINE": "1"}])
def test_unknown_hub_id_offline_fails_fast_and_quietly(environment):
    env = {key: value for key, value in os.environ.items() if key not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    result = subprocess.run([sys.executable, "-c", OFFLINE_PROBE], capture_output=True, text=True,
                            env={**env, **environment}, timeout=120)
    seconds, message = result.stdout.strip().splitlines()
    assert float(seconds) < 2.0
    assert "made-up-model-123" in message and "cannot be reached (offline)" in message and "hf download" in message
    assert "Retry" not in result.stderr and "made-up-model" not in result.stderr
