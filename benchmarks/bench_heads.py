"""Benchmark: head importance for all 72 MiniLM heads from gate gradients vs ablating each head in a loop.

MiniLM + a CLS logistic probe fitted on the shipped SST-2 sample; 500 SST-2-style sentences
(the ~200-sentence sample repeated), CPU.

- ours: ``bt.head_importance`` — one forward and one backward pass per batch give
  ``Σ_x |∂L_x/∂ξ_h|`` for every head (Michel et al., 2019).
- baseline: leave-one-out ablation, the brute-force way: one pass over the 500 sentences
  with each head masked in turn (72 passes, plus the unmasked one), mean cross-entropy.

Reported: both times, their ratio, and the Spearman rank correlation between the gradient
importance (raw, before normalisation) and the loss increase from masking each head.

Usage: python benchmarks/bench_heads.py [--sentences 500] [--batch-size 32].
Writes benchmarks/results/heads.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

import bertology as bt
from bertology.analyses.attribution.task import train_probe_classifier
from bertology.core.data.loaders import load_sst2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    torch.manual_seed(0)
    clf = train_probe_classifier(bt.load_model("minilm"), progress=False)
    data = load_sst2()
    repeats = -(-args.sentences // len(data))
    texts = (data.texts * repeats)[:args.sentences]
    labels = np.tile(data.labels, repeats)[:args.sentences]

    bt.head_importance(clf, texts[:args.batch_size], labels=labels[:args.batch_size], progress=False)
    start = time.perf_counter()
    importance = bt.head_importance(clf, texts, labels=labels, batch_size=args.batch_size, progress=False)
    ours = time.perf_counter() - start

    start = time.perf_counter()
    ablation = bt.ablation_scores(clf, texts, labels=labels, metric="loss", batch_size=args.batch_size,
                                  progress=False)
    loop = time.perf_counter() - start

    raw = importance.matrix("raw").ravel()
    delta = ablation.matrix("delta").ravel()
    rho = float(spearmanr(raw, delta).statistic)
    rho_abs = float(spearmanr(raw, np.abs(delta)).statistic)
    top = 10
    overlap = len(set(np.argsort(-raw)[:top]) & set(np.argsort(-delta)[:top]))
    result = {"device": "cpu", "threads": torch.get_num_threads(), "model": "minilm + CLS LinearProbe",
              "sentences": args.sentences, "batch_size": args.batch_size, "heads": int(raw.size),
              "gradient_importance_s": ours, "ablation_loop_s": loop, "speedup": loop / ours,
              "spearman_importance_vs_loss_increase": rho, "spearman_importance_vs_abs_loss_change": rho_abs,
              f"top{top}_overlap": overlap, "baseline_loss": ablation.meta["baseline"]}
    print(json.dumps(result, indent=1), flush=True)
    out = Path(__file__).parent / "results" / "heads.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
