"""Edge probing: span pooling against the model's own hidden states, micro-F1, batched = one-by-one training,
planted and random labels, the whole run on every architecture."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score

from bertology.analyses.syntax.edge_data import conllu_to_edges, edge_examples, load_edges
from bertology.analyses.syntax.edge_probe import (
    EdgeProbeResult,
    SpanTargets,
    _counts,
    _ProbeBank,
    edge_probe,
    micro_f1,
    save_edge_probe_figures,
    span_features,
    train_edge_probes,
)
from bertology.core.errors import InputError
from bertology.core.paths import SHIPPED_DIR

FIXTURES = Path(__file__).parents[3] / "fixtures"
TEXTS = ["the bank of the river closed", "Don't stop, it's the bank's vault!", "apple"]
SPANS = [np.array([[1, 2], [2, 5], [0, 6]]), np.array([[0, 1], [4, 6], [5, 6]]), np.array([[0, 1]])]


@pytest.fixture(autouse=True)
def one_thread():
    """Probe steps are many small operations: one thread avoids waiting on the shared machine's other thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _reference_means(model, text: str, spans: np.ndarray) -> np.ndarray:
    """``(spans, layers, hidden)``: the mean of Hugging Face's hidden states over the tokens overlapping each span."""
    tokenizer = model.tokenizer
    encoded = tokenizer(text, return_offsets_mapping=True, return_special_tokens_mask=True, return_tensors="pt")
    offsets = encoded.pop("offset_mapping")[0].numpy()
    special = encoded.pop("special_tokens_mask")[0].numpy().astype(bool)
    if "token_type_ids" in encoded and not model.adapter.uses_token_type_ids:
        encoded.pop("token_type_ids")
    with torch.no_grad():
        states = model.model(**{k: v.to(model.device) for k, v in encoded.items()},
                             output_hidden_states=True).hidden_states
    hidden = torch.stack(states)[:, 0].double().cpu().numpy()                 # (layers, tokens, hidden)
    words = [m.span() for m in re.finditer(r"\S+", text)]
    out = []
    for start, end in spans:
        first, last = words[start][0], words[end - 1][1]
        tokens = (offsets[:, 0] < last) & (offsets[:, 1] > first) & ~special
        out.append(hidden[:, tokens].mean(axis=1))
    return np.stack(out)


def test_span_pooling_is_the_mean_of_the_spans_hidden_states(tiny_model, arch):
    model = tiny_model(arch)
    store = span_features(model, TEXTS, SPANS, progress=False)
    assert store.layers == list(range(model.num_layers + 1)) and store.valid.all()
    got = np.stack([store[k] for k in store.layers], axis=1)
    reference = np.concatenate([_reference_means(model, t, s) for t, s in zip(TEXTS, SPANS)])
    np.testing.assert_allclose(got, reference, atol=2e-5, rtol=1e-4)


def test_spans_cut_by_truncation_are_left_out(tiny_model, caplog):
    model = tiny_model("bert")
    long_text = " ".join(["river"] * (model.max_length + 20))
    spans = [np.array([[0, 3], [5, 6], [model.max_length + 10, model.max_length + 11]]), np.array([[0, 1]])]
    store = span_features(model, [long_text, "bank"], spans, layers=[1], progress=False)
    assert store.valid.tolist() == [True, True, False, True]
    assert "1 of 4 spans" in caplog.text
    ids = torch.tensor([model.tokenizer(long_text)["input_ids"][:model.max_length - 1] + [
        model.tokenizer.sep_token_id]])
    with torch.no_grad():
        hidden = model.model(input_ids=ids, output_hidden_states=True).hidden_states[1][0].numpy()
    np.testing.assert_allclose(store[1][0], hidden[1:4].mean(axis=0), atol=2e-5)


def test_micro_f1_matches_scikit_learn():
    rng = np.random.default_rng(0)
    gold = rng.random((40, 5)) < 0.3
    logits = torch.tensor(rng.normal(size=(2, 40, 5)))
    counts = _counts(logits, torch.tensor(gold)).numpy()
    for probe in range(2):
        expected = f1_score(gold, logits[probe].numpy() > 0, average="micro")
        assert micro_f1(counts[probe]) == pytest.approx(expected)


def test_batched_training_equals_training_each_probe_alone():
    torch.manual_seed(0)
    allowed = np.array([[True, False, False], [False, True, False], [True, True, False], [True, True, True]])
    bank = _ProbeBank(allowed, features=6, hidden=5, n_labels=3, two_spans=True, dropout=0.0)
    alone = []
    for p in range(len(allowed)):
        single = _ProbeBank(allowed[p:p + 1], features=6, hidden=5, n_labels=3, two_spans=True, dropout=0.0)
        single.load_state_dict({k: v[p:p + 1].clone() for k, v in bank.state_dict().items()})
        alone.append(single)
    x1, x2 = torch.randn(8, 3, 6), torch.randn(8, 3, 6)
    gold = (torch.rand(8, 3) < 0.4).float()

    def step(model, optimizer):
        logits = model(x1, x2)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, gold.expand_as(logits), reduction="none")
        optimizer.zero_grad()
        loss.mean(dim=(1, 2)).sum().backward()
        optimizer.step()

    optimizers = [torch.optim.Adam(m.parameters(), lr=1e-2) for m in [bank, *alone]]
    for _ in range(5):
        for model, optimizer in zip([bank, *alone], optimizers):
            step(model, optimizer)
    for p, single in enumerate(alone):
        for name, value in single.state_dict().items():
            torch.testing.assert_close(value[0], bank.state_dict()[name][p], atol=1e-5, rtol=1e-5)
    assert torch.equal(bank.mix.gamma[:2], torch.ones(2))                       # single layers keep γ = 1


def _planted(n: int, layers: int, signal: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    features = [rng.normal(size=(n, 8)).astype(np.float32) for _ in range(layers)]
    classes = rng.integers(0, 3, size=n)
    features[signal][:, :3] += 4.0 * np.eye(3)[classes]
    labels = np.eye(3, dtype=bool)[classes]
    return features, labels


def test_planted_layer_gives_the_expected_layer_and_mix_weight():
    features, labels = _planted(600, layers=4, signal=2)
    split = lambda rows: SpanTargets(rows, None, labels[rows])                # noqa: E731
    result = train_edge_probes(features, [0, 1, 2, 3], split(np.arange(400)), split(np.arange(500, 600)),
                               dev=split(np.arange(400, 500)), labels=["a", "b", "c"], hidden=16, epochs=25,
                               lr=5e-3, progress=False)
    frame = result.to_frame()
    assert frame["f1"].iloc[2] > 0.95 and frame[["f1"]].drop(index=2).max().item() < 0.6
    assert frame["delta"].iloc[2] > 0.4 and abs(frame["delta"].iloc[[1, 3]]).max() < 0.1
    assert result.expected_layer() == pytest.approx(2.0, abs=0.25)
    assert int(frame["mix_weight"].idxmax()) == 2
    assert frame["mix_f1"].iloc[0] == pytest.approx(frame["cumulative_f1"].iloc[-1])


def _word_data(n: int, seed: int, random_labels: bool):
    """Sentences of random words; each word's label is its class (planted) or a random class."""
    rng = np.random.default_rng(seed)
    words = ["bank", "river", "apple", "doctor", "city", "blue"]
    classes = {"bank": "A", "river": "A", "apple": "B", "doctor": "C", "city": "C", "blue": "D"}
    items = []
    for _ in range(n):
        sentence = list(rng.choice(words, size=5))
        labels = (rng.choice(list("ABCD"), size=5) if random_labels else [classes[w] for w in sentence])
        items.append({"text": " ".join(sentence),
                      "targets": [{"span1": [i, i + 1], "label": str(label)} for i, label in enumerate(labels)]})
    return edge_examples(items)


@pytest.mark.parametrize("random_labels", [False, True])
def test_probe_learns_a_planted_label_and_not_a_random_one(tiny_model, random_labels):
    data = _word_data(80, seed=1, random_labels=random_labels)
    result = edge_probe(tiny_model("bert"), data, hidden=32, epochs=15, lr=3e-3, dropout=0.0, seed=0,
                        progress=False)
    best = result.to_frame()["f1"].max()
    if random_labels:
        assert best < 0.5
    else:
        assert best > 0.95


def test_edge_probe_runs_on_every_architecture(tiny_model, arch, tmp_path):
    data = conllu_to_edges(SHIPPED_DIR / "ud_sample.conllu", "dep")
    result = edge_probe(tiny_model(arch), data, hidden=8, epochs=2, store=tmp_path / "spans", progress=False)
    frame = result.to_frame()
    assert frame["layer"].tolist() == list(range(tiny_model(arch).num_layers + 1))
    assert frame[["f1", "cumulative_f1", "mix_weight", "mix_f1"]].notna().all().all()
    assert frame["mix_weight"].sum() == pytest.approx(1.0)
    assert result.meta["two_spans"] and result.meta["n_test"] > 0 and result.meta["dropped_targets"] == 0
    loaded = EdgeProbeResult.load(result.save(tmp_path / "saved"))
    assert loaded.expected_layer() == pytest.approx(result.expected_layer(), nan_ok=True)
    assert [p.suffix for p in save_edge_probe_figures(loaded, tmp_path)] == [".pdf", ".png"]


def test_without_mixes_there_is_no_expected_layer(tiny_model):
    result = edge_probe(tiny_model("bert"), load_edges(FIXTURES / "edges_sample.jsonl"), test_size=0.5,
                        dev_size=0, mix=False, cumulative=False, hidden=4, epochs=1, progress=False)
    assert result.to_frame()["mix_weight"].isna().all()
    with pytest.raises(InputError, match="cumulative=True"):
        result.expected_layer()
    with pytest.raises(InputError, match="mix=True"):
        result.center_of_gravity()


@pytest.mark.parametrize("kwargs, message", [
    ({"data": "missing.jsonl"}, "does not exist"),
    ({"epochs": 0}, "epochs must be a positive integer"),
    ({"layers": "1-x"}, "Cannot read layers"),
    ({"test_size": 1.5}, "test_size must be a fraction"),
    ({"test": [{"text": "a b", "targets": [{"span1": [0, 1], "label": "X"}]}]}, "mix one-span and two-span"),
])
def test_bad_input_fails_before_the_model_loads(kwargs, message):
    arguments = {"data": FIXTURES / "edges_sample.jsonl", **kwargs}
    with pytest.raises(InputError, match=message):
        edge_probe("no-such-model-anywhere", progress=False, **arguments)
