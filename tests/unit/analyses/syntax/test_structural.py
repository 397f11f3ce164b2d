"""Structural probes: planted trees through reader -> probe -> metrics, batched = per-layer training, the
authors' training regimen, baselines and input checks."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from bertology.analyses.syntax import structural as st
from bertology.analyses.syntax.structural import structural_probe, train_probes
from bertology.analyses.syntax.structural_result import StructuralProbeResult, save_structural_figures
from bertology.analyses.syntax.trees import tree_depths, tree_distances
from bertology.core.data.conllu import load_conllu
from bertology.core.errors import InputError
from bertology.core.extraction.words import WordVectors
from bertology.core.paths import SHIPPED_DIR

FIXTURE = str(SHIPPED_DIR / "ud_sample.conllu")
DIM = 6


def _random_heads(n: int, rng: np.random.Generator) -> list[int]:
    order = rng.permutation(n)
    heads = [0] * n
    for position, word in enumerate(order[1:], start=1):
        heads[word] = int(order[rng.integers(0, position)]) + 1
    return heads


def _write_treebank(path, n_sentences: int, rng: np.random.Generator, max_words: int = 10):
    """Random trees with a final full stop attached to the root, in CoNLL-U."""
    lines = []
    for index in range(n_sentences):
        heads = _random_heads(int(rng.integers(3, max_words)), rng)
        lines.append(f"# sent_id = s{index}")
        lines += [f"{i}\tw{i}\tw\tNOUN\tNN\t_\t{h}\tdep\t_\t_" for i, h in enumerate(heads, start=1)]
        lines += [f"{len(heads) + 1}\t.\t.\tPUNCT\t.\t_\t{heads.index(0) + 1}\tpunct\t_\t_", ""]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_conllu(path)


def _planted(sentences, dim: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """h_i = sum over the edges on word i's path to the root of an orthonormal edge vector (one per child word,
    rotated by a random orthogonal matrix when ``rng`` is given): ||h_i - h_j||^2 = tree distance and
    ||h_i||^2 = depth."""
    rotation = np.eye(dim) if rng is None else np.linalg.qr(rng.normal(size=(dim, dim)))[0]
    blocks = []
    for sentence in sentences:
        vectors = np.zeros((len(sentence.words), dim))
        for word in range(len(sentence.words)):
            node = word
            while sentence.heads[node]:
                vectors[word, node] = 1.0
                node = sentence.heads[node] - 1
        blocks.append(vectors @ rotation)
    return np.concatenate(blocks).astype(np.float32)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny matrices: one thread avoids oversubscribing shared CPUs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    rng = np.random.default_rng(0)
    directory = tmp_path_factory.mktemp("planted")
    train = _write_treebank(directory / "train.conllu", 200, rng, max_words=DIM)
    test = _write_treebank(directory / "test.conllu", 30, rng, max_words=DIM)
    sentences = list(train) + list(test)
    offsets = np.concatenate([[0], np.cumsum([len(s.words) for s in sentences])])
    exact = _planted(sentences, DIM, rng)
    noise = rng.normal(size=exact.shape).astype(np.float32)
    vectors = WordVectors(offsets, [0, 1], np.zeros(len(sentences), dtype=bool), {0: exact, 1: noise})
    return train, test, vectors


def test_planted_vectors_have_tree_geometry(planted):
    train, _, vectors = planted
    for index in (0, 5):
        h = vectors.layer(0)[vectors.offsets[index]:vectors.offsets[index + 1]].astype(np.float64)
        squared = ((h[:, None] - h[None]) ** 2).sum(-1)
        np.testing.assert_allclose(squared, tree_distances(train[index].heads), atol=1e-5)
        np.testing.assert_allclose((h * h).sum(-1), tree_depths(train[index].heads), atol=1e-5)


@pytest.mark.parametrize("kind", ["distance", "depth"])
def test_planted_trees_are_recovered_through_the_pipeline(planted, kind):
    train, test, vectors = planted
    result = structural_probe(vectors, train, test, kind=kind, probe_batch_size=4, n_boot=200, progress=False)
    frame = result.to_frame()
    exact, noise = (frame[(frame["encoder"] == "trained") & (frame["layer"] == k)].iloc[0] for k in (0, 1))
    linear = frame[frame["encoder"] == "linear"].iloc[0]
    first, second = ("uuas", "dspr") if kind == "distance" else ("root_acc", "nspr")
    assert exact[first] == 1.0
    assert exact[second] > 0.85 and exact[second] > noise[second] + 0.3
    assert noise[first] < 0.6 and linear[first] < 0.6
    assert exact["rank"] == DIM and result.meta["n_test"] == len(test)


@pytest.mark.parametrize("kind", ["distance", "depth"])
def test_an_exact_probe_scores_one_on_every_metric(planted, kind):
    """The identity probe on the planted vectors predicts the gold distances and depths (ties included)."""
    train, test, vectors = planted
    sentences = list(train) + list(test)
    ids = np.arange(len(train), len(sentences))
    gold = st._Gold([sentences[i] for i in ids], "xpos")
    exact = [_planted(sentences, DIM)]
    evaluation = st._evaluate(exact, np.eye(DIM)[None], vectors.offsets, ids, gold, kind, 16,
                              torch.device("cpu"))
    row = st._metric_rows(evaluation.values, gold.lengths, kind, 50, 0, 0.95)[0]
    for metric in ("uuas", "dspr") if kind == "distance" else ("root_acc", "nspr"):
        assert row[metric] == pytest.approx(1.0)


def _features(n_sentences: int = 60, dim: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    heads = [_random_heads(int(rng.integers(2, 9)), rng) for _ in range(n_sentences)]
    offsets = np.concatenate([[0], np.cumsum([len(h) for h in heads])])
    arrays = [rng.normal(size=(offsets[-1], dim)).astype(np.float32) for _ in range(3)]
    return heads, offsets, arrays


@pytest.mark.parametrize("kind", ["distance", "depth"])
def test_batched_layers_train_exactly_as_each_layer_alone(kind):
    heads, offsets, arrays = _features()
    labels = [(tree_distances(h) if kind == "distance" else tree_depths(h)).astype(np.float32) for h in heads]
    train, dev = np.arange(50), np.arange(50, 60)
    together = train_probes(arrays, [0, 4, 7], offsets, labels, train, dev, kind, rank=3, seed=5, epochs=40,
                            batch_size=7, progress=False)
    for slot, layer in enumerate([0, 4, 7]):
        alone = train_probes([arrays[slot]], [layer], offsets, labels, train, dev, kind, rank=3, seed=5, epochs=40,
                             batch_size=7, progress=False)
        np.testing.assert_allclose(together.weights[slot], alone.weights[0], rtol=1e-4, atol=1e-6)
        assert together.epochs[slot] == alone.epochs[0]
        assert together.dev_loss[slot] == pytest.approx(alone.dev_loss[0], rel=1e-5)


def _reference_training(vectors, offsets, labels, train, dev, rank, seed, epochs, batch_size, kind):
    """Hewitt & Manning's regimen written out with torch.optim: padded batches (labels -1), the probe as the
    explicit difference form, L1 loss / len^2 (len for depth) averaged over sentences, Adam(lr=1e-3),
    ReduceLROnPlateau(factor=0.1, patience=0) on the held-out loss, early stopping after 5 epochs without a
    1e-4 improvement, best held-out parameters kept."""
    proj = torch.nn.Parameter(torch.from_numpy(st._initial_weights([0], vectors.shape[1], rank, seed)[0]))
    optimizer = torch.optim.Adam([proj], lr=0.001)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=0)
    shuffle = np.random.default_rng([seed, 1])

    def batch_loss(ids):
        lengths = torch.tensor([offsets[i + 1] - offsets[i] for i in ids])
        width = int(lengths.max())
        seqs = torch.zeros(len(ids), width, vectors.shape[1])
        shape = (len(ids), width, width) if kind == "distance" else (len(ids), width)
        gold = -torch.ones(shape)
        for slot, i in enumerate(ids):
            n = int(lengths[slot])
            seqs[slot, :n] = torch.from_numpy(vectors[offsets[i]:offsets[i + 1]])
            if kind == "distance":
                gold[slot, :n, :n] = torch.from_numpy(labels[i])
            else:
                gold[slot, :n] = torch.from_numpy(labels[i])
        transformed = seqs @ proj
        if kind == "distance":
            expanded = transformed.unsqueeze(2).expand(-1, -1, width, -1)
            predictions = ((expanded - expanded.transpose(1, 2)) ** 2).sum(-1)
            dims, norm = (1, 2), lengths.float() ** 2
        else:
            predictions = (transformed * transformed).sum(-1)
            dims, norm = 1, lengths.float()
        ones = (gold != -1).float()
        per_sentence = (predictions * ones - gold * ones).abs().sum(dim=dims) / norm
        return per_sentence.sum() / len(ids)

    best_loss, best_epoch, best = float("inf"), -1, proj.detach().clone()
    for epoch in range(epochs):
        order = shuffle.permutation(train)
        for start in range(0, len(order), batch_size):
            optimizer.zero_grad()
            batch_loss(order[start:start + batch_size]).backward()
            optimizer.step()
        with torch.no_grad():
            chunks = np.array_split(dev, max(1, -(-len(dev) // batch_size)))
            dev_loss = sum(float(batch_loss(ids)) * len(ids) for ids in chunks)
        scheduler.step(dev_loss)
        if dev_loss / len(dev) < best_loss - 0.0001:
            best_loss, best_epoch, best = dev_loss / len(dev), epoch, proj.detach().clone()
        elif best_epoch < epoch - 4:
            break
    return best.numpy(), epoch + 1


@pytest.mark.parametrize("kind", ["distance", "depth"])
def test_training_matches_the_authors_regimen(kind):
    heads, offsets, arrays = _features(n_sentences=40, dim=5, seed=3)
    labels = [(tree_distances(h) if kind == "distance" else tree_depths(h)).astype(np.float32) for h in heads]
    train, dev = np.arange(32), np.arange(32, 40)
    ours = train_probes(arrays[:1], [0], offsets, labels, train, dev, kind, rank=4, seed=2, epochs=8, batch_size=6,
                        progress=False)
    theirs, epochs = _reference_training(arrays[0], offsets, labels, train, dev, 4, 2, 8, 6, kind)
    np.testing.assert_allclose(ours.weights[0], theirs, rtol=1e-3, atol=1e-5)
    assert ours.epochs[0] == epochs


def test_losses_follow_the_authors_normalisation():
    labels = [np.array([[0, 1], [1, 0]], np.float32), np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]], np.float32)]
    offsets = np.array([0, 2, 5])
    batch = st._make_batch(np.array([1, 0]), offsets, labels, "distance", torch.device("cpu"))
    vectors = torch.tensor([[[0.0], [2.0], [0.0], [1.0], [3.0]]])
    predicted = st._predict(st._project(vectors, torch.ones(1, 1, 1), batch, "distance"), "distance")
    # sentence 0: predicted [[0,4],[4,0]] vs gold [[0,1],[1,0]] -> |.| sums to 6, / 2^2
    # sentence 1: predicted [[0,1,9],[1,0,4],[9,4,0]] -> errors 0+0+7+0+0+3+7+3+0 = 20, / 3^2
    np.testing.assert_allclose(st._sentence_losses(predicted, batch, "distance").numpy(), [[6 / 4, 20 / 9]])
    depth_labels = [np.array([1, 0], np.float32), np.array([0, 1, 2], np.float32)]
    batch = st._make_batch(np.array([0, 1]), offsets, depth_labels, "depth", torch.device("cpu"))
    predicted = st._predict(st._project(vectors, torch.ones(1, 1, 1), batch, "depth"), "depth")
    # depths predicted [0, 4] and [0, 1, 9]: errors (1 + 4) / 2 and (0 + 0 + 7) / 3
    np.testing.assert_allclose(st._sentence_losses(predicted, batch, "depth").numpy(), [[5 / 2, 7 / 3]])


@pytest.mark.parametrize("kind", ["distance", "depth"])
def test_analytic_gradient_equals_autograd_of_the_authors_loss(kind):
    """The closed-form gradient equals torch.autograd through the authors' explicit forward ((B, T, T, k)
    differences, masked L1 / |s|^2 or / |s|, mean over the batch's sentences), per layer, in float64."""
    rng = np.random.default_rng(1)
    heads = [_random_heads(int(n), rng) for n in rng.integers(2, 9, size=7)]
    offsets = np.concatenate([[0], np.cumsum([len(h) for h in heads])])
    labels = [(tree_distances(h) if kind == "distance" else tree_depths(h)).astype(np.float32) for h in heads]
    ids = np.array([5, 0, 3, 6, 2])
    batch = st._make_batch(ids, offsets, labels, kind, torch.device("cpu"), torch.float64)
    vectors = torch.from_numpy(rng.normal(size=(3, offsets[-1], 6)))
    weights = torch.from_numpy(rng.normal(scale=0.5, size=(3, 6, 4)))
    analytic = st._gradient(vectors[:, batch.rows], st._project(vectors[:, batch.rows], weights, batch, kind),
                            batch, kind)
    for layer in range(3):
        proj = weights[layer].clone().requires_grad_()
        total = 0
        for i in np.sort(ids):
            transformed = vectors[layer, offsets[i]:offsets[i + 1]] @ proj
            gold = torch.from_numpy(labels[i]).double()
            if kind == "distance":
                expanded = transformed.unsqueeze(1).expand(-1, len(gold), -1)
                predicted = ((expanded - expanded.transpose(0, 1)) ** 2).sum(-1)
            else:
                predicted = (transformed * transformed).sum(-1)
            total = total + (predicted - gold).abs().sum() / len(gold) ** gold.dim()
        (expected,) = torch.autograd.grad(total / len(ids), proj)
        np.testing.assert_allclose(analytic[layer].numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


def test_linear_chain_baseline_scores_the_chain_tree():
    sentences = list(load_conllu(FIXTURE))
    gold = st._Gold(sentences, "xpos")
    scores = st._linear_baseline(gold, "distance")
    # "Stop !": one non-punctuation word, no edge. "A hearing is scheduled on the issue today ." has the gold
    # edges A-hearing, hearing-scheduled, is-scheduled, scheduled-today, hearing-issue, on-issue, the-issue; the
    # chain over its 8 non-punctuation words links neighbours and gets A-hearing, is-scheduled, the-issue: 3 of 7
    assert scores["uuas_total"][0, 5] == 0
    assert (scores["uuas_correct"][0, 2], scores["uuas_total"][0, 2]) == (3, 7)
    depth = st._linear_baseline(gold, "depth")
    # the chain's root is the last word; it is punctuation in every fixture sentence, so the root is the last
    # non-punctuation word: only "Stop !" has it right
    assert depth["root_acc"].tolist() == [[0, 0, 0, 0, 0, 1]]


def test_truncated_sentences_are_left_out_with_a_count(planted, caplog):
    train, test, vectors = planted
    cut = WordVectors(vectors.offsets, [0], vectors.truncated.copy(), vectors.vectors)
    cut.truncated[[0, 1, len(train)]] = True
    with caplog.at_level(logging.WARNING):
        result = structural_probe(cut, train, test, epochs=1, n_boot=10, progress=False)
    assert result.meta["truncated"] == {"train": 2, "test": 1}
    assert result.meta["n_test"] == len(test) - 1
    assert "truncated" in caplog.text


def test_rank_sweep_and_result_round_trip(planted, tmp_path):
    train, test, vectors = planted
    result = structural_probe(vectors, train, test, rank=[2, 4], layers=[0], epochs=2, n_boot=10, progress=False)
    frame = result.to_frame("trained")
    assert sorted(frame["rank"]) == [2, 4]
    loaded = StructuralProbeResult.load(result.save(tmp_path / "saved"))
    np.testing.assert_array_equal(loaded.predicted_edges(3, layer=0, rank=2), result.predicted_edges(3, 0, 2))
    names = [p.name for p in save_structural_figures(loaded, tmp_path)]
    assert "structural_distance_tree.png" in names


def test_bad_arguments_fail_before_any_model_loads():
    train = load_conllu(FIXTURE)
    for kwargs, match in (({"kind": "parse"}, "kind"), ({"rank": 0}, "rank"), ({"punct": "all"}, "punct"),
                          ({"dev_fraction": 1.5}, "dev_fraction"), ({"epochs": 0}, "epochs")):
        with pytest.raises(InputError, match=match):
            structural_probe("no-such-model", train, **kwargs)
    with pytest.raises(InputError, match="treebank"):
        structural_probe("no-such-model", "train.conllu")
    wrong = WordVectors(np.array([0, 2]), [0], np.zeros(1, dtype=bool), {0: np.zeros((2, 3), np.float32)})
    with pytest.raises(InputError, match="sentences"):
        structural_probe(wrong, train, progress=False)


def test_every_architecture_runs_both_probes(tiny_model, arch):
    bank = load_conllu(FIXTURE)
    model = tiny_model(arch)
    result = structural_probe(model, bank[:4], bank[4:], layers="0,1", rank=4, epochs=2, n_boot=10, progress=False)
    frame = result.to_frame()
    assert set(frame["encoder"]) == {"trained", "random", "linear"}
    assert frame.loc[frame["encoder"] != "linear", "uuas"].between(0, 1).all()
    depth = structural_probe(model, bank[:4], bank[4:], kind="depth", layers=[1], rank=2, epochs=1, n_boot=10,
                             random_encoder=False, progress=False)
    assert depth.to_frame("trained")["root_acc"].between(0, 1).all()
    assert depth.predicted_depths(1, layer=1).shape == (len(bank[5].words),)
