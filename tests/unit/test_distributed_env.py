"""Rank discovery from the launcher's environment, and rank 0 working alone."""

from __future__ import annotations

import bertology as bt
from bertology.distributed import RankInfo, barrier, rank_info, single_process


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
    with single_process():
        assert rank_info() == RankInfo()
        barrier()
        store = bt.extract(tiny_model(), ["one text", "another text here", "a third"], batch_size=1,
                           store=tmp_path / "alone", progress=False)
    assert rank_info().rank == 1
    assert store.complete and store.manifest["world_size"] == 1
    assert (abs(store[-1]).sum(axis=1) > 0).all()


def test_an_explicit_single_rank_extracts_alone_inside_a_launch(monkeypatch, tiny_model, tmp_path):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    store = bt.extract(tiny_model(), ["one text", "another text here"], batch_size=1, store=tmp_path / "alone",
                       progress=False, rank=RankInfo())
    assert store.complete and (abs(store[-1]).sum(axis=1) > 0).all()
