"""Extraction under ``torchrun --nproc_per_node 2`` (gloo, CPU) equals the single-process store.

Every process runs one thread, the reference too: BLAS results depend on the thread count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

import bertology as bt

TEXTS = [f"item {i} says " + "more words " * (i % 9) for i in range(40)]
ROOT = Path(__file__).resolve().parents[2]


def _torchrun(model_dir: Path, table: Path, out: Path, log_dir: Path, **env: str) -> subprocess.CompletedProcess:
    log_dir.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               str(Path(__file__).with_name("distributed_worker.py")), "--no-progress", "extract",
               "--model", str(model_dir), "--input", str(table), "--out", str(out), "--layers", "all",
               "--pool", "mean", "--batch-size", "4"]
    environment = {**os.environ, "BATCH_LOG": str(log_dir), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=240)


def _logged(log_dir: Path) -> dict[int, list[int]]:
    return {rank: [int(b) for b in (log_dir / f"rank{rank}.log").read_text().split()]
            if (log_dir / f"rank{rank}.log").exists() else [] for rank in (0, 1)}


@pytest.fixture(scope="module")
def setup(tiny_model_dir, tmp_path_factory):
    directory = tmp_path_factory.mktemp("dist")
    table = directory / "texts.txt"
    table.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    model_dir = tiny_model_dir("bert")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        reference = bt.extract(bt.load_model(str(model_dir)), TEXTS, layers="all", pool="mean", batch_size=4,
                               out=directory / "single")
    finally:
        torch.set_num_threads(threads)
    return directory, table, model_dir, reference


def _assert_identical(store_dir: Path, reference: bt.ActivationStore) -> None:
    store = bt.ActivationStore(store_dir)
    assert store.complete and store.manifest["world_size"] == 2
    for layer in reference.layers:
        name = f"layer_{layer:02d}.npy"
        assert (store_dir / name).read_bytes() == (reference.directory / name).read_bytes()


def test_two_ranks_write_the_single_process_store(setup):
    directory, table, model_dir, reference = setup
    result = _torchrun(model_dir, table, directory / "two", directory / "log-two")
    assert result.returncode == 0, result.stderr[-2000:]
    _assert_identical(directory / "two", reference)
    logged = _logged(directory / "log-two")
    assert sorted(logged[0] + logged[1]) == list(range(10))
    assert all(b % 2 == 0 for b in logged[0]) and all(b % 2 == 1 for b in logged[1])


def test_killed_rank_rerun_completes_without_redoing_finished_batches(setup):
    directory, table, model_dir, reference = setup
    crashed = _torchrun(model_dir, table, directory / "crash", directory / "log-crash", CRASH_RANK="1",
                        CRASH_AFTER="2")
    assert crashed.returncode != 0
    assert not bt.ActivationStore(directory / "crash").complete
    finished = set()
    for progress in (directory / "crash").glob("progress-*.json"):
        finished.update(json.loads(progress.read_text()))
    assert finished and len(finished) < 10
    rerun = _torchrun(model_dir, table, directory / "crash", directory / "log-rerun")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    redone = _logged(directory / "log-rerun")
    assert not finished & set(redone[0] + redone[1])
    assert finished | set(redone[0] + redone[1]) == set(range(10))
    _assert_identical(directory / "crash", reference)


def test_two_ranks_attribute_like_one_process(tiny_model_dir, tmp_path):
    from bertology.analyses.attribution.records import load_attributions
    from bertology.cli import main

    sentences = tmp_path / "sentences.txt"
    sentences.write_text("a great film\nthe plot was dull\nwe loved it\nboring and long\nfine acting\n")
    options = ["--model", str(tiny_model_dir("bert", "classifier")), "--input", str(sentences),
               "--method", "ig,lime", "--n-steps", "8", "--num-samples", "60"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(["--no-progress", "attribute", *options, "--out", str(tmp_path / "one")]) == 0
    finally:
        torch.set_num_threads(threads)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "bertology", "--no-progress", "attribute", *options, "--out", str(tmp_path / "two")]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "two" / "attributions-rank001.jsonl").exists()
    one, two = load_attributions(tmp_path / "one"), load_attributions(tmp_path / "two")
    assert [(r.method, r.words) for r in one] == [(r.method, r.words) for r in two]
    for a, b in zip(one, two):
        torch.testing.assert_close(torch.tensor(a.word_scores), torch.tensor(b.word_scores), rtol=1e-5, atol=1e-6)
    assert (tmp_path / "two" / "faithfulness_summary.csv").read_text() == \
           (tmp_path / "one" / "faithfulness_summary.csv").read_text()


def _run_config(tmp_path: Path, model_dir: Path) -> Path:
    config = tmp_path / "experiment.toml"
    config.write_text(f"""model = "{model_dir}"
seed = 0

[steps.extract]
input = "shipped:sst2_sample.tsv"
layers = "all"
pool = "mean"
batch_size = 8

[steps.probe]
dataset = "sst2"
pool = "cls"
cv = 3

[steps.attribute]
limit = 5
n_steps = 8
num_samples = 60
""", encoding="utf-8")
    return config


def test_two_ranks_run_an_experiment_like_one_process(tiny_model_dir, tmp_path):
    from bertology.cli import main
    from bertology.experiments.results import Run

    config = _run_config(tmp_path, tiny_model_dir("bert"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(["--no-progress", "run", str(config), "--set", f"out={tmp_path / 'one'}"]) == 0
    finally:
        torch.set_num_threads(threads)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "bertology", "--no-progress", "run", str(config), "--set", f"out={tmp_path / 'two'}"]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    first = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.count("results in") == 1  # rank 0 alone reports
    one, two = Run.load(tmp_path / "one"), Run.load(tmp_path / "two")
    assert {name: r.status for name, r in two.results.items()} == {"extract": "done", "probe": "done",
                                                                    "attribute": "done"}
    assert (tmp_path / "two" / "attribute" / "attributions-rank001.jsonl").exists()
    _assert_identical(tmp_path / "two" / "extract" / "store", bt.ActivationStore(tmp_path / "one" / "extract" / "store"))
    for name, table in (("extract", "norms/table.csv"), ("attribute", "faithfulness_summary.csv")):
        assert (tmp_path / "two" / name / table).read_text() == (tmp_path / "one" / name / table).read_text()
    pd.testing.assert_frame_equal(two.results["probe"].to_frame(), one.results["probe"].to_frame())
    again = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert {name: r.status for name, r in Run.load(tmp_path / "two").results.items()} == \
           {"extract": "cached", "probe": "cached", "attribute": "cached"}
