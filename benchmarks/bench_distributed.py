"""Sharded extraction: 2 processes × 1 thread vs 1 process × 1 thread on CPU (torchrun, gloo).

Each launch times only the extraction (after model load, between barriers), so process
start-up is not counted. Run: ``python -m benchmarks.bench_distributed``
(writes benchmarks/results/distributed.json).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "distributed.json"
ROOT = Path(__file__).resolve().parent.parent
SENTENCES = 3000


def _worker(out: str, n: int) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    import bertology as bt
    from benchmarks.corpus import review_sentences
    from bertology.core.distributed import barrier, rank_info

    torch.set_num_threads(1)
    model = bt.load_model("minilm")
    texts = review_sentences(n)
    barrier()
    start = time.perf_counter()
    bt.extract(model, texts, layers="all", pool="cls", batch_size=32, out=out, progress=False)
    elapsed = time.perf_counter() - start
    if rank_info().rank == 0:
        tokens = sum(len(ids) for ids in model.tokenizer(texts)["input_ids"])
        Path(out, "timing.json").write_text(json.dumps({"seconds": elapsed, "tokens": tokens}))


def _launch(processes: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as directory:
        out = str(Path(directory) / "store")
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
                   str(processes), "-m", "benchmarks.bench_distributed", "--worker", out, str(SENTENCES)]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "BERTOLOGY_PROGRESS": "0"}
        subprocess.run(command, check=True, cwd=ROOT, env=env, capture_output=True)
        timing = json.loads(Path(out, "timing.json").read_text())
    return {"seconds": timing["seconds"], "tokens_per_s": timing["tokens"] / timing["seconds"]}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        _worker(sys.argv[2], int(sys.argv[3]))
        return
    one = _launch(1)
    two = _launch(2)
    results = {"sentences": SENTENCES, "cpu_count": os.cpu_count(), "one_process_one_thread": one,
               "two_processes_one_thread_each": two, "throughput_ratio": two["tokens_per_s"] / one["tokens_per_s"],
               "target": ">= 1.7"}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
