"""Attention explanations equal hand computations from the model's own attention probabilities."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bertology as bt
from bertology.analyses.attribution.attention_methods import attention_values, value_zeroing
from bertology.analyses.attribution.words import tokenize_input, tokenize_words
from bertology.core.errors import InputError
from bertology.core.hooks import intervene, trace
from tests.unit.analyses.attribution.toys import toy_classifier

TEXT = "the film was unbelievably great"
PAIR = ("the man played a film", "people loved it")


def encoded(clf, text, segments=True):
    """The model's keyword inputs for a text or a ``(first, second)`` pair; a pair's segment ids unless
    ``segments=False``."""
    enc = clf.tokenizer(*text) if isinstance(text, tuple) else clf.tokenizer(text)
    ids = torch.tensor([enc["input_ids"]])
    kwargs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if isinstance(text, tuple) and segments:
        kwargs["token_type_ids"] = torch.tensor([enc["token_type_ids"]])
    return kwargs


def hf_attentions(clf, text, segments=True):
    """``(layers, heads, seq, seq)`` from Hugging Face's own ``output_attentions`` (eager attention)."""
    model = clf.network.hf_model
    previous = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            out = model(**encoded(clf, text, segments), output_attentions=True)
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


def hand_norm(clf, text, layer, segments=True):
    """‖Σ_h α_h[CLS, j] (x_j W_V,h + b_V,h) W_O,h‖ from the layer's input and its weights, in numpy."""
    model = clf.network.hf_model
    with torch.no_grad():
        states = model(**encoded(clf, text, segments), output_hidden_states=True).hidden_states
    x = states[layer][0].double().numpy()
    attention = model.base_model.encoder.layer[layer].attention
    heads = model.config.num_attention_heads
    w_v = attention.self.value.weight.detach().double().numpy()
    b_v = attention.self.value.bias.detach().double().numpy()
    w_o = attention.output.dense.weight.detach().double().numpy()
    d_head = w_v.shape[0] // heads
    alpha = hf_attentions(clf, text, segments)[layer]
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


def authors_value_zeroing(clf, text, segments=True):
    """Mohebbi et al.'s procedure: per layer and token, rerun the layer on its original input with that token's
    value vectors zeroed; cosine distances of the outputs, row-normalised, rolled out without residual."""
    model = clf.network.hf_model
    inputs = encoded(clf, text, segments)
    with torch.no_grad():
        states = model(**inputs, output_hidden_states=True).hidden_states
    n = inputs["input_ids"].shape[1]
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


def hand_rollout(attentions):
    n = attentions.shape[-1]
    joint = np.eye(n)
    for layer in attentions:
        a = 0.5 * layer.mean(axis=0) + 0.5 * np.eye(n)
        joint = (a / a.sum(axis=1, keepdims=True)) @ joint
    return joint[0]


PAIR_HAND = {
    "attention": lambda clf, segments: hf_attentions(clf, PAIR, segments)[-1].mean(axis=0)[0],
    "rollout": lambda clf, segments: hand_rollout(hf_attentions(clf, PAIR, segments)),
    "attention_flow": lambda clf, segments: authors_flow(hf_attentions(clf, PAIR, segments)),
    "norm": lambda clf, segments: hand_norm(clf, PAIR, 2, segments),
    "value_zeroing": lambda clf, segments: authors_value_zeroing(clf, PAIR, segments),
}


@pytest.fixture(scope="module", params=["head", "regression"])
def pair_clf(request, tiny_model, tiny_model_dir):
    """A tiny BERT's head, and a regressor with larger weights whose attention visibly follows the segment ids."""
    if request.param == "head":
        return bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))
    return bt.Classifier.from_pretrained(str(tiny_model_dir("bert", "regression")))


@pytest.mark.parametrize("method", sorted(PAIR_HAND))
def test_attention_methods_pass_a_pairs_segment_ids(pair_clf, method):
    result = bt.attribute(pair_clf, PAIR, method=method)
    with_segments, without = PAIR_HAND[method](pair_clf, True), PAIR_HAND[method](pair_clf, False)
    np.testing.assert_allclose(result.token_scores, with_segments, rtol=1e-4, atol=1e-7)
    assert not np.allclose(result.token_scores, without, rtol=1e-4, atol=1e-7)
    check_words(result)


def full_copies_value_zeroing(clf, tokenized):
    """Value zeroing with ``n`` whole copies of the text through every layer up to the zeroed one."""
    model = clf.network.hf_model
    patterns, values, states = attention_values(clf, tokenized, hidden=True)
    n_layers, _, n, _ = patterns.shape
    ids = torch.tensor([tokenized.input_ids] * n)
    types = {} if tokenized.token_type_ids is None else {"token_type_ids": torch.tensor([tokenized.token_type_ids] * n)}
    mixing = np.zeros((n_layers, n, n))
    for layer in range(n_layers):
        removed = torch.einsum("hij,hjd->jihd", patterns[layer], values[layer])
        name = f"layers.{layer}.resid_post"
        with torch.inference_mode(), intervene(model, {f"layers.{layer}.attn.heads": lambda h, r=removed: h - r}), \
                trace(model, [name], stop=True) as cache:
            model(input_ids=ids, attention_mask=torch.ones_like(ids), **types)
        out, original = cache[name].double().numpy(), states[layer].double().numpy()[None]
        cosine = (out * original).sum(-1) / np.linalg.norm(out, axis=-1) / np.linalg.norm(original, axis=-1)
        mixing[layer] = (1 - cosine).T
    mixing = mixing / mixing.sum(axis=-1, keepdims=True)
    joint = mixing[0]
    for layer in mixing[1:]:
        joint = layer @ joint
    return joint[0]


@pytest.mark.parametrize("text", ["the film was great", ("a man plays", "someone makes music")])
def test_value_zeroing_runs_the_lower_layers_once_on_every_architecture(arch, tiny_model, text):
    clf = bt.Classifier.from_pretrained(tiny_model(arch, "classifier"))
    tokenized = tokenize_input(clf, text)
    result = value_zeroing(clf, tokenized, 0)
    np.testing.assert_allclose(result.token_scores, full_copies_value_zeroing(clf, tokenized), atol=2e-6)
