"""PLL speed: bertology's batched masked copies vs one forward pass per masked position.

Baseline (minicons' approach, Misra 2022): for every sentence and every token, build the
masked copy and run the full MLM on it alone, reading ``log_softmax`` at the masked
position. Contender: :meth:`bertology.MaskedLMScorer.pll`, which stacks the masked copies of
all sentences into length-sorted batches of at most ``max_tokens`` tokens and applies the
MLM head only at the scored position. Both use the same tiny random BertForMaskedLM (the
bert-base-uncased vocabulary through the bundled MiniLM tokenizer); scores must agree.

The contender scores all 500 sentences. The baseline runs on every ``BASELINE_STRIDE``-th
sentence (its cost is strictly linear in the number of masked copies); the speed-up is
measured on that same subset for both methods, and the baseline time for 500 sentences is
extrapolated per masked copy and reported as such.

Run: ``python -m benchmarks.bench_cloze`` (writes benchmarks/results/cloze.json).
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
import transformers

import bertology as bt
from bertology.analyses.cloze import load_suite
from bertology.core.models import minilm_path

RESULTS = Path(__file__).parent / "results" / "cloze.json"
CONFIG = {"hidden_size": 128, "num_hidden_layers": 3, "num_attention_heads": 4, "intermediate_size": 512}
BASELINE_STRIDE = 10
N_SENTENCES = 500


def benchmark_sentences(n: int = N_SENTENCES) -> list[str]:
    """Grammatical sentences from the shipped choice suites (the correct candidate written in)."""
    sentences = []
    for suite in ("agreement", "pronoun", "telicity", "color"):
        for item in load_suite(suite)[2]:
            sentences.append(item["template"].replace("[MASK]", item["correct"]))
    return sentences[:n]


def build_model(directory: Path) -> bt.LoadedModel:
    tokenizer = transformers.AutoTokenizer.from_pretrained(minilm_path())
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=len(tokenizer), max_position_embeddings=512, **CONFIG)
    transformers.BertForMaskedLM(config).eval().save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return bt.load_model(str(directory), head="mlm")


def one_forward_per_position(model: bt.LoadedModel, sentences: list[str]) -> np.ndarray:
    """The baseline: one unbatched forward pass of the full MLM per masked token."""
    tokenizer, scores = model.tokenizer, []
    with torch.inference_mode():
        for sentence in sentences:
            ids = tokenizer(sentence, return_tensors="pt")["input_ids"]
            total = 0.0
            for position in range(1, ids.shape[1] - 1):
                masked = ids.clone()
                masked[0, position] = tokenizer.mask_token_id
                logits = model.model(input_ids=masked).logits[0, position]
                total += float(torch.log_softmax(logits, -1)[ids[0, position]])
            scores.append(total)
    return np.asarray(scores)


def _copies(model: bt.LoadedModel, sentences: list[str]) -> int:
    return sum(len(model.tokenizer(s)["input_ids"]) - 2 for s in sentences)


def _timed(fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - start


def main() -> dict:
    sentences = benchmark_sentences()
    subset = sentences[::BASELINE_STRIDE]
    with tempfile.TemporaryDirectory() as directory:
        model = build_model(Path(directory) / "model")
        scorer = bt.MaskedLMScorer(model, progress=False)
        scorer.pll(sentences[:8])
        batched_all, batched_all_s = _timed(scorer.pll, sentences)
        batched_subset, batched_subset_s = _timed(scorer.pll, subset)
        baseline, baseline_s = _timed(one_forward_per_position, model, subset)
        copies_all, copies_subset = _copies(model, sentences), _copies(model, subset)
    max_diff = float(max(np.abs(batched_subset - baseline).max(),
                         np.abs(batched_all[::BASELINE_STRIDE] - baseline).max()))
    assert max_diff < 1e-4, f"batched PLL differs from the baseline by {max_diff}"
    baseline_all_s = baseline_s * copies_all / copies_subset
    result = {
        "task": f"PLL (original variant) of {len(sentences)} sentences",
        "model": {"type": "BertForMaskedLM (random, seed 0)", "vocab": "bert-base-uncased (MiniLM tokenizer)",
                  **CONFIG},
        "n_sentences": len(sentences), "n_masked_copies": copies_all,
        "bertology_batched_s": round(batched_all_s, 3),
        "baseline_extrapolated_s": round(baseline_all_s, 3),
        "speedup_500": round(baseline_all_s / batched_all_s, 2),
        "subset": {"n_sentences": len(subset), "n_masked_copies": copies_subset,
                   "baseline_one_forward_per_position_s": round(baseline_s, 3),
                   "bertology_batched_s": round(batched_subset_s, 3),
                   "speedup": round(baseline_s / batched_subset_s, 2)},
        "max_abs_score_difference": max_diff,
        "device": str(model.device), "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "machine": platform.machine(), "torch": torch.__version__, "transformers": transformers.__version__,
    }
    assert result["subset"]["speedup"] >= 3.0, f"speed-up {result['subset']['speedup']} is below 3x"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
