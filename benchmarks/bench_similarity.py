"""Benchmark: 7 × 7 layer-by-layer linear CKA of MiniLM on about 20,000 word vectors.

Features: every word of review sentences (``pool="all_words"``, one row per word) at the
7 hidden states of the bundled MiniLM, written once to memory-mapped files as
``bertology.similarity`` does. Speed: ``layer_similarity`` (one streamed pass, one
stacked ``ZᵀZ`` for all pairs) against computing the 49 pairs one at a time from
materialised float64 matrices with Kornblith et al.'s ``feature_space_linear_cka``
(centre both, three products per pair), the loading of the matrices not counted
(target: at least 3x). Memory: the peak of the memory the computation allocates
(``tracemalloc``, which sees NumPy's buffers) on the first 10,000 rows and on all
20,000: the streamed statistics do not grow with the rows (target: no growth), while
the materialised layers do. Both results must agree to 1e-9.
Writes ``benchmarks/results/similarity.json``.

Run: ``python -m benchmarks.bench_similarity``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("BERTOLOGY_PROGRESS", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import bertology as bt  # noqa: E402
from benchmarks.corpus import review_sentences  # noqa: E402
from bertology.analyses.similarity.features import word_features  # noqa: E402
from bertology.analyses.similarity.streaming import layer_similarity  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "similarity.json"
LAYERS = list(range(7))


def feature_space_linear_cka(features_x: np.ndarray, features_y: np.ndarray) -> float:
    """Kornblith et al.'s notebook procedure for one pair."""
    features_x = features_x - np.mean(features_x, 0, keepdims=True)
    features_y = features_y - np.mean(features_y, 0, keepdims=True)
    dot_product_similarity = np.linalg.norm(features_x.T.dot(features_y)) ** 2
    normalization_x = np.linalg.norm(features_x.T.dot(features_x))
    normalization_y = np.linalg.norm(features_y.T.dot(features_y))
    return dot_product_similarity / (normalization_x * normalization_y)


def pairwise(matrices: dict[int, np.ndarray]) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    values = np.array([[feature_space_linear_cka(matrices[i], matrices[j]) for j in LAYERS] for i in LAYERS])
    return time.perf_counter() - start, values


def streamed(features: dict[int, np.ndarray]) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    values = layer_similarity(features, LAYERS, metric="linear_cka", progress=False)
    return time.perf_counter() - start, values


def traced_peak_mib(function, *args) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    function(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2 ** 20


def materialise(features: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    return {k: np.asarray(v, dtype=np.float64) for k, v in features.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = bt.load_model("minilm")
    sentences, words = [], 0
    for sentence in review_sentences(10 * args.tokens // 8):
        if words >= args.tokens:
            break
        sentences.append(sentence)
        words += len(sentence.split())
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as directory:
        start = time.perf_counter()
        features = word_features(model, sentences, LAYERS, directory, batch_size=32, progress=False)
        extract_seconds = time.perf_counter() - start
        n_rows = features[0].shape[0]
        half = {k: v[:n_rows // 2] for k, v in features.items()}
        streamed(half)
        ours_seconds, ours = min((streamed(features) for _ in range(args.repeats)), key=lambda run: run[0])
        start = time.perf_counter()
        matrices = materialise(features)
        load_seconds = time.perf_counter() - start
        pairwise({k: v[:1000] for k, v in matrices.items()})
        base_seconds, base = min((pairwise(matrices) for _ in range(args.repeats)), key=lambda run: run[0])
        del matrices
        peak_half = traced_peak_mib(streamed, half)
        peak_full = traced_peak_mib(streamed, features)
        base_peak_half = traced_peak_mib(lambda f: pairwise(materialise(f)), half)
        base_peak_full = traced_peak_mib(lambda f: pairwise(materialise(f)), features)
        max_difference = float(np.abs(ours - base).max())
    result = {
        "benchmark": "7 x 7 linear CKA: streamed stacked Gram statistics vs 49 pairs from materialised matrices",
        "model": "minilm (all-MiniLM-L6-v2: 7 hidden states of width 384)", "n_sentences": len(sentences),
        "n_rows": n_rows, "features": "all_words (one row per word)", "feature_extraction_seconds": extract_seconds,
        "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0], "machine": platform.machine(), "numpy": np.__version__,
        "streamed_seconds": ours_seconds, "pairwise_seconds": base_seconds,
        "pairwise_materialise_seconds": load_seconds, "speed_ratio": base_seconds / ours_seconds,
        "speed_ratio_with_materialising": (base_seconds + load_seconds) / ours_seconds, "speed_target": 3.0,
        "max_abs_difference": max_difference,
        f"streamed_peak_mib_{n_rows // 2}_rows": peak_half, f"streamed_peak_mib_{n_rows}_rows": peak_full,
        "streamed_peak_growth_mib": peak_full - peak_half,
        f"pairwise_peak_mib_{n_rows // 2}_rows": base_peak_half, f"pairwise_peak_mib_{n_rows}_rows": base_peak_full,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{len(sentences)} sentences, {n_rows} word rows, features in {extract_seconds:.1f} s, "
          f"load {result['load_average_1min']:.1f}")
    print(f"49 pairs one at a time: {base_seconds:.2f} s (+{load_seconds:.2f} s to materialise)")
    print(f"streamed, all pairs:    {ours_seconds:.2f} s  ratio {result['speed_ratio']:.1f}x (target >= 3x); "
          f"max |difference| {max_difference:.1e}")
    print(f"peak allocated memory, streamed: {peak_half:.0f} MiB at {n_rows // 2} rows, {peak_full:.0f} MiB at "
          f"{n_rows} rows; pairwise: {base_peak_half:.0f} -> {base_peak_full:.0f} MiB")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
