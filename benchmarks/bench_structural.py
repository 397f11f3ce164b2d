"""Structural distance probes (Hewitt & Manning 2019) for all 7 MiniLM hidden states: batched vs one layer at a time.

UD treebanks cannot be downloaded here, so the sentences are synthetic and UD-like: 2,000
sentences of 5 to 30 words drawn from the MiniLM (bert-base-uncased) vocabulary's whole
alphabetic words, each with a random projective dependency tree (a random head inside each
span, recursively) and a final full stop (XPOS ``.``) attached to the root. The words are
extracted once into a word-vector store (``word_vectors``, all layers, ``word_mean``); both
runs then read the same store:

- **batched**: ``train_probes`` on all 7 layers together (one ``(7, 384, 384)`` parameter
  tensor, each batch gathered once for every layer), then the evaluation;
- **loop**: the same probe trained and evaluated one layer at a time (``train_probes`` with a
  single layer, seven times).

Same seed, same data, same schedule (Adam 1e-3, plateau decay, early stopping; at most
``EPOCHS`` epochs to keep the run to minutes on 2 CPU cores). Reports wall time of each,
the speed ratio, the UUAS of every layer from both (they should agree within 0.5 points)
and the peak resident memory. Writes benchmarks/results/structural.json.

Run: ``.venv/bin/python benchmarks/bench_structural.py``
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import bertology as bt
from bertology.analyses.syntax import structural as st
from bertology.core.data.conllu import DependencySentence
from bertology.core.extraction.words import word_vectors

N_SENTENCES = 2000
N_TEST = 200
EPOCHS = 4
LENGTHS = (5, 30)
RESULTS = Path(__file__).parent / "results" / "structural.json"


def _projective_heads(n: int, rng: np.random.Generator) -> list[int]:
    heads = [0] * n

    def attach(low: int, high: int, head: int) -> None:
        if low > high:
            return
        root = int(rng.integers(low, high + 1))
        heads[root] = head
        attach(low, root - 1, root + 1)
        attach(root + 1, high, root + 1)

    attach(0, n - 1, 0)
    return heads


def synthetic_treebank(vocabulary: list[str], n: int = N_SENTENCES, seed: int = 0) -> list[DependencySentence]:
    """UD-like sentences: random projective trees over real vocabulary words, a final full stop."""
    rng = np.random.default_rng(seed)
    sentences = []
    for _ in range(n):
        length = int(rng.integers(LENGTHS[0], LENGTHS[1] + 1))
        heads = _projective_heads(length - 1, rng)
        heads.append(heads.index(0) + 1)
        words = tuple(rng.choice(vocabulary, length - 1)) + (".",)
        sentences.append(DependencySentence(words, ("X",) * (length - 1) + ("PUNCT",), ("NN",) * (length - 1) + (".",),
                                            tuple(heads), ("dep",) * (length - 1) + ("punct",)))
    return sentences


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(arrays, layers, offsets, labels, train, dev, test, gold) -> tuple[dict[int, float], int]:
    fit = st.train_probes(arrays, layers, offsets, labels, train, dev, "distance", None, 0, EPOCHS,
                          st.PROBE_BATCH_SIZE, "cpu", progress=False)
    evaluation = st._evaluate(arrays, fit.weights, offsets, test, gold, "distance", 64, torch.device("cpu"))
    correct, total = evaluation.values["uuas_correct"], evaluation.values["uuas_total"]
    return {layer: float(correct[i].sum() / total[i].sum()) for i, layer in enumerate(layers)}, int(fit.epochs.sum())


def main() -> None:
    model = bt.load_model("minilm")
    vocabulary = [w for w in model.tokenizer.get_vocab() if w.isalpha() and w.isascii() and len(w) > 1]
    sentences = synthetic_treebank(sorted(vocabulary))
    with tempfile.TemporaryDirectory() as directory:
        start = time.perf_counter()
        vectors = word_vectors(model, [s.words for s in sentences], out=Path(directory) / "words", progress=False)
        extract_seconds = time.perf_counter() - start
        peak_extract = _peak_mib()
        offsets = vectors.offsets
        train, dev, test = st._split(N_SENTENCES - N_TEST, N_TEST, 0.1, 0)
        labels = [st._labels(s, "distance") for s in sentences]
        gold = st._Gold([sentences[i] for i in test], "xpos")
        arrays = [vectors.layer(layer) for layer in vectors.layers]

        start = time.perf_counter()
        batched, batched_epochs = _run(arrays, vectors.layers, offsets, labels, train, dev, test, gold)
        batched_seconds = time.perf_counter() - start
        peak_batched = _peak_mib()

        start = time.perf_counter()
        loop, loop_epochs = {}, 0
        for position, layer in enumerate(vectors.layers):
            scores, epochs = _run([arrays[position]], [layer], offsets, labels, train, dev, test, gold)
            loop.update(scores)
            loop_epochs += epochs
        loop_seconds = time.perf_counter() - start
    gap = max(abs(batched[k] - loop[k]) for k in loop)
    report = {
        "setting": (f"MiniLM, {len(vectors.layers)} hidden states x rank 384 distance probes; {N_SENTENCES} synthetic "
                    f"UD-like sentences ({LENGTHS[0]}-{LENGTHS[1]} words, random projective trees), "
                    f"{len(train)} train / {len(dev)} held-out / {len(test)} test; at most {EPOCHS} epochs"),
        "threads": torch.get_num_threads(),
        "words": int(offsets[-1]),
        "extract_seconds": round(extract_seconds, 2),
        "batched_seconds": round(batched_seconds, 2), "loop_seconds": round(loop_seconds, 2),
        "speedup": round(loop_seconds / batched_seconds, 2),
        "layer_epochs": {"batched": batched_epochs, "loop": loop_epochs},
        "uuas_batched": {int(k): round(v, 4) for k, v in batched.items()},
        "uuas_loop": {int(k): round(v, 4) for k, v in loop.items()},
        "max_uuas_gap_points": round(100 * gap, 2),
        "peak_rss_mib": {"after_extraction": round(peak_extract), "after_batched": round(peak_batched),
                         "after_loop": round(_peak_mib())},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    print(f"speedup {report['speedup']}x (loop {loop_seconds:.1f} s, batched {batched_seconds:.1f} s), "
          f"max UUAS gap {report['max_uuas_gap_points']} points")


if __name__ == "__main__":
    main()
