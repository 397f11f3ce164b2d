"""Gate-gradient head importance against weight-gradient surgery, HF's MLM loss and the reference normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bertology as bt
from bertology.analyses.heads import Objective, head_importance, normalize_importance
from bertology.core.errors import InputError

TEXTS = ["the film was great .", "a terrible , boring mess .", "I loved it !", "it was not good at all ."]
LABELS = [1, 0, 1, 0]


@pytest.fixture(scope="module")
def classifier(tiny_model):
    return bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))


def _per_example_weight_gradients(clf: bt.Classifier, loaded: bt.LoadedModel) -> tuple[np.ndarray, int]:
    """Σ_x |∂L_x/∂ξ| from the output projections' weight gradients, one example at a time (no hooks).

    Scaling head h's input slice by ξ is scaling the weight columns of that slice, so
    ∂L/∂ξ_h = Σ (∂L/∂W ⊙ W) over the slice's columns.
    """
    d_head = loaded.hidden_size // loaded.num_heads
    dense = [layer.attention.output.dense for layer in loaded.model.base_model.encoder.layer]
    total, tokens = np.zeros((loaded.num_layers, loaded.num_heads)), 0
    for text, label in zip(TEXTS, LABELS):
        ids = torch.tensor([clf.encode([text])[0]])
        loaded.model.zero_grad()
        loss = torch.nn.functional.cross_entropy(clf(ids, torch.ones_like(ids)), torch.tensor([label]))
        loss.backward()
        for layer, module in enumerate(dense):
            product = (module.weight.grad * module.weight).detach()
            total[layer] += np.abs(product.view(-1, loaded.num_heads, d_head).sum((0, 2)).numpy())
        tokens += ids.shape[1]
    loaded.model.zero_grad()
    return total, tokens


def test_raw_importance_equals_per_example_weight_gradients(classifier, tiny_model):
    loaded = tiny_model("bert", "classifier")
    expected, tokens = _per_example_weight_gradients(classifier, loaded)
    imp = head_importance(classifier, TEXTS, labels=LABELS, batch_size=3, normalize_layers=False, progress=False)
    assert imp.meta["n_tokens"] == tokens
    np.testing.assert_allclose(imp.matrix("raw"), expected / tokens, rtol=2e-3, atol=1e-12)
    np.testing.assert_allclose(imp.matrix(), imp.matrix("raw"))
    assert all(p.grad is None or not p.grad.abs().sum() for p in loaded.model.parameters())


def test_token_gates_bound_example_gates_from_above(classifier):
    example = head_importance(classifier, TEXTS, labels=LABELS, normalize_layers=False, progress=False)
    token = head_importance(classifier, TEXTS, labels=LABELS, per="token", normalize_layers=False, progress=False)
    assert np.all(token.matrix("raw") >= example.matrix("raw") * (1 - 1e-5))
    assert np.any(token.matrix("raw") > example.matrix("raw") * 1.01)


def test_label_names_and_a_dataset_give_the_same_scores(classifier):
    by_index = head_importance(classifier, TEXTS, labels=LABELS, progress=False)
    by_name = head_importance(classifier, TEXTS, labels=["positive" if y else "negative" for y in LABELS],
                              progress=False)
    data = bt.data.ProbeDataset(TEXTS, np.array(LABELS), ["negative", "positive"])
    from_data = head_importance(classifier, data, progress=False)
    np.testing.assert_allclose(by_name.matrix(), by_index.matrix())
    np.testing.assert_allclose(from_data.matrix(), by_index.matrix())


def test_normalisation_equals_run_bertology_formula():
    raw = np.random.default_rng(0).random((4, 6)) * 1e-3
    reference = torch.tensor(raw)
    exponent = 2
    norm_by_layer = torch.pow(torch.pow(reference, exponent).sum(-1), 1 / exponent)
    reference = reference / (norm_by_layer.unsqueeze(-1) + 1e-20)
    np.testing.assert_allclose(normalize_importance(raw), reference.numpy(), rtol=1e-12)
    reference = (reference - reference.min()) / (reference.max() - reference.min())
    np.testing.assert_allclose(normalize_importance(raw, global_minmax=True), reference.numpy(), rtol=1e-12)
    np.testing.assert_allclose(normalize_importance(raw, by_layer=False), raw)


def test_mlm_loss_equals_hugging_faces_masked_lm_loss(tiny_model):
    model = tiny_model("roberta", "mlm")
    objective = Objective(model, TEXTS, "mlm", batch_size=4, mask_prob=0.3, seed=1)
    (batch,) = objective.batches
    with torch.no_grad():
        losses, _ = objective.run(batch)
        for row in range(len(batch.rows)):
            keep = batch.inputs["attention_mask"][row].bool()
            inputs = {key: value[row:row + 1, keep] for key, value in batch.inputs.items()}
            expected = model.model(**inputs, labels=batch.targets[row:row + 1, keep]).loss
            torch.testing.assert_close(losses[row], expected, rtol=1e-5, atol=1e-6)


def test_callable_loss_matches_the_built_in_classifier_loss(classifier, tiny_model):
    loaded = tiny_model("bert", "classifier")
    index = {text: label for text, label in zip(TEXTS, LABELS)}

    def loss(texts):
        batch = classifier.tokenizer(texts, return_tensors="pt", padding=True)
        logits = classifier(batch["input_ids"], batch["attention_mask"])
        return torch.nn.functional.cross_entropy(logits, torch.tensor([index[t] for t in texts]), reduction="none")

    built_in = head_importance(classifier, TEXTS, labels=LABELS, batch_size=4, progress=False)
    custom = head_importance(loaded, TEXTS, loss=loss, batch_size=4, progress=False)
    np.testing.assert_allclose(custom.matrix(), built_in.matrix(), rtol=1e-4)


@pytest.mark.parametrize("kwargs, message", [
    (dict(loss="perplexity"), "not a head-importance loss"),
    (dict(loss="mlm"), "masked-LM head"),
    (dict(labels=["neutral"] * 4), "Unknown target label"),
    (dict(per="word"), "per='word'"),
    (dict(labels=[1]), "1 labels for 4 sentences"),
    (dict(batch_size=0), "at least 1"),
])
def test_bad_arguments(classifier, kwargs, message):
    with pytest.raises(InputError, match=message):
        head_importance(classifier, TEXTS, **{"labels": LABELS, **kwargs}, progress=False)


def test_a_plain_encoder_is_not_a_classifier(tiny_model):
    with pytest.raises(InputError, match="needs a Classifier"):
        head_importance(tiny_model("bert"), TEXTS, loss="classifier", progress=False)


def test_a_fine_tuned_classifier_model_equals_its_classifier_wrapper(classifier, tiny_model):
    wrapped = head_importance(classifier, TEXTS, labels=LABELS, progress=False)
    direct = head_importance(tiny_model("bert", "classifier"), TEXTS, labels=["POSITIVE" if y else "negative"
                                                                             for y in LABELS], progress=False)
    np.testing.assert_allclose(direct.matrix(), wrapped.matrix(), rtol=1e-5)


def _suite_contrast(loaded: bt.LoadedModel, texts: list[str], labels) -> torch.Tensor:
    """−log softmax over each item's candidates of the correct one, from the full-vocabulary logits of one padded batch."""
    tokenizer = loaded.tokenizer
    batch = tokenizer([t.replace("[MASK]", tokenizer.mask_token) for t in texts], return_tensors="pt", padding=True)
    rows, positions = (batch["input_ids"] == tokenizer.mask_token_id).nonzero(as_tuple=True)
    log_probs = torch.log_softmax(loaded.model(**batch).logits[rows, positions].float(), dim=-1)
    losses = []
    for row, words in enumerate(labels):
        ids = [tokenizer.encode(" " + word, add_special_tokens=False)[0] for word in words]
        losses.append(-torch.log_softmax(log_probs[row, ids], dim=0)[0])
    return torch.stack(losses)


def test_cloze_loss_is_the_suites_contrast_and_its_accuracy(context_mlm):
    from bertology.analyses.cloze import run_suite
    from bertology.analyses.heads import texts_and_labels

    mlm = context_mlm("bert")
    texts, labels = texts_and_labels("agreement", None, loss="cloze")
    objective = Objective(mlm, texts, "cloze", labels, batch_size=7)
    with torch.inference_mode():
        runs = [objective.run(batch) for batch in objective.batches]
        losses = torch.cat([loss for loss, _ in runs])[np.argsort(np.concatenate([b.rows for b in objective.batches]))]
        expected = _suite_contrast(mlm, texts, labels)
    torch.testing.assert_close(losses, expected, rtol=1e-4, atol=1e-5)
    assert losses.std() > 0.1
    accuracy = float(torch.cat([hit for _, hit in runs]).mean())
    assert accuracy == pytest.approx(run_suite(mlm, "agreement", progress=False).items["accuracy"].mean())


def test_cloze_importance_equals_the_same_contrast_as_a_callable(context_mlm):
    mlm = context_mlm("bert")
    built_in = head_importance(mlm, "agreement", loss="cloze", normalize_layers=False, progress=False)
    from bertology.analyses.heads import texts_and_labels

    texts, labels = texts_and_labels("agreement", None, loss="cloze")
    by_text = dict(zip(texts, labels))
    callable_ = head_importance(mlm, texts, loss=lambda batch: _suite_contrast(mlm, batch, [by_text[t] for t in batch]),
                                normalize_layers=False, progress=False)
    np.testing.assert_allclose(built_in.matrix("raw") * built_in.meta["n_tokens"],
                               callable_.matrix("raw") * callable_.meta["n_tokens"], rtol=1e-3, atol=1e-6)


def test_cloze_loss_needs_a_choice_suite_and_an_mlm(context_mlm, tiny_model):
    with pytest.raises(InputError, match="bias suite"):
        head_importance(context_mlm("bert"), "gender-occupation", loss="cloze", progress=False)
    with pytest.raises(InputError, match="masked-LM head"):
        head_importance(tiny_model("bert"), "agreement", loss="cloze", progress=False)
