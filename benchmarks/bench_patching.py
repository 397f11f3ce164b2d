"""Activation patching speed: batched patched copies vs one forward pass per patched component.

The sweep of Meng et al. (2022): every hidden state (embeddings and each layer's output) ×
every token position of 200 minimal pairs (the shipped agreement, pronoun and
gender–occupation suites), both directions (indirect and direct effect), on the
context-sensitive tiny masked LM of the tests (initializer range 0.2, the bert-base-uncased
vocabulary). Contender: :func:`bertology.patch` (``batch_size`` patched copies per forward
pass, one edit per layer, the MLM head applied at the mask only). Baseline: the same
clean runs, then one forward pass per patched component with the built-in
:func:`bertology.set_from` edit (``batched=False``). The baseline runs on every
``BASELINE_STRIDE``-th pair (its cost is linear in the number of components); the speed-up
is measured on that subset for both, and the effects must agree there.

Run: ``python -m benchmarks.bench_patching`` (writes benchmarks/results/patching.json).
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("BERTOLOGY_PROGRESS", "0")

import numpy as np
import torch

import bertology as bt
from bertology.analyses.patching.engine import encode_pairs
from bertology.analyses.patching.pairs import suite_pairs
from tests.tiny_models import build_context_mlm

RESULTS = Path(__file__).parent / "results" / "patching.json"
N_PAIRS = 200
BASELINE_STRIDE = 5
BATCH_SIZE = 128


def benchmark_pairs(model: bt.LoadedModel, n: int = N_PAIRS) -> list:
    """``n`` usable minimal pairs from the agreement, pronoun and gender–occupation suites."""
    pairs = [p for suite in ("agreement", "pronoun", "gender-occupation") for p in suite_pairs(suite)]
    return encode_pairs(model, pairs, strict=False).pairs[:n]


def _timed(function) -> tuple[float, object]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def main() -> None:
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    with tempfile.TemporaryDirectory() as tmp:
        model = bt.load_model(str(build_context_mlm("bert", Path(tmp) / "mlm")), head="mlm")
        pairs = benchmark_pairs(model)
        subset = pairs[::BASELINE_STRIDE]
        run = dict(components="resid", positions="all", progress=False)
        bt.patch(model, pairs=subset[:2], **run)
        full_time, full = _timed(lambda: bt.patch(model, pairs=pairs, batch_size=BATCH_SIZE, **run))
        batched_time, batched = _timed(lambda: bt.patch(model, pairs=subset, batch_size=BATCH_SIZE, **run))
        loop_time, looped = _timed(lambda: bt.patch(model, pairs=subset, batched=False, **run))
    difference = float(max(np.abs(batched.effects[c] - looped.effects[c]).max()
                           for c in ("indirect_effect", "direct_effect")))
    components = int(len(full.effects))
    result = {
        "benchmark": "patching sweep, all hidden states x positions, indirect + direct effects",
        "model": "context-sensitive tiny BertForMaskedLM (hidden 32, 3 layers, initializer range 0.2)",
        "pairs": len(pairs), "components": components, "patched_forward_rows": 2 * components,
        "batch_size": BATCH_SIZE, "baseline_pairs": len(subset),
        "batched_seconds_all_pairs": round(full_time, 3),
        "batched_seconds_subset": round(batched_time, 3), "one_forward_per_component_seconds_subset": round(loop_time, 3),
        "one_forward_per_component_seconds_all_pairs_extrapolated": round(loop_time * components / len(looped.effects), 1),
        "speedup": round(loop_time / batched_time, 2), "max_abs_effect_difference": difference,
        "torch_threads": torch.get_num_threads(), "python": platform.python_version(), "torch": torch.__version__,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
