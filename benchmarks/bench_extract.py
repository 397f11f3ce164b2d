"""Extraction speed and memory against its baselines, measured in one run.

Baselines (bundled MiniLM, CPU, 2,000 SST-2-style sentences):

- ceiling: a bare ``model(**batch)`` forward pass over the same length-sorted batches;
- tutorial: ``transformers.pipeline("feature-extraction")`` called on the sentence list;
- ``stop=True`` for layer 2 of 6 vs all layers;
- peak RSS extracting 50,000 vs 5,000 sentences into a store (separate processes).

Run: ``python -m benchmarks.bench_extract`` (writes benchmarks/results/extract.json).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("BERTOLOGY_PROGRESS", "0")

import torch
import transformers

import bertology as bt
from benchmarks.corpus import review_sentences
from bertology.core.extraction import batch_tensors, encode_corpus, length_sorted_batches

RESULTS = Path(__file__).parent / "results" / "extract.json"
BATCH_SIZE = 32
REPEATS = 7


def _best_times(repeats: int, *fns) -> list[float]:
    """Best wall time of each function over ``repeats`` interleaved rounds (drift hits all alike)."""
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, record in zip(fns, times):
            start = time.perf_counter()
            fn()
            record.append(time.perf_counter() - start)
    return [min(record) for record in times]


def measure_speed(n: int = 2000) -> dict[str, float]:
    model = bt.load_model("minilm")
    texts = review_sentences(n)
    corpus = encode_corpus(model.tokenizer, texts, model.max_length)
    tokens = int(corpus.lengths.sum())
    batches = [batch_tensors(model, corpus, rows)[0] for rows in length_sorted_batches(corpus.lengths, BATCH_SIZE)]

    def bare_forward():
        with torch.inference_mode():
            for inputs in batches:
                model(**inputs)

    def extract_all():
        with tempfile.TemporaryDirectory() as directory:
            bt.extract(model, texts, layers="all", pool="cls", batch_size=BATCH_SIZE, out=directory, progress=False)

    def extract_layer_2():
        with tempfile.TemporaryDirectory() as directory:
            bt.extract(model, texts, layers=[2], pool="cls", batch_size=BATCH_SIZE, out=directory, progress=False)

    pipe = transformers.pipeline("feature-extraction", model=model.model, tokenizer=model.tokenizer, device="cpu")

    def tutorial_pipeline():
        with torch.inference_mode():
            pipe(texts)

    bare_forward()
    t_bare, t_all, t_layer2 = _best_times(REPEATS, bare_forward, extract_all, extract_layer_2)
    (t_pipeline,) = _best_times(1, tutorial_pipeline)
    return {
        "sentences": n, "tokens": tokens, "torch_threads": torch.get_num_threads(), "repeats": REPEATS,
        "bare_forward_tokens_per_s": tokens / t_bare,
        "extract_all_layers_tokens_per_s": tokens / t_all,
        "pipeline_feature_extraction_tokens_per_s": tokens / t_pipeline,
        "extract_vs_bare_forward": t_bare / t_all,
        "extract_vs_pipeline": t_pipeline / t_all,
        "layer2_stop_vs_all_layers_time": t_layer2 / t_all,
    }


def _peak_rss_child(n: int) -> None:
    model = bt.load_model("minilm")
    texts = review_sentences(n, seed=1)
    with tempfile.TemporaryDirectory() as directory:
        bt.extract(model, texts, layers="all", pool="mean", batch_size=64, out=directory, progress=False)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def measure_memory(small: int = 5000, large: int = 50000) -> dict[str, float]:
    peaks = {}
    for n in (small, large):
        output = subprocess.run([sys.executable, "-m", "benchmarks.bench_extract", "--rss-child", str(n)],
                                capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent)
        peaks[n] = float(output.stdout.strip().splitlines()[-1])
    return {"peak_rss_mb_small": peaks[small], "peak_rss_mb_large": peaks[large], "small_n": small,
            "large_n": large, "peak_rss_growth_mb": peaks[large] - peaks[small]}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--rss-child":
        _peak_rss_child(int(sys.argv[2]))
        return
    results = {**measure_speed(), **measure_memory()}
    targets = {"extract_vs_bare_forward": (">=", 0.9), "extract_vs_pipeline": (">=", 2.5),
               "layer2_stop_vs_all_layers_time": ("<=", 0.6), "peak_rss_growth_mb": ("<=", 300)}
    results["targets"] = {key: {"target": f"{op} {bound}", "met": results[key] >= bound if op == ">=" else
                                results[key] <= bound} for key, (op, bound) in targets.items()}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
