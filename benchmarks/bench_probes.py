"""Layer-wise probing speed: batched torch probe vs a plain loop of scikit-learn LogisticRegression.

Setting: 7 hidden states of MiniLM (embeddings + 6 layers), 5-fold stratified CV, 10,000 items.
Features are sampled per layer from class-conditional Gaussians whose means and covariances are
those of real MiniLM mean-pooled activations of the shipped SST-2 sample, so the probing problem has
the scale, anisotropy and difficulty of real activations. Writes benchmarks/results/probes.json.

Run: ``.venv/bin/python benchmarks/bench_probes.py``
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

import bertology as bt
from bertology.analyses.probes.layerwise import fold_splits, probe_layers
from bertology.core.data.loaders import ProbeDataset, load_sst2

N_ITEMS = 10_000
FOLDS = 5
RESULTS = Path(__file__).parent / "results" / "probes.json"


def synthetic_features(n_items: int, seed: int = 0) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Per-layer features sampled from the class-conditional statistics of real MiniLM activations."""
    model = bt.load_model("minilm")
    data = load_sst2()
    store = bt.extract(model, data.texts, pool="mean", progress=False)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n_items)
    features = {}
    for layer in store.layers:
        real = np.asarray(store[layer], dtype=np.float64)
        out = np.empty((n_items, real.shape[1]), dtype=np.float32)
        for label in (0, 1):
            rows = real[data.labels == label]
            centred = rows - rows.mean(axis=0)
            # low-rank covariance of the real activations plus isotropic noise at its average variance
            noise = rng.standard_normal((int((labels == label).sum()), len(rows))) @ centred / np.sqrt(len(rows))
            jitter = rng.standard_normal(noise.shape) * centred.std() * 2.0
            out[labels == label] = rows.mean(axis=0) + noise * 2.0 + jitter
        features[layer] = out
    return features, labels


def sklearn_loop(features: dict[int, np.ndarray], labels: np.ndarray, splits) -> dict[int, float]:
    """The baseline: one ``LogisticRegression().fit`` per layer and fold."""
    scores = {}
    for layer, values in features.items():
        accuracies = [LogisticRegression().fit(values[train], labels[train]).score(values[test], labels[test])
                      for train, test in splits]
        scores[layer] = float(np.mean(accuracies))
    return scores


def main() -> None:
    logging.getLogger("sklearn").setLevel(logging.ERROR)
    features, labels = synthetic_features(N_ITEMS)
    data = ProbeDataset([f"item {i}" for i in range(N_ITEMS)], labels, ["negative", "positive"], name="synthetic")
    splits = fold_splits(labels, FOLDS, seed=0)
    start = time.perf_counter()
    result = probe_layers(features, data, cv=FOLDS, controls=False, progress=False)
    fast_seconds = time.perf_counter() - start
    fast = result.to_frame().query("metric == 'accuracy'").set_index("layer")["mean"].to_dict()
    start = time.perf_counter()
    baseline = sklearn_loop(features, labels, splits)
    sklearn_seconds = time.perf_counter() - start
    gap = max(abs(fast[k] - baseline[k]) for k in baseline)
    report = {
        "setting": f"{len(features)} layers x {FOLDS}-fold CV x {N_ITEMS} items x {features[0].shape[1]} features",
        "threads": torch.get_num_threads(),
        "sklearn_loop_seconds": round(sklearn_seconds, 2), "batched_probe_seconds": round(fast_seconds, 2),
        "speedup": round(sklearn_seconds / fast_seconds, 2),
        "accuracy_sklearn": {int(k): round(v, 4) for k, v in baseline.items()},
        "accuracy_batched": {int(k): round(float(v), 4) for k, v in fast.items()},
        "max_accuracy_gap_points": round(100 * gap, 2),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    print(f"speedup {report['speedup']}x (sklearn {sklearn_seconds:.1f} s, batched {fast_seconds:.1f} s), "
          f"max accuracy gap {report['max_accuracy_gap_points']} points")


if __name__ == "__main__":
    main()
