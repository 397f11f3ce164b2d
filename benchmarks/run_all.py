"""Run every benchmark in turn (``make bench``); each writes its own ``benchmarks/results/<name>.json``."""

from __future__ import annotations

import importlib

BENCHMARKS = ("bench_cli", "bench_extract", "bench_probes", "bench_attention", "bench_attribution", "bench_cloze",
              "bench_distributed", "bench_similarity", "bench_heads", "bench_structural",
              "bench_patching", "bench_dependency_heads", "bench_explanations")


def main() -> None:
    for name in BENCHMARKS:
        print(f"== {name}")
        importlib.import_module(f"benchmarks.{name}").main()


if __name__ == "__main__":
    main()
