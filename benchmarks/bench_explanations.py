"""Benchmark: ``bt.explanation_benchmark`` vs every method through its own direct captum/lime call, one text at a time.

MiniLM + a CLS probe fitted on the shipped SST-2 sample, SST-2-style sentences, CPU, the issue's 11
methods (``--methods all``: every method of the registry); IG 16 steps, LIME and KernelSHAP 200 samples,
GradientSHAP 20 samples.

- ours: one ``bt.explanation_benchmark`` call (saliency, input × gradient, DeepLift, IG and GradientSHAP
  batched over texts; the probe's layer runs its feed-forward block at [CLS] only, the one
  position the probe reads; KernelSHAP's coalitions of a text in one length-sorted call; every
  distinct token sequence classified once for the whole run, ``Classifier.memoized``: a text
  itself, LIME perturbations that are also KernelSHAP coalitions, faithfulness variants shared
  by methods and bins; one attention reading per text shared by the attention-based methods;
  all faithfulness variants in length-sorted batches; rank agreement);
- baseline: per text and method the direct call (captum ``LayerGradientXActivation``,
  ``LayerDeepLift``, ``GradientShap``, ``LayerIntegratedGradients``, ``FeatureAblation``,
  ``KernelShap``; ``lime.LimeTextExplainer.explain_instance`` with ``predict_proba``; the
  attention methods have no captum counterpart and run through their own function), then
  ERASER faithfulness of that one explanation, as a per-example loop (ferret's) does. Its model is
  what a direct call runs: the encoder's full forward pass, the probe on its last layer's [CLS]
  vector (``PlainProbe``), wrapped in a ``Classifier`` so that its LIME classifier function is
  ``Classifier.predict_proba``, which runs each distinct text of one call once in length-sorted
  batches, and ``bt.faithfulness`` runs each distinct variant of one explanation once.

Word scores of both must agree (max abs difference reported: padding and batching move float32
results, by about 1e-7 for probabilities). 100 sentences, as the issue asks. Usage:
python -m benchmarks.bench_explanations [--sentences 100] [--methods all].
Writes benchmarks/results/explanations.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from captum.attr import (
    FeatureAblation,
    GradientShap,
    KernelShap,
    LayerDeepLift,
    LayerGradientXActivation,
    LayerIntegratedGradients,
)
from lime.lime_text import LimeTextExplainer
from torch import nn

import bertology as bt
from bertology.analyses.attribution.gradients import (
    ProbabilityModule,
    embedding_forward,
    seeded,
)
from bertology.analyses.attribution.methods import get_method
from bertology.analyses.attribution.perturbation import (
    word_groups,
    word_presence_forward,
)
from bertology.analyses.attribution.result import AttributionResult
from bertology.analyses.attribution.task import train_probe_classifier
from bertology.analyses.attribution.words import (
    baseline_ids,
    tokenize_words,
    word_sums,
    word_to_tokens,
)
from bertology.core.data.loaders import load_sst2

OPTIONS = {"n_steps": 16, "num_samples": 200}
ISSUE_METHODS = ["attention", "rollout", "value_zeroing", "norm", "saliency", "input_x_gradient", "deeplift",
                 "gradient_shap", "integrated_gradients", "occlusion", "lime"]


class PlainProbe(nn.Module):
    """The probe on the encoder's full forward pass: ``(input_ids, attention_mask) -> logits``, as a direct
    call runs it."""

    def __init__(self, clf: bt.Classifier) -> None:
        super().__init__()
        self.hf_model = clf.network.hf_model
        self.weight, self.bias = clf.network.weight, clf.network.bias

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        cls = self.hf_model(input_ids=input_ids, attention_mask=attention_mask,
                            token_type_ids=token_type_ids).last_hidden_state[:, 0]
        return cls @ self.weight.T + self.bias


def plain_classifier(clf: bt.Classifier) -> bt.Classifier:
    """``clf``'s probe on the full forward pass, with ``clf``'s tokenizer, labels and embeddings."""
    return bt.Classifier(PlainProbe(clf), clf.tokenizer, clf.labels, clf.embeddings, clf.max_length,
                         clf.description)


def direct(clf, method, tokenized, target):
    """Word scores of one text through the method's own captum/lime call."""
    ids = torch.tensor([tokenized.input_ids])
    mask = torch.ones_like(ids)
    tokens = tokenized.token_words
    if method in ("saliency", "input_x_gradient"):
        attributions = LayerGradientXActivation(clf.probabilities, clf.embeddings,
                                                multiply_by_inputs=method == "input_x_gradient").attribute(
            ids, target=target, additional_forward_args=(mask,))
        attributions = attributions.abs() if method == "saliency" else attributions
    elif method == "deeplift":
        attributions = LayerDeepLift(ProbabilityModule(clf), clf.embeddings).attribute(
            ids, baselines=baseline_ids(clf, ids), target=target, additional_forward_args=(mask,))
    elif method == "integrated_gradients":
        attributions = LayerIntegratedGradients(clf.probabilities, clf.embeddings).attribute(
            ids, baselines=baseline_ids(clf, ids), additional_forward_args=(mask,), target=target,
            n_steps=OPTIONS["n_steps"])
    elif method == "gradient_shap":
        with torch.no_grad():
            inputs, reference = clf.embeddings(ids), clf.embeddings(baseline_ids(clf, ids))
        with seeded(0):
            attributions = GradientShap(embedding_forward(clf)).attribute(
                inputs, baselines=reference, n_samples=20, target=target, additional_forward_args=(ids, mask))
    elif method == "occlusion":
        with torch.inference_mode():
            scores = FeatureAblation(clf.probabilities).attribute(
                ids, baselines=baseline_ids(clf, ids, "mask"), target=target, additional_forward_args=(mask,),
                feature_mask=word_groups(tokenized), perturbations_per_eval=32)[0].double().numpy()
        words = np.zeros(len(tokenized.words))
        words[tokens[tokens >= 0]] = scores[tokens >= 0]
        return words
    elif method == "kernel_shap":
        presence = torch.ones(1, len(tokenized.words), dtype=torch.float64)
        with seeded(0):
            return KernelShap(word_presence_forward(clf, tokenized.text)).attribute(
                presence, baselines=0.0, target=target, n_samples=OPTIONS["num_samples"],
                perturbations_per_eval=32)[0].double().numpy()
    elif method == "lime":
        explainer = LimeTextExplainer(class_names=clf.labels, split_expression=r"\s+", bow=False, mask_string="",
                                      random_state=0)
        explanation = explainer.explain_instance(tokenized.text, clf.predict_proba, labels=(target,),
                                                 num_features=len(tokenized.words),
                                                 num_samples=OPTIONS["num_samples"])
        words = np.zeros(len(tokenized.words))
        for feature, weight in explanation.as_map()[target]:
            words[feature] = weight
        return words
    else:
        return np.asarray(get_method(method).function(clf, tokenized, target).word_scores)
    scores = attributions.sum(-1)[0].detach().double().numpy()
    return word_sums(scores, tokens, len(tokenized.words))


def _stand_in(clf, tokenized, method, word_scores, target):
    """The direct call's word scores as an AttributionResult, to score its faithfulness."""
    return AttributionResult(tokenized.text, tokenized.tokens, tokenized.token_words.tolist(),
                             word_to_tokens(word_scores, tokenized.token_words).tolist(), tokenized.words,
                             np.asarray(word_scores, dtype=float).tolist(), clf.labels[target], target, method, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=100)
    parser.add_argument("--chunk", type=int, default=20)
    parser.add_argument("--methods", choices=("issue", "all"), default="issue")
    args = parser.parse_args()
    torch.manual_seed(0)
    clf = train_probe_classifier(bt.load_model("minilm"), progress=False)
    plain = plain_classifier(clf)
    texts = load_sst2().texts[:args.sentences]
    methods = ISSUE_METHODS if args.methods == "issue" else bt.methods()["method"].tolist()
    options = {k: v for k, v in OPTIONS.items() if any(k in get_method(m).options for m in methods)}
    bt.explanation_benchmark(clf, texts[:2], methods=methods, n_boot=10, progress=False, **options)

    targets = plain.predict_proba(texts).argmax(1)
    for method in methods:
        direct(plain, method, tokenize_words(plain, texts[0]), int(targets[0]))
    per_method = dict.fromkeys(methods, 0.0)
    max_diff = dict.fromkeys(methods, 0.0)
    ours = baseline = 0.0
    benches = []
    for number, chunk in enumerate(range(0, len(texts), args.chunk)):
        rows = range(chunk, min(chunk + args.chunk, len(texts)))
        for which in (("ours", "direct") if number % 2 == 0 else ("direct", "ours")):
            start = time.perf_counter()
            if which == "ours":
                benches.append(bt.explanation_benchmark(clf, [texts[i] for i in rows], methods=methods,
                                                        progress=False, **options))
                ours += time.perf_counter() - start
                continue
            direct_scores = {}
            for i in rows:
                tokenized = tokenize_words(plain, texts[i])
                for method in methods:
                    began = time.perf_counter()
                    direct_scores[(i, method)] = direct(plain, method, tokenized, int(targets[i]))
                    per_method[method] += time.perf_counter() - began
                    bt.faithfulness(plain, [_stand_in(plain, tokenized, method, direct_scores[(i, method)],
                                                      int(targets[i]))])
            baseline += time.perf_counter() - start
        ours_scores = {(r.text, r.method): np.asarray(r.word_scores) for r in benches[-1].attributions}
        for (i, method), scores in direct_scores.items():
            max_diff[method] = max(max_diff[method], float(np.abs(scores - ours_scores[(texts[i], method)]).max()))
    scores_frame = pd.concat([b.scores for b in benches])
    ours_per_method = scores_frame.groupby("method")["time_s"].sum()
    report = {"device": "cpu", "threads": torch.get_num_threads(), "model": "minilm + CLS LinearProbe",
              "baseline_model": "the probe on the encoder's full forward pass (PlainProbe)",
              "sentences": len(texts), "methods": methods, "options": {**OPTIONS, "gradient_shap_n_samples": 20},
              "ours_s": ours, "direct_one_at_a_time_s": baseline, "ratio": baseline / ours,
              "attribution_only": {"ours_s": float(ours_per_method.sum()), "direct_s": sum(per_method.values()),
                                   "ratio": sum(per_method.values()) / float(ours_per_method.sum())},
              "attribution_s": {m: {"ours": float(ours_per_method[m]), "direct": per_method[m]} for m in methods},
              "max_abs_word_score_diff": max_diff,
              "order": f"chunks of {args.chunk} sentences, ours and direct alternating first, after a warm-up",
              "summary": benches[0].to_frame().round(4).to_dict("records")}
    print(json.dumps({k: v for k, v in report.items() if k != "summary"}, indent=1), flush=True)
    out = Path(__file__).parent / "results" / ("explanations.json" if args.methods == "issue"
                                               else "explanations_all_methods.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
