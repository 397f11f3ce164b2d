"""Benchmark: Clark et al. head statistics over 2,000 sentences with the bundled MiniLM.

Speed: tokens/s of ``bertology.attention_stats`` relative to the bare forward pass with
eager attention and ``output_attentions=True`` on the same length-sorted batches
(target: at least 0.8x). The two are interleaved over four slices of the corpus so that
load on a shared machine hits both alike. Memory: the process's peak RSS after
statistics over 500 sentences, then over those 500 repeated four times in one call
(2,000 sentences, the same batch shapes): growth would come from the corpus size alone
(target: none).
Writes ``benchmarks/results/attention.json``.

Run: ``python -m benchmarks.bench_attention``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("BERTOLOGY_PROGRESS", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

import bertology as bt  # noqa: E402
from benchmarks.corpus import review_sentences  # noqa: E402
from bertology.core.extraction import batch_tensors, encode_corpus, length_sorted_batches  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "attention.json"
BATCH_SIZE = 32
SLICES = 4


def bare_forward(model: bt.LoadedModel, sentences: list[str]) -> tuple[float, int]:
    """Seconds and real tokens of the eager forward pass with output_attentions=True (batches prepared first)."""
    encoded = encode_corpus(model.tokenizer, sentences, model.max_length)
    inputs = [batch_tensors(model, encoded, rows)[0] for rows in length_sorted_batches(encoded.lengths, BATCH_SIZE)]
    previous = model.model.config._attn_implementation
    model.model.set_attn_implementation("eager")
    try:
        start = time.perf_counter()
        with torch.inference_mode():
            for batch in inputs:
                attentions = model(**batch, output_attentions=True).attentions
                assert len(attentions) == model.num_layers
        seconds = time.perf_counter() - start
    finally:
        model.model.set_attn_implementation(previous)
    return seconds, int(encoded.lengths.sum())


def ours(model: bt.LoadedModel, sentences: list[str]) -> tuple[float, int]:
    """Seconds and tokens of bertology.attention_stats (tokenization and batching included)."""
    start = time.perf_counter()
    stats = bt.attention_stats(model, sentences, batch_size=BATCH_SIZE, progress=False)
    return time.perf_counter() - start, stats.n_tokens


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=2000)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = bt.load_model("minilm")
    sentences = review_sentences(args.sentences)
    bare_forward(model, sentences[:BATCH_SIZE])
    ours(model, sentences[:BATCH_SIZE])
    small = review_sentences(500, seed=1)
    ours(model, small)
    rss_small = peak_rss_mib()
    ours(model, small * (len(sentences) // len(small)))
    rss_repeated = peak_rss_mib()
    totals = {"bare_seconds": 0.0, "ours_seconds": 0.0, "tokens": 0}
    step = -(-len(sentences) // SLICES)
    for start in range(0, len(sentences), step):
        part = sentences[start:start + step]
        seconds, tokens_ours = ours(model, part)
        totals["ours_seconds"] += seconds
        seconds, tokens = bare_forward(model, part)
        totals["bare_seconds"] += seconds
        assert tokens == tokens_ours
        totals["tokens"] += tokens
    tokens = totals["tokens"]
    bare_tps, ours_tps = tokens / totals["bare_seconds"], tokens / totals["ours_seconds"]
    result = {
        "benchmark": "attention_stats vs eager forward with output_attentions=True on the same batches",
        "model": "minilm (all-MiniLM-L6-v2: 6 layers, 12 heads)", "n_sentences": len(sentences), "n_tokens": tokens,
        "batch_size": BATCH_SIZE, "device": str(model.device), "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(), "load_average_1min": os.getloadavg()[0], "machine": platform.machine(),
        "torch": torch.__version__,
        "bare_forward_seconds": totals["bare_seconds"], "attention_stats_seconds": totals["ours_seconds"],
        "bare_tokens_per_s": bare_tps, "attention_stats_tokens_per_s": ours_tps,
        "speed_ratio": ours_tps / bare_tps, "speed_target": 0.8,
        "peak_rss_mib_after_500": rss_small, f"peak_rss_mib_after_{len(sentences)}": rss_repeated,
        "peak_rss_growth_mib": rss_repeated - rss_small,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{len(sentences)} sentences, {tokens} tokens, {torch.get_num_threads()} threads, "
          f"load {result['load_average_1min']:.1f}")
    print(f"bare eager forward (output_attentions=True): {bare_tps:,.0f} tok/s")
    print(f"attention_stats:                             {ours_tps:,.0f} tok/s  "
          f"ratio {result['speed_ratio']:.2f}x (target >= 0.8x)")
    print(f"peak RSS: {rss_small:.0f} MiB after 500 sentences, {rss_repeated:.0f} MiB after {len(sentences)} "
          f"(growth {result['peak_rss_growth_mib']:+.1f} MiB)")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
