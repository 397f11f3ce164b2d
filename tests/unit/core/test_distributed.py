"""Rank discovery from the launcher's environment, and rank 0 working alone."""

from __future__ import annotations

import numpy as np

import bertology as bt
from bertology.core.distributed import RankInfo, barrier, local_rank, rank_info, single_process


def test_rank_info_reads_the_launcher_environment(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert rank_info() == RankInfo(rank=3, world_size=4, local_rank=1)
    assert rank_info().is_distributed


def test_single_process_extracts_everything_without_waiting_for_other_ranks(monkeypatch, tiny_model, tmp_path):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")  # a barrier would try to reach rank 0 here
    texts = ["one text", "another text here", "a third"]
    with single_process():
        assert rank_info() == RankInfo()
        barrier()
        store = bt.extract(tiny_model(), texts, batch_size=1,
                           out=tmp_path / "alone", progress=False)
    assert rank_info().rank == 1
    assert store.complete and store.manifest["world_size"] == 1
    _assert_equals_a_plain_run(store, tiny_model(), texts, tmp_path, monkeypatch)


def test_an_explicit_single_rank_extracts_alone_inside_a_launch(monkeypatch, tiny_model, tmp_path):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    texts = ["one text", "another text here"]
    store = bt.extract(tiny_model(), texts, batch_size=1, out=tmp_path / "alone", progress=False, rank=RankInfo())
    assert store.complete
    _assert_equals_a_plain_run(store, tiny_model(), texts, tmp_path, monkeypatch)


def test_local_rank_keeps_the_gpu_choice_while_working_alone(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    with single_process():
        assert rank_info().local_rank == 0 and local_rank() == 1


def _assert_equals_a_plain_run(store, model, texts, tmp_path, monkeypatch):
    for name in ("WORLD_SIZE", "RANK", "MASTER_ADDR"):
        monkeypatch.delenv(name)
    reference = bt.extract(model, texts, batch_size=1, out=tmp_path / "reference", progress=False)
    for layer in reference.layers:
        np.testing.assert_array_equal(store[layer], reference[layer])
