"""ActivationStore: order restored, resume byte-identical, mismatches refused, fp16 round-trip."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import tempfile
import time

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


WRITER = """
import sys, time
from pathlib import Path
import bertology as bt
from bertology.core.extraction import store

model_dir, out, signals = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
original = store.StoreWriter.write_batch

def paused(self, batch_id, rows, values):
    original(self, batch_id, rows, values)
    if len(self.mine) == 2:
        (signals / "started").touch()
        while not (signals / "go").exists():
            time.sleep(0.05)

store.StoreWriter.write_batch = paused
texts = [f"sentence number {i} " + "word " * (i % 7) for i in range(23)]
bt.extract(bt.load_model(model_dir), texts, layers=[1, 3], pool="cls", batch_size=4, out=out, progress=False)
"""


def _paused_writer(model_dir, out, signals) -> subprocess.Popen:
    """Another process extracting TEXTS into ``out``; it holds the store after its second batch until ``go``."""
    signals.mkdir()
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(model_dir), str(out), str(signals)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (signals / "started").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the writer process did not start: {process.communicate()[1][-2000:]}")
        time.sleep(0.05)
    return process


def test_a_second_writer_process_is_refused_while_the_first_runs(tiny_model, tiny_model_dir, tmp_path):
    model, out = tiny_model("bert"), tmp_path / "s"
    writer = _paused_writer(tiny_model_dir("bert"), out, tmp_path / "signals")
    try:
        with pytest.raises(StoreError, match=rf"being written by another process \(pid {writer.pid} on .*writer\.lock"
                                             r".*wait for it to finish or write to another directory"):
            bt.extract(model, TEXTS, layers=[1, 3], pool="mean", batch_size=4, out=out, overwrite=True)
        assert json.loads((out / "manifest.json").read_text())["request"]["pool"] == "cls"
    finally:
        (tmp_path / "signals" / "go").touch()
        _, stderr = writer.communicate(timeout=120)
    assert writer.returncode == 0, stderr[-2000:]
    finished = store_module.ActivationStore(out)
    finished.verify()
    assert finished.manifest["request"]["pool"] == "cls" and not (out / "writer.lock").exists()
    reference = bt.extract(model, TEXTS, layers=[1, 3], pool="cls", batch_size=4, out=tmp_path / "ref")
    for layer in (1, 3):
        np.testing.assert_allclose(finished[layer], reference[layer], rtol=1e-5, atol=1e-6)


def test_the_lock_of_a_killed_writer_is_taken_over(tiny_model, tiny_model_dir, tmp_path):
    model, out = tiny_model("bert"), tmp_path / "s"
    writer = _paused_writer(tiny_model_dir("bert"), out, tmp_path / "signals")
    writer.kill()
    writer.communicate()
    assert json.loads((out / "writer.lock").read_text())["pid"] == writer.pid
    resumed = bt.extract(model, TEXTS, layers=[1, 3], pool="cls", batch_size=4, out=out)
    resumed.verify()
    assert not (out / "writer.lock").exists()
    reference = bt.extract(model, TEXTS, layers=[1, 3], pool="cls", batch_size=4, out=tmp_path / "ref")
    for layer in (1, 3):
        np.testing.assert_allclose(resumed[layer], reference[layer], rtol=1e-5, atol=1e-6)


def test_the_lock_is_released_when_the_extraction_fails(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setattr(store_module.StoreWriter, "write_batch", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        bt.extract(tiny_model("bert"), TEXTS, layers=[1], out=tmp_path / "s")
    assert not (tmp_path / "s" / "writer.lock").exists()


def _finished(model, path):
    return bt.extract(model, TEXTS, layers=[1, 3], pool="cls", batch_size=4, out=path)


def _truncate(path):
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size - 100)


def _edit_manifest(store, **changes):
    manifest = json.loads((store / "manifest.json").read_text())
    manifest["request"].update(changes)
    (store / "manifest.json").write_text(json.dumps(manifest))


DAMAGES = {
    "truncated layer": (lambda s: _truncate(s / "layer_03.npy"), r"layer_03\.npy is damaged"),
    "deleted layer": (lambda s: (s / "layer_01.npy").unlink(), r"layer_01\.npy is missing"),
    "empty manifest": (lambda s: (s / "manifest.json").write_text(""), r"manifest\.json is damaged \(it is empty\)"),
    "garbage manifest": (lambda s: (s / "manifest.json").write_text("{\"request\": "), r"manifest\.json is damaged"),
    "manifest without layers": (lambda s: _edit_manifest(s, layers="1,3"), r"manifest\.json is damaged.*layers"),
    "edited manifest": (lambda s: _edit_manifest(s, pool="mean"), r"manifest\.json was changed after the extraction"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_store_is_a_store_error_naming_the_file(tiny_model, tmp_path, damage):
    model, path = tiny_model("bert"), tmp_path / "s"
    _finished(model, path)
    harm, message = DAMAGES[damage]
    harm(path)
    with pytest.raises(StoreError, match=message + ".*overwrite=True"):
        store = store_module.ActivationStore(path)
        store[1], store[3]
    with pytest.raises(StoreError, match=message):
        _finished(model, path)
    rebuilt = bt.extract(model, TEXTS, layers=[1, 3], pool="cls", batch_size=4, out=path, overwrite=True)
    rebuilt.verify()
    np.testing.assert_array_equal(rebuilt[3], _finished(model, tmp_path / "ref")[3])


def test_verify_and_resume_check_the_layer_checksums(tiny_model, tmp_path):
    model, path = tiny_model("bert"), tmp_path / "s"
    store = _finished(model, path)
    assert set(store.manifest["checksums"]) == {"layer_01.npy", "layer_03.npy", "manifest.json"}
    store.verify()
    with open(path / "layer_03.npy", "r+b") as handle:
        handle.seek(-4, 2)
        handle.write(b"\x00\x00\x80\x7f")
    with pytest.raises(StoreError, match=r"layer_03\.npy changed after the extraction finished.*overwrite=True"):
        store.verify()
    with pytest.raises(StoreError, match=r"layer_03\.npy changed"):
        _finished(model, path)


def _interrupted(model, path, monkeypatch, after: int = 2):
    original = store_module.StoreWriter.write_batch

    def interrupted(self, batch_id, rows, values):
        if len(self.mine) == after:
            raise KeyboardInterrupt
        original(self, batch_id, rows, values)

    monkeypatch.setattr(store_module.StoreWriter, "write_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _finished(model, path)
    monkeypatch.setattr(store_module.StoreWriter, "write_batch", original)


def test_a_garbage_progress_file_is_a_store_error_naming_it(tiny_model, tmp_path, monkeypatch):
    model, path = tiny_model("bert"), tmp_path / "s"
    _interrupted(model, path, monkeypatch)
    (path / "progress-000.json").write_text("[0, 1, \"two\"")
    with pytest.raises(StoreError, match=r"progress-000\.json is damaged.*delete it to extract its batches again"):
        _finished(model, path)
    (path / "progress-000.json").unlink()
    np.testing.assert_array_equal(_finished(model, path)[1], _finished(model, tmp_path / "ref")[1])


def test_batches_listed_as_done_but_with_zero_rows_are_extracted_again(tiny_model, tmp_path, monkeypatch):
    model, path = tiny_model("bert"), tmp_path / "s"
    _interrupted(model, path, monkeypatch)
    (path / "progress-000.json").write_text(json.dumps(list(range(6))))
    resumed = _finished(model, path)
    reference = _finished(model, tmp_path / "ref")
    for layer in (1, 3):
        assert np.asarray(resumed[layer]).any(axis=1).all()
        np.testing.assert_array_equal(resumed[layer], reference[layer])


def test_temporary_stores_are_removed_when_no_longer_referenced(tiny_model, tmp_path, monkeypatch):
    from bertology.core.data.dataset import ProbeDataset
    from bertology.core.extraction import layer_features

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    model = tiny_model("bert")
    kept = []
    for _ in range(3):
        store = bt.extract(model, TEXTS, layers=[1, 3], pool="mean")
        kept.append(store[3])
        del store
    features, _ = layer_features(model, ProbeDataset(TEXTS, np.arange(len(TEXTS)) % 2, ["a", "b"]), layers=[1])
    gc.collect()
    assert not list(tmp_path.glob("bertology-store-*"))
    reference = bt.extract(model, TEXTS, layers=[1, 3], pool="mean", out=tmp_path / "ref")
    for values in kept:
        np.testing.assert_array_equal(values, reference[3])
    np.testing.assert_array_equal(features[1], bt.extract(model, TEXTS, layers=[1], out=tmp_path / "cls")[1])


def test_a_failed_temporary_extraction_leaves_nothing(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(store_module.StoreWriter, "write_batch", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        bt.extract(tiny_model("bert"), TEXTS, layers=[1])
    assert not list(tmp_path.glob("bertology-store-*"))
