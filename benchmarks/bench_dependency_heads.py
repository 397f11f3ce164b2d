"""Benchmark: Clark et al. dependency-head accuracy over 2,000 sentences with the bundled MiniLM.

Universal Dependencies cannot be downloaded here, so the treebank is synthetic and UD-like:
the words of :func:`benchmarks.corpus.review_sentences` (real vocabulary, 5 to about 45
words, split word pieces and punctuation included) with a random tree over each sentence
(every word attached to a random earlier-placed word of a random order, so trees are
arbitrary, non-projective ones included) and relation labels drawn from the common UD
relations (``punct`` with UPOS ``PUNCT`` for punctuation, ``nmod:poss`` before ``'s``).
Speed depends on sentence lengths and word pieces, not on whether the trees are real.

Speed: tokens/s of ``bertology.dependency_heads`` (tokenization, alignment, word-level
attention, both directions for every head, the possessive rule, per-relation counts, the
offset baseline and every head's maximum-spanning-tree UUAS included) relative to the bare
eager forward pass with ``output_attentions=True`` on the same length-sorted batches
(target: at least 0.8x). The two are interleaved over four slices of the corpus so that
load on a shared machine hits both alike.
Writes ``benchmarks/results/dependency_heads.json``.

Run: ``python -m benchmarks.bench_dependency_heads``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("BERTOLOGY_PROGRESS", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

import bertology as bt  # noqa: E402
from benchmarks.corpus import review_sentences  # noqa: E402
from bertology.analyses.syntax import DependencyHeads  # noqa: E402
from bertology.core.data.conllu import DependencySentence  # noqa: E402
from bertology.core.extraction import batch_tensors, encode_corpus, length_sorted_batches  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "dependency_heads.json"
BATCH_SIZE = 32
SLICES = 4
RELATIONS = ("det", "nsubj", "obj", "amod", "advmod", "case", "obl", "nmod", "conj", "cc", "aux", "cop", "mark",
             "compound", "xcomp", "ccomp", "advcl", "acl")


def synthetic_treebank(n: int, seed: int = 0) -> list[DependencySentence]:
    """``n`` UD-like sentences: review-sentence words with random trees and UD relation labels."""
    rng = random.Random(seed)
    sentences = []
    for text in review_sentences(n, seed=seed):
        words = text.replace("'s", " 's").replace(".", " .").replace("!", " !").split()
        order = list(range(len(words)))
        rng.shuffle(order)
        heads = [0] * len(words)
        for rank, word in enumerate(order[1:], start=1):
            heads[word] = order[rng.randrange(rank)] + 1
        upos = tuple("PUNCT" if w in ".!" else "X" for w in words)
        deprels = tuple("root" if head == 0 else "punct" if tag == "PUNCT" else
                        "nmod:poss" if following == "'s" else rng.choice(RELATIONS)
                        for head, tag, following in zip(heads, upos, words[1:] + [""]))
        sentences.append(DependencySentence(tuple(words), upos, upos, tuple(heads), deprels))
    return sentences


def bare_forward(model: bt.LoadedModel, sentences: list[DependencySentence]) -> tuple[float, int]:
    """Seconds and real tokens of the eager forward pass with output_attentions=True (batches prepared first)."""
    encoded = encode_corpus(model.tokenizer, [s.text for s in sentences], model.max_length)
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


def ours(model: bt.LoadedModel, sentences: list[DependencySentence]) -> tuple[float, DependencyHeads]:
    """Seconds of bertology.dependency_heads (tokenization, alignment and batching included), and its result."""
    start = time.perf_counter()
    result = bt.dependency_heads(model, sentences, batch_size=BATCH_SIZE, progress=False)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=2000)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = bt.load_model("minilm")
    treebank = synthetic_treebank(args.sentences)
    bare_forward(model, treebank[:BATCH_SIZE])
    ours(model, treebank[:BATCH_SIZE])
    totals = {"bare_seconds": 0.0, "ours_seconds": 0.0, "tokens": 0, "sentences": 0}
    step = -(-len(treebank) // SLICES)
    for start in range(0, len(treebank), step):
        part = treebank[start:start + step]
        seconds, result = ours(model, part)
        totals["ours_seconds"] += seconds
        totals["sentences"] += result.n_sentences
        seconds, tokens = bare_forward(model, part)
        totals["bare_seconds"] += seconds
        totals["tokens"] += tokens
    assert totals["sentences"] == len(treebank)
    tokens = totals["tokens"]
    bare_tps, ours_tps = tokens / totals["bare_seconds"], tokens / totals["ours_seconds"]
    words = sum(len(s.words) for s in treebank)
    result = {
        "benchmark": "dependency_heads vs eager forward with output_attentions=True on the same batches",
        "model": "minilm (all-MiniLM-L6-v2: 6 layers, 12 heads)",
        "data": "synthetic UD-like treebank: review sentences with random trees and UD relation labels",
        "n_sentences": len(treebank), "n_words": words, "n_tokens": tokens,
        "batch_size": BATCH_SIZE, "device": str(model.device), "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(), "load_average_1min": os.getloadavg()[0], "machine": platform.machine(),
        "torch": torch.__version__,
        "bare_forward_seconds": totals["bare_seconds"], "dependency_heads_seconds": totals["ours_seconds"],
        "bare_tokens_per_s": bare_tps, "dependency_heads_tokens_per_s": ours_tps,
        "speed_ratio": ours_tps / bare_tps, "speed_target": 0.8,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{len(treebank)} sentences, {words} words, {tokens} tokens, {torch.get_num_threads()} threads, "
          f"load {result['load_average_1min']:.1f}")
    print(f"bare eager forward (output_attentions=True): {bare_tps:,.0f} tok/s")
    print(f"dependency_heads:                            {ours_tps:,.0f} tok/s  "
          f"ratio {result['speed_ratio']:.2f}x (target >= 0.8x)")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
