"""Attention explanations equal hand computations from the model's own attention probabilities."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bertology as bt
from bertology.analyses.attribution.attention_methods import attention_values
from bertology.analyses.attribution.words import tokenize_words
from bertology.core.errors import InputError
from bertology.core.hooks import trace
from tests.unit.analyses.attribution.toys import toy_classifier

TEXT = "the film was unbelievably great"


def hf_attentions(clf, text):
    """``(layers, heads, seq, seq)`` from Hugging Face's own ``output_attentions`` (eager attention)."""
    model = clf.network.hf_model
    ids = torch.tensor([clf.tokenizer(text)["input_ids"]])
    previous = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            out = model(input_ids=ids, attention_mask=torch.ones_like(ids), output_attentions=True)
    finally:
        model.set_attn_implementation(previous)
    return np.stack([a[0].double().numpy() for a in out.attentions])


def check_words(result):
    words = np.asarray(result.token_words)
    scores = np.asarray(result.token_scores)
    np.testing.assert_allclose(result.word_scores, [scores[words == w].sum() for w in range(len(result.words))])


def test_cls_attention_is_the_last_layer_head_mean(clf):
    result = bt.attribute(clf, TEXT, method="attention", target="positive")
    attentions = hf_attentions(clf, TEXT)
    np.testing.assert_allclose(result.token_scores, attentions[-1].mean(axis=0)[0], atol=1e-6)
    first = bt.attribute(clf, TEXT, method="attention", layer=0)
    np.testing.assert_allclose(first.token_scores, attentions[0].mean(axis=0)[0], atol=1e-6)
    check_words(result)
    assert sum(result.token_scores) == pytest.approx(1.0, abs=1e-6) and result.delta is None


def test_rollout_equals_the_hand_product(clf):
    result = bt.attribute(clf, TEXT, method="rollout", target="positive")
    attentions = hf_attentions(clf, TEXT)
    n = attentions.shape[-1]
    rollout = np.eye(n)
    for layer in attentions:
        a = 0.5 * layer.mean(axis=0) + 0.5 * np.eye(n)
        rollout = (a / a.sum(axis=1, keepdims=True)) @ rollout
    np.testing.assert_allclose(result.token_scores, rollout[0], atol=1e-6)
    check_words(result)
    raw = bt.attribute(clf, TEXT, method="rollout", residual=False)
    plain = np.linalg.multi_dot([layer.mean(axis=0) for layer in attentions[::-1]])
    np.testing.assert_allclose(raw.token_scores, plain[0], atol=1e-6)


def test_attention_needs_a_transformer(clf, minilm):
    with pytest.raises(InputError, match="out of range"):
        bt.attribute(clf, TEXT, method="attention", layer=9)
    toy = toy_classifier(minilm.tokenizer, {"great": 1.0})
    with pytest.raises(InputError, match="no encoder"):
        bt.attribute(toy, "great", method="rollout")
    assert tokenize_words(toy, "great").words == ["great"]


def authors_flow(attentions):
    """Abnar & Zuidema's ``get_adjmat`` + ``compute_flows``: max-flow from the top [CLS] node to each input node."""
    import networkx as nx

    n_layers, _, n, _ = attentions.shape
    mixed = attentions.mean(axis=1) + np.eye(n)
    mixed = mixed / mixed.sum(axis=-1, keepdims=True)
    adj = np.zeros(((n_layers + 1) * n, (n_layers + 1) * n))
    for i in range(1, n_layers + 1):
        for k_f in range(n):
            for k_t in range(n):
                adj[i * n + k_f, (i - 1) * n + k_t] = mixed[i - 1, k_f, k_t]
    graph = nx.from_numpy_array(adj, create_using=nx.DiGraph(), edge_attr="capacity")
    flows = np.array([nx.maximum_flow_value(graph, n_layers * n, v, flow_func=nx.algorithms.flow.edmonds_karp)
                      for v in range(n)])
    return flows / flows.sum()


def test_attention_flow_equals_the_authors_max_flow(clf):
    result = bt.attribute(clf, TEXT, method="attention_flow", target="positive")
    attentions = hf_attentions(clf, TEXT)
    np.testing.assert_allclose(result.token_scores, authors_flow(attentions), atol=1e-6)
    check_words(result)
    assert sum(result.token_scores) == pytest.approx(1.0) and result.parameters["residual"] is True
    rollout = bt.attribute(clf, TEXT, method="rollout", target="positive")
    assert not np.allclose(result.token_scores, rollout.token_scores, atol=1e-3)


def hand_norm(clf, text, layer):
    """‖Σ_h α_h[CLS, j] (x_j W_V,h + b_V,h) W_O,h‖ from the layer's input and its weights, in numpy."""
    model = clf.network.hf_model
    ids = torch.tensor([clf.tokenizer(text)["input_ids"]])
    with torch.no_grad():
        states = model(input_ids=ids, attention_mask=torch.ones_like(ids), output_hidden_states=True).hidden_states
    x = states[layer][0].double().numpy()
    attention = model.base_model.encoder.layer[layer].attention
    heads = model.config.num_attention_heads
    w_v = attention.self.value.weight.detach().double().numpy()
    b_v = attention.self.value.bias.detach().double().numpy()
    w_o = attention.output.dense.weight.detach().double().numpy()
    d_head = w_v.shape[0] // heads
    alpha = hf_attentions(clf, text)[layer]
    total = 0
    for h in range(heads):
        part = slice(h * d_head, (h + 1) * d_head)
        f = (x @ w_v[part].T + b_v[part]) @ w_o[:, part].T
        total = total + alpha[h, 0][:, None] * f
    return np.linalg.norm(total, axis=-1)


def test_norm_attention_equals_the_hand_computation(clf):
    result = bt.attribute(clf, TEXT, method="norm", target="positive")
    np.testing.assert_allclose(result.token_scores, hand_norm(clf, TEXT, 2), rtol=1e-5)
    check_words(result)
    first = bt.attribute(clf, TEXT, method="norm", layer=0)
    np.testing.assert_allclose(first.token_scores, hand_norm(clf, TEXT, 0), rtol=1e-5)


def test_value_vectors_are_read_for_every_architecture(arch, tiny_model):
    model = tiny_model(arch, "classifier")
    clf = bt.Classifier.from_pretrained(model)
    tokenized = tokenize_words(clf, "the film was great")
    patterns, values, states = attention_values(clf, tokenized, hidden=True)
    hf = model.model
    layers = hf.config.num_hidden_layers
    heads = hf.config.num_attention_heads
    n = len(tokenized.input_ids)
    assert patterns.shape == (layers, heads, n, n) and values.shape[:3] == (layers, heads, n)
    assert states.shape == (layers, n, hf.config.hidden_size)
    context = torch.einsum("lhij,lhjd->lihd", patterns.float(), values.float())
    names = [f"layers.{i}.attn.heads" for i in range(layers)]
    ids = torch.tensor([tokenized.input_ids])
    with torch.no_grad(), trace(model, names) as cache:
        model(input_ids=ids, attention_mask=torch.ones_like(ids))
    np.testing.assert_allclose(context.numpy(), torch.stack([cache[name][0] for name in names]).numpy(), atol=1e-5)


def authors_value_zeroing(clf, text):
    """Mohebbi et al.'s procedure: per layer and token, rerun the layer on its original input with that token's
    value vectors zeroed; cosine distances of the outputs, row-normalised, rolled out without residual."""
    model = clf.network.hf_model
    ids = torch.tensor([clf.tokenizer(text)["input_ids"]])
    with torch.no_grad():
        states = model(input_ids=ids, attention_mask=torch.ones_like(ids), output_hidden_states=True).hidden_states
    n = ids.shape[1]
    scores = np.zeros((len(states) - 1, n, n))
    for layer, module in enumerate(model.base_model.encoder.layer):
        for t in range(n):
            def zero(_module, _args, output, t=t):
                output = output.clone()
                output[:, t] = 0
                return output

            handle = module.attention.self.value.register_forward_hook(zero)
            try:
                with torch.no_grad():
                    out = module(states[layer])[0].double().numpy()
            finally:
                handle.remove()
            original = states[layer + 1][0].double().numpy()
            cosine = (out * original).sum(-1) / np.linalg.norm(out, axis=-1) / np.linalg.norm(original, axis=-1)
            scores[layer, :, t] = 1 - cosine
    scores = scores / scores.sum(axis=-1, keepdims=True)
    joint = scores[0]
    for layer in scores[1:]:
        joint = layer @ joint
    return joint[0]


def test_value_zeroing_equals_the_authors_procedure(clf):
    result = bt.attribute(clf, TEXT, method="value_zeroing", target="positive")
    np.testing.assert_allclose(result.token_scores, authors_value_zeroing(clf, TEXT), rtol=1e-4, atol=1e-7)
    check_words(result)
    assert sum(result.token_scores) == pytest.approx(1.0)
