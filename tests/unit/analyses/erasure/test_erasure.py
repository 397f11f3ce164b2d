"""``erase`` on features and on a model, the Erasure result, and where the eraser acts inside the forward pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bertology as bt
from bertology.analyses.erasure.erasure import Erasure, erase, random_basis
from bertology.core.data.dataset import ProbeDataset
from bertology.core.errors import InputError
from bertology.core.extraction.features import layer_features

NOUNS = ["boy", "girl", "doctor", "nurse", "teacher", "student", "woman", "man"]
PLACES = ["here", "there", "in the hospital", "in the city", "at the bank"]


def number_dataset(n: int = 80) -> ProbeDataset:
    """Singular vs plural subjects: 'the boy is here' / 'the boys are here'."""
    texts, labels = [], []
    for i in range(n):
        noun, place, plural = NOUNS[i % len(NOUNS)], PLACES[(i // len(NOUNS)) % len(PLACES)], i % 2
        texts.append(f"the {noun}{'s' * plural} {'are' if plural else 'is'} {place}")
        labels.append(plural)
    return ProbeDataset(texts, np.array(labels), ["singular", "plural"], name="number")


def _features(seed: int = 0, n: int = 400) -> tuple[dict[int, np.ndarray], ProbeDataset]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 16)) + 2.0 * rng.normal(size=(3, 16))[labels]
    return {4: x.astype(np.float32)}, ProbeDataset([f"s{i}" for i in range(n)], labels, ["a", "b", "c"], name="toy")


@pytest.mark.parametrize("method", ["leace", "inlp"])
def test_erased_probe_at_majority_and_random_control_not(method):
    features, data = _features()
    er = erase(features, data, layer=4, method=method, controls=3)
    table = er.to_frame().groupby("condition")["accuracy"].mean()
    majority = er.to_frame()["majority"].iloc[0]
    assert table["original"] > 0.9
    assert table["erased"] <= majority + 0.08
    assert table["random"] > 0.85
    assert er.rank == (2 if method == "leace" else er.rank) and er.rank >= 2
    assert len(er.to_frame()) == 5


def test_save_load_round_trip(tmp_path):
    features, data = _features()
    er = erase(features, data, layer=4, method="inlp", controls=1)
    back = Erasure.load(er.save(tmp_path / "e"))
    x = features[4][:10]
    assert np.allclose(back.transform(x), er.transform(x))
    assert back.meta["inlp_accuracies"] == er.meta["inlp_accuracies"]


def test_edit_matches_transform_and_inlp_runs_as_project_out():
    features, data = _features()
    x = torch.from_numpy(features[4][:5]).double()
    for method in ("leace", "inlp"):
        er = erase(features, data, layer=4, method=method, controls=1)
        assert np.allclose(er.edit()(x).numpy(), er.transform(x.numpy()))
    projected = bt.project_out(er.basis().T).apply(x.float(), "layers.0.resid_post")
    assert np.allclose(projected.numpy(), er.transform(x.numpy()), atol=1e-5)


def test_random_basis_is_seeded():
    assert np.allclose(random_basis(8, 3, 1), random_basis(8, 3, 1))
    assert not np.allclose(random_basis(8, 3, 1), random_basis(8, 3, 2))


@pytest.mark.parametrize("layer", [0, 2])
def test_the_eraser_acts_on_the_hidden_state_it_was_fitted_on(tiny_model, layer):
    """Features recorded with the eraser inside the forward pass equal the erased features; earlier ones are untouched."""
    m = tiny_model("bert")
    data = number_dataset()
    er = erase(m, data, layer=layer, method="leace", pool="mean", controls=1, progress=False)
    chosen = sorted({max(layer - 1, 0), layer, m.num_layers})
    plain, _ = layer_features(m, data, layers=chosen, pool="mean", progress=False)
    with bt.intervene(m, {er.hook_name(m.num_layers): er.edit()}):
        edited, _ = layer_features(m, data, layers=chosen, pool="mean", progress=False)
    assert np.allclose(edited[layer], er.transform(plain[layer]), atol=1e-3)
    if layer > 0:
        assert np.allclose(edited[layer - 1], plain[layer - 1])
    assert not np.allclose(edited[m.num_layers], plain[m.num_layers], atol=1e-3)


def test_bad_input():
    features, data = _features()
    with pytest.raises(InputError, match="method"):
        erase(features, data, layer=4, method="pca")
    with pytest.raises(InputError, match="controls"):
        erase(features, data, layer=4, controls=0)
    one_class = ProbeDataset(["a", "b"], np.array([0, 0]), ["x"])
    with pytest.raises(InputError, match="single class"):
        erase({1: np.zeros((2, 3))}, one_class, layer=1)
    with pytest.raises(InputError, match="Layers"):
        erase(features, data, layer=3)
