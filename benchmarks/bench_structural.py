"""Structural distance probes (Hewitt & Manning 2019) for all 7 MiniLM hidden states: batched vs one layer at a time.

UD treebanks cannot be downloaded here, so the sentences are synthetic and UD-like: 2,000
sentences of 5 to 30 words drawn from the MiniLM (bert-base-uncased) vocabulary's whole
alphabetic words, each with a random projective dependency tree (a random head inside each
span, recursively) and a final full stop (XPOS ``.``) attached to the root. The words are
extracted once into a word-vector store (``word_vectors``, all layers, ``word_mean``); every
run reads that memory-mapped store. Each run trains and scores the probes (UUAS on the 200
test sentences):

- **batched**: ``train_probes`` on all 7 layers together (one ``(7, 384, 384)`` parameter
  tensor; each batch built and its word vectors gathered once for every layer; the
  closed-form gradient; fused Adam), then ``_evaluate`` for all layers;
- **loop** (strict baseline, same code): ``train_probes`` and ``_evaluate`` on one layer at a
  time, seven times;
- **authors** (second baseline): the released procedure of github.com/john-hewitt/structural-probes
  re-implemented one layer at a time: per layer run, every sentence's vectors of that layer
  read from the store into a list and the gold distances computed (``data.py``), a
  ``DataLoader`` padding each batch of 20 (``custom_pad``: vectors with 0, labels with -1),
  ``TwoWordPSDProbe.forward`` (broadcast differences ``(B, T, T, k)``), ``L1DistanceLoss``,
  autograd, ``torch.optim.Adam(lr=1e-3)``, ``ReduceLROnPlateau(factor=0.1, patience=0)`` on
  the held-out loss and the early stopping of ``ProbeRegimen.train_until_convergence``
  (best parameters saved with ``torch.save``), then ``predict`` on the test sentences. It
  uses the same initial weights and the same shuffled batches as ours, so its UUAS must
  equal ours up to float rounding; the test sentences are scored with the same MST code.

Same seed, same data, same schedule; at most ``EPOCHS`` epochs to keep the run to minutes
on 2 CPU cores. Reports the wall time of each, the ratios loop / batched (strict) and
authors / batched, and the UUAS of every layer from all three (they should agree within 0.5
points). Memory: the batched run on the first 1,000 and on all 2,000 sentences, each in a
fresh subprocess, sampling the process's anonymous resident memory (``RssAnon``; the
memory-mapped word vectors are file-backed pages and not counted) during training and
evaluation; the growth over the memory before training is flat in the number of sentences
when batches are gathered per step. Writes ``benchmarks/results/structural.json``.

Run: ``python -m benchmarks.bench_structural``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("BERTOLOGY_PROGRESS", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

import bertology as bt
from bertology.analyses.syntax import structural as st
from bertology.core.data.conllu import DependencySentence
from bertology.core.extraction.words import WordVectors, word_vectors

N_SENTENCES = 2000
N_TEST = 200
EPOCHS = 4
LENGTHS = (5, 30)
MEMORY_SIZES = (1000, 2000)
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


def _split(n_sentences: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return st._split(n_sentences - N_TEST, N_TEST, 0.1, 0)


def _uuas(evaluation) -> list[float]:
    correct, total = evaluation.values["uuas_correct"], evaluation.values["uuas_total"]
    return (correct.sum(1) / total.sum(1)).tolist()


def ours(store: Path, positions: list[int], sentences: list[DependencySentence],
         n_sentences: int = N_SENTENCES) -> tuple[list[float], list[int]]:
    """``train_probes`` + ``_evaluate`` on the layers at ``positions`` of the store."""
    vectors = WordVectors.load(store)
    train, dev, test = _split(n_sentences)
    labels = [st._labels(s, "distance") for s in sentences[:n_sentences]]
    gold = st._Gold([sentences[i] for i in test], "xpos")
    arrays = [vectors.layer(vectors.layers[i]) for i in positions]
    layers = [vectors.layers[i] for i in positions]
    fit = st.train_probes(arrays, layers, vectors.offsets, labels, train, dev, "distance", None, 0, EPOCHS,
                          st.PROBE_BATCH_SIZE, "cpu", progress=False)
    evaluation = st._evaluate(arrays, fit.weights, vectors.offsets, test, gold, "distance", 64, torch.device("cpu"))
    return _uuas(evaluation), fit.epochs.tolist()


class _Observations(torch.utils.data.Dataset):
    """``data.ObservationIterator``: (embeddings, labels) of each sentence."""

    def __init__(self, embeddings: list[np.ndarray], labels: list[torch.Tensor]) -> None:
        self.embeddings, self.labels = embeddings, labels

    def __len__(self) -> int:
        return len(self.embeddings)

    def __getitem__(self, index: int) -> tuple[np.ndarray, torch.Tensor]:
        return self.embeddings[index], self.labels[index]


def _custom_pad(batch_observations):
    """``SimpleDataset.custom_pad``: vectors padded with 0, labels with -1."""
    seqs = [torch.tensor(x[0]) for x in batch_observations]
    lengths = torch.tensor([len(x) for x in seqs])
    seqs = nn.utils.rnn.pad_sequence(seqs, batch_first=True)
    maxlen = int(max(lengths))
    labels = [-torch.ones(maxlen, maxlen) for _ in seqs]
    for index, x in enumerate(batch_observations):
        length = x[1].shape[0]
        labels[index][:length, :length] = x[1]
    return seqs, torch.stack(labels), lengths


def _two_word_psd_probe(batch: torch.Tensor, proj: torch.Tensor) -> torch.Tensor:
    """``TwoWordPSDProbe.forward``."""
    transformed = torch.matmul(batch, proj)
    seqlen = transformed.size(1)
    transformed = transformed.unsqueeze(2)
    transformed = transformed.expand(-1, -1, seqlen, -1)
    transposed = transformed.transpose(1, 2)
    diffs = transformed - transposed
    squared_diffs = diffs.pow(2)
    return torch.sum(squared_diffs, -1)


def _l1_distance_loss(predictions: torch.Tensor, label_batch: torch.Tensor,
                      length_batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``L1DistanceLoss.forward``."""
    labels_1s = (label_batch != -1).float()
    predictions_masked = predictions * labels_1s
    labels_masked = label_batch * labels_1s
    total_sents = torch.sum(length_batch != 0).float()
    squared_lengths = length_batch.pow(2).float()
    loss_per_sent = torch.sum(torch.abs(predictions_masked - labels_masked), dim=(1, 2))
    normalized_loss_per_sent = loss_per_sent / squared_lengths
    return torch.sum(normalized_loss_per_sent) / total_sents, total_sents


def authors(store: Path, position: int, sentences: list[DependencySentence], directory: Path) -> tuple[float, int]:
    """One layer trained and scored with the authors' released procedure (see the module docstring)."""
    vectors = WordVectors.load(store)
    layer, offsets = vectors.layer(vectors.layers[position]), vectors.offsets
    embeddings = [np.array(layer[offsets[i]:offsets[i + 1]]) for i in range(len(sentences))]
    labels = [torch.from_numpy(st._labels(s, "distance")) for s in sentences]
    train, dev, test = _split(len(sentences))
    shuffle = np.random.default_rng([0, 1])
    dataset = _Observations(embeddings, labels)

    def loader(ids: np.ndarray) -> DataLoader:
        batches = [ids[start:start + st.PROBE_BATCH_SIZE].tolist() for start in range(0, len(ids), st.PROBE_BATCH_SIZE)]
        return DataLoader(dataset, batch_sampler=batches, collate_fn=_custom_pad)

    proj = nn.Parameter(torch.from_numpy(st._initial_weights([vectors.layers[position]], 384, 384, 0)[0]))
    optimizer = torch.optim.Adam([proj], lr=0.001)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=0)
    params_path = directory / f"probe_{position}.params"
    min_dev_loss, min_dev_loss_epoch = sys.maxsize, -1
    for epoch_index in range(EPOCHS):
        epoch_dev_loss = epoch_dev_loss_count = 0
        for observation_batch, label_batch, length_batch in loader(shuffle.permutation(train)):
            optimizer.zero_grad()
            batch_loss, count = _l1_distance_loss(_two_word_psd_probe(observation_batch, proj), label_batch,
                                                  length_batch)
            batch_loss.backward()
            optimizer.step()
        for observation_batch, label_batch, length_batch in loader(dev):
            optimizer.zero_grad()
            batch_loss, count = _l1_distance_loss(_two_word_psd_probe(observation_batch, proj), label_batch,
                                                  length_batch)
            epoch_dev_loss += batch_loss.detach().cpu().numpy() * count.detach().cpu().numpy()
            epoch_dev_loss_count += count.detach().cpu().numpy()
        scheduler.step(epoch_dev_loss)
        if epoch_dev_loss / epoch_dev_loss_count < min_dev_loss - 0.0001:
            torch.save({"proj": proj}, params_path)
            min_dev_loss = epoch_dev_loss / epoch_dev_loss_count
            min_dev_loss_epoch = epoch_index
        elif min_dev_loss_epoch < epoch_index - 4:
            break
    proj = torch.load(params_path)["proj"]
    gold = st._Gold([sentences[i] for i in test], "xpos")
    correct = total = 0
    for observation_batch, _, length_batch in loader(test):
        predictions = _two_word_psd_probe(observation_batch, proj).detach().cpu().numpy()
        for matrix, n in zip(predictions, length_batch.tolist()):
            found, _, _ = st._score_distances(matrix[:n, :n], gold, total)
            correct += found
            total += 1
    return correct / sum(len(edges) for edges in gold.edges), epoch_index + 1


def _anonymous_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no RssAnon in /proc/self/status")


def memory(store: Path, sentences_path: Path, n_sentences: int) -> float:
    """Peak growth of anonymous resident memory (MiB) during the batched run on the first ``n_sentences``."""
    sentences = pickle.loads(sentences_path.read_bytes())
    ours(store, [0], sentences, N_TEST + 100)
    baseline, peak, done = _anonymous_mib(), [0.0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _anonymous_mib())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    ours(store, list(range(7)), sentences, n_sentences)
    done.set()
    sampler.join()
    return max(peak[0], _anonymous_mib()) - baseline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", nargs=3, metavar=("STORE", "SENTENCES", "N"),
                        help="internal: measure the batched run's memory in this process")
    args = parser.parse_args()
    if args.memory:
        print(json.dumps(memory(Path(args.memory[0]), Path(args.memory[1]), int(args.memory[2]))))
        return
    model = bt.load_model("minilm")
    vocabulary = [w for w in model.tokenizer.get_vocab() if w.isalpha() and w.isascii() and len(w) > 1]
    sentences = synthetic_treebank(sorted(vocabulary))
    with tempfile.TemporaryDirectory(prefix="bench-structural-") as directory:
        store, sentences_path = Path(directory) / "words", Path(directory) / "sentences.pkl"
        start = time.perf_counter()
        vectors = word_vectors(model, [s.words for s in sentences], out=store, progress=False)
        extract_seconds = time.perf_counter() - start
        sentences_path.write_bytes(pickle.dumps(sentences))
        positions = list(range(len(vectors.layers)))

        start = time.perf_counter()
        batched, batched_epochs = ours(store, positions, sentences)
        batched_seconds = time.perf_counter() - start

        start = time.perf_counter()
        loop, loop_epochs = [], []
        for position in positions:
            scores, epochs = ours(store, [position], sentences)
            loop += scores
            loop_epochs += epochs
        loop_seconds = time.perf_counter() - start

        start = time.perf_counter()
        theirs, their_epochs = zip(*(authors(store, position, sentences, Path(directory)) for position in positions))
        authors_seconds = time.perf_counter() - start

        peaks = {}
        for n in MEMORY_SIZES:
            found = subprocess.run([sys.executable, "-m", "benchmarks.bench_structural", "--memory", str(store),
                                    str(sentences_path), str(n)], capture_output=True, text=True, check=True,
                                   cwd=Path(__file__).parent.parent)
            peaks[n] = json.loads(found.stdout.strip().splitlines()[-1])
    train, dev, test = _split(N_SENTENCES)
    layers = [int(k) for k in vectors.layers]

    def points(values) -> dict[int, float]:
        return {k: round(100 * v, 2) for k, v in zip(layers, values)}

    report = {
        "setting": (f"MiniLM, {len(layers)} hidden states x rank 384 distance probes; {N_SENTENCES} synthetic "
                    f"UD-like sentences ({LENGTHS[0]}-{LENGTHS[1]} words, random projective trees), "
                    f"{len(train)} train / {len(dev)} held-out / {len(test)} test; at most {EPOCHS} epochs"),
        "threads": torch.get_num_threads(), "cpu_count": os.cpu_count(), "load_average_1min": os.getloadavg()[0],
        "words": int(vectors.offsets[-1]),
        "extract_seconds": round(extract_seconds, 2),
        "batched_seconds": round(batched_seconds, 2),
        "loop_seconds": round(loop_seconds, 2),
        "authors_seconds": round(authors_seconds, 2),
        "speedup_vs_loop": round(loop_seconds / batched_seconds, 2),
        "speedup_vs_authors": round(authors_seconds / batched_seconds, 2),
        "speed_target": 3.0,
        "layer_epochs": {"batched": int(sum(batched_epochs)), "loop": int(sum(loop_epochs)),
                         "authors": int(sum(their_epochs))},
        "uuas_points": {"batched": points(batched), "loop": points(loop), "authors": points(theirs)},
        "max_uuas_gap_points": {"loop": round(100 * max(abs(a - b) for a, b in zip(batched, loop)), 2),
                                "authors": round(100 * max(abs(a - b) for a, b in zip(batched, theirs)), 2)},
        "batched_peak_anonymous_growth_mib": {str(n): round(peaks[n], 1) for n in MEMORY_SIZES},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print(f"batched {batched_seconds:.1f} s; same-code loop {loop_seconds:.1f} s ({report['speedup_vs_loop']}x); "
          f"authors' procedure {authors_seconds:.1f} s ({report['speedup_vs_authors']}x); max UUAS gap "
          f"{report['max_uuas_gap_points']} points; memory growth {report['batched_peak_anonymous_growth_mib']} MiB")


if __name__ == "__main__":
    main()
