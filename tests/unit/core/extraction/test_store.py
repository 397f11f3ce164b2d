"""ActivationStore: order restored, resume byte-identical, mismatches refused, fp16 round-trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bertology as bt
from bertology.core.errors import StoreError
from bertology.core.extraction import store as store_module

TEXTS = [f"sentence number {i} " + "word " * (i % 7) for i in range(23)]


def test_rows_follow_input_order_and_equal_unbatched_forward(tiny_model, tmp_path):
    model = tiny_model("bert")
    store = bt.extract(model, TEXTS, layers="all", pool="mean", batch_size=4, out=tmp_path / "s")
    for index in (0, 5, 22):
        encoding = model.tokenizer(TEXTS[index], return_tensors="pt")
        with torch.no_grad():
            hidden = model.model(**encoding, output_hidden_states=True).hidden_states
        for layer in (0, model.num_layers):
            np.testing.assert_allclose(store[layer][index], hidden[layer][0].mean(0).numpy(), rtol=1e-5, atol=1e-5)


def test_resume_after_interruption_is_byte_identical(tiny_model, tmp_path, monkeypatch):
    model = tiny_model("bert")
    bt.extract(model, TEXTS, layers=[1, 3], pool="cls", batch_size=4, out=tmp_path / "ref")
    original = store_module.StoreWriter.write_batch
    written = []

    def interrupted(self, batch_id, rows, values):
        if len(written) == 3:
            raise KeyboardInterrupt
        written.append(batch_id)
        original(self, batch_id, rows, values)

    monkeypatch.setattr(store_module.StoreWriter, "write_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        bt.extract(model, TEXTS, layers=[1, 3], pool="cls", batch_size=4, out=tmp_path / "resumed")
    with pytest.raises(StoreError, match="incomplete"):
        store_module.ActivationStore(tmp_path / "resumed")[1]
    monkeypatch.setattr(store_module.StoreWriter, "write_batch", original)
    resumed_batches = []
    monkeypatch.setattr(store_module.StoreWriter, "write_batch",
                        lambda self, b, r, v: (resumed_batches.append(b), original(self, b, r, v)))
    resumed = bt.extract(model, TEXTS, layers=[1, 3], pool="cls", batch_size=4, out=tmp_path / "resumed")
    assert sorted(resumed_batches) == [b for b in range(6) if b not in written]
    for layer in (1, 3):
        assert (tmp_path / "resumed" / f"layer_{layer:02d}.npy").read_bytes() == \
               (tmp_path / "ref" / f"layer_{layer:02d}.npy").read_bytes()
    assert resumed.complete


def test_finished_store_is_reused_without_forward_passes(tiny_model, tmp_path, monkeypatch):
    model = tiny_model("bert")
    bt.extract(model, TEXTS, layers=[2], out=tmp_path / "s")
    monkeypatch.setattr(type(model), "__call__", lambda *a, **k: pytest.fail("forward pass on a finished store"))
    assert bt.extract(model, TEXTS, layers=[2], out=tmp_path / "s")[2].shape == (23, model.hidden_size)


def test_mismatched_manifest_is_refused_not_overwritten(tiny_model, tmp_path):
    model = tiny_model("bert")
    first = bt.extract(model, TEXTS, layers=[2], pool="cls", out=tmp_path / "s")
    before = np.array(first[2])
    with pytest.raises(StoreError, match="differs in: pool.*overwrite=True"):
        bt.extract(model, TEXTS, layers=[2], pool="mean", out=tmp_path / "s")
    np.testing.assert_array_equal(store_module.ActivationStore(tmp_path / "s")[2], before)
    replaced = bt.extract(model, TEXTS, layers=[2], pool="mean", out=tmp_path / "s", overwrite=True)
    assert replaced.manifest["request"]["pool"] == "mean"


def test_fp16_round_trip(tiny_model, tmp_path):
    model = tiny_model("bert")
    full = bt.extract(model, TEXTS, layers=[3], pool="mean", out=tmp_path / "f32")
    half = bt.extract(model, TEXTS, layers=[3], pool="mean", out=tmp_path / "f16", dtype="float16")
    assert half[3].dtype == np.float16
    np.testing.assert_array_equal(half[3], np.asarray(full[3]).astype(np.float16))


def test_store_reads_one_layer_memory_mapped_with_negative_index(tiny_model, tmp_path):
    model = tiny_model("bert")
    store = bt.extract(model, TEXTS, layers="0,3", out=tmp_path / "s")
    assert isinstance(store[-1], np.memmap)
    assert store.layers == [0, 3] and len(store) == 2
    with pytest.raises(KeyError, match="holds layers \\[0, 3\\]"):
        store[1]
    manifest = store.manifest
    assert manifest["model"]["num_layers"] == 3 and manifest["packages"]["torch"]
    assert len(manifest["request"]["input_sha256"]) == 64


def test_not_a_store_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="not an activation store"):
        store_module.ActivationStore(tmp_path)
