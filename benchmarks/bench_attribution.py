"""Benchmark: integrated gradients and LIME through bertology vs the direct/tutorial ways.

MiniLM + a CLS probe fitted on the shipped SST-2 sample, SST-2-style sentences, CPU.

- IG (50 steps): ``bt.attribute`` vs a direct captum ``LayerIntegratedGradients`` call on
  the same module, inputs, baseline and steps (scores must be identical).
- LIME (1,000 samples): ``bt.attribute`` (length-bucketed batches) vs LIME driven by a
  ``transformers.pipeline("text-classification")``-style predict_proba that runs the model
  once per perturbed text (what the classic tutorials do); same seed, same explanations.

Usage: python benchmarks/bench_attribution.py [--ig-sentences 50] [--lime-sentences 50]
       [--baseline-sentences 5]. Writes benchmarks/results/attribution.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from captum.attr import LayerIntegratedGradients

import bertology as bt
from bertology.analyses.attribution.lime_method import lime_attribution
from bertology.analyses.attribution.task import train_probe_classifier
from bertology.analyses.attribution.words import baseline_ids, tokenize_words
from bertology.core.data.loaders import load_sst2


def direct_ig(clf, text, target, n_steps):
    ids = torch.tensor([clf.tokenizer(text)["input_ids"]])
    mask = torch.ones_like(ids)
    lig = LayerIntegratedGradients(clf.probabilities, clf.embeddings)
    attributions = lig.attribute(ids, baselines=baseline_ids(clf, ids), additional_forward_args=(mask,),
                                 target=target, n_steps=n_steps)
    return attributions.sum(-1)[0].detach().numpy()


def pipeline_style_fn(clf):
    """One forward pass per text, as ``pipeline("text-classification")(texts, top_k=None)`` does by default."""
    def classify(texts):
        return np.concatenate([clf.predict_proba([text]) for text in texts])
    return classify


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ig-sentences", type=int, default=50)
    parser.add_argument("--lime-sentences", type=int, default=50)
    parser.add_argument("--baseline-sentences", type=int, default=5)
    parser.add_argument("--n-steps", type=int, default=50)
    parser.add_argument("--num-samples", type=int, default=1000)
    args = parser.parse_args()
    torch.manual_seed(0)
    clf = train_probe_classifier(bt.load_model("minilm"), progress=False)
    texts = load_sst2().texts[:max(args.ig_sentences, args.lime_sentences)]
    targets = clf.predict_proba(texts).argmax(1)

    bt.attribute(clf, texts[0], target=int(targets[0]), n_steps=args.n_steps)
    direct_ig(clf, texts[0], int(targets[0]), args.n_steps)
    ours_time = direct_time = 0.0
    max_diff = 0.0
    for number, (text, target) in enumerate(zip(texts[:args.ig_sentences], targets)):
        for which in ((0, 1) if number % 2 == 0 else (1, 0)):
            start = time.perf_counter()
            if which == 0:
                ours = bt.attribute(clf, text, target=int(target), n_steps=args.n_steps)
                ours_time += time.perf_counter() - start
            else:
                direct = direct_ig(clf, text, int(target), args.n_steps)
                direct_time += time.perf_counter() - start
        max_diff = max(max_diff, float(np.abs(np.asarray(ours.token_scores) - direct).max()))
    ig = {"sentences": args.ig_sentences, "order": "alternating, after one untimed warm-up call each", "n_steps": args.n_steps, "ours_s": ours_time, "captum_direct_s": direct_time,
          "ratio": ours_time / direct_time, "max_abs_score_diff": max_diff}
    print(json.dumps({"integrated_gradients": ig}, indent=1), flush=True)

    lime = bench_lime(clf, texts, targets, args) if args.lime_sentences else None
    out = Path(__file__).parent / "results" / "attribution.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"device": "cpu", "threads": torch.get_num_threads(), "model": "minilm + CLS LinearProbe",
                               "integrated_gradients": ig, "lime": lime}, indent=1))


def bench_lime(clf, texts, targets, args) -> dict:
    ours_time = 0.0
    for text, target in zip(texts[:args.lime_sentences], targets):
        start = time.perf_counter()
        bt.attribute(clf, text, method="lime", target=int(target), num_samples=args.num_samples, seed=0)
        ours_time += time.perf_counter() - start
    base_time = ours_subset = 0.0
    max_diff, same_ranking = 0.0, True
    for text, target in zip(texts[:args.baseline_sentences], targets):
        tokenized = tokenize_words(clf, text)
        start = time.perf_counter()
        ours = lime_attribution(clf, tokenized, int(target), num_samples=args.num_samples, seed=0)
        ours_subset += time.perf_counter() - start
        start = time.perf_counter()
        slow = lime_attribution(clf, tokenized, int(target), num_samples=args.num_samples, seed=0,
                                classifier_fn=pipeline_style_fn(clf))
        base_time += time.perf_counter() - start
        max_diff = max(max_diff, float(np.abs(np.subtract(ours.word_scores, slow.word_scores)).max()))
        same_ranking &= ours.word_frame()["rank"].tolist() == slow.word_frame()["rank"].tolist()
    lime = {"sentences": args.lime_sentences, "num_samples": args.num_samples, "ours_s": ours_time,
            "ours_s_per_sentence": ours_time / max(args.lime_sentences, 1),
            "baseline_sentences": args.baseline_sentences, "ours_on_baseline_sentences_s": ours_subset,
            "pipeline_style_s": base_time, "pipeline_style_s_per_sentence": base_time / args.baseline_sentences,
            "speedup": base_time / ours_subset, "max_abs_weight_diff": max_diff, "same_word_ranking": same_ranking}
    print(json.dumps({"lime": lime}, indent=1), flush=True)
    return lime


if __name__ == "__main__":
    main()
