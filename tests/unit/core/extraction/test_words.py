"""word_vectors: every word of a sentence from one forward pass, aligned by offsets, stored ragged, truncated safely."""

from __future__ import annotations

import gc
import logging
import tempfile

import numpy as np
import pytest
import torch

import bertology as bt
from bertology.core.data import load_conllu
from bertology.core.errors import InputError, StoreError
from bertology.core.extraction import WordVectors, word_vectors
from bertology.core.paths import SHIPPED_DIR

FIXTURE = SHIPPED_DIR / "ud_sample.conllu"
EXTRA = [["Unbelievably", ",", "antidisestablishmentarianism", "persists", "."],
         ["naïve", "café", "owners", "re-opened", "yesterday", "!"]]


def reference_vectors(model, words, layers, pool, keep=None):
    """Word vectors computed independently: the model's own forward pass, pieces found by the tokenizer's offsets.

    Returns ``{layer: (n_words_that_fit, hidden)}``.
    """
    text = " ".join(words)
    encoding = model.tokenizer(text, return_offsets_mapping=True, return_special_tokens_mask=True,
                               return_tensors="pt")
    offsets = encoding.pop("offset_mapping")[0].tolist()
    special = encoding.pop("special_tokens_mask")[0].tolist()
    ids = encoding["input_ids"]
    if keep is not None:
        ids = torch.cat([ids[:, :keep - 1], ids[:, -1:]], dim=1)
        offsets, special = offsets[:keep - 1] + offsets[-1:], special[:keep - 1] + special[-1:]
    with torch.no_grad():
        hidden = model.model(input_ids=ids, attention_mask=torch.ones_like(ids),
                             output_hidden_states=True).hidden_states
    pieces_per_word, start = [], 0
    for word in words:
        end = start + len(word)
        pieces = [t for t, (a, b) in enumerate(offsets) if not special[t] and a < end and b > start]
        if not pieces or (keep is not None and offsets[pieces[-1]][1] < end):
            break
        pieces_per_word.append(pieces)
        start = end + 1
    return {layer: np.array([hidden[layer][0, pieces].mean(0).numpy() if pool == "word_mean"
                             else hidden[layer][0, pieces[0]].numpy() for pieces in pieces_per_word])
            for layer in layers}


@pytest.fixture
def count_passes(monkeypatch):
    def install(model):
        calls = []
        original = type(model).__call__

        def counted(self, *args, **kwargs):
            calls.append(int(kwargs["input_ids"].shape[0]))
            return original(self, *args, **kwargs)

        monkeypatch.setattr(type(model), "__call__", counted)
        return calls

    return install


def test_every_word_equals_its_pieces_from_the_models_own_forward_pass(tiny_model, arch):
    model = tiny_model(arch)
    sentences = [s.words for s in load_conllu(FIXTURE)] + EXTRA
    layers = [0, model.num_layers]
    for pool in ("word_mean", "word_first"):
        wv = word_vectors(model, sentences, layers=layers, pool=pool, batch_size=3, progress=False)
        assert wv.offsets.tolist() == np.concatenate([[0], np.cumsum([len(s) for s in sentences])]).tolist()
        assert not wv.truncated.any() and wv.layers == layers and wv.layer(layers[1]).dtype == np.float32
        for index, words in enumerate(sentences):
            reference = reference_vectors(model, words, layers, pool)
            for layer in layers:
                np.testing.assert_allclose(wv.sentence(index, layer), reference[layer], rtol=1e-4, atol=1e-5)


def test_multi_piece_words_differ_between_mean_and_first(tiny_model):
    model = tiny_model("roberta")
    mean = word_vectors(model, EXTRA, layers=[1], pool="word_mean", progress=False)
    first = word_vectors(model, EXTRA, layers=[1], pool="word_first", progress=False)
    assert not np.allclose(mean.sentence(0, 1)[2], first.sentence(0, 1)[2])


def test_one_forward_pass_per_sentence_batched_by_length(tiny_model, count_passes):
    model = tiny_model("bert")
    ud = load_conllu(FIXTURE)
    calls = count_passes(model)
    wv = word_vectors(model, ud, layers="all", batch_size=4, progress=False)
    assert calls == [4, 2] and len(wv) == len(ud) and wv.layer(0).shape == (ud.n_words, model.hidden_size)


def test_repeated_sentences_share_a_pass_and_keep_their_rows(tiny_model, count_passes):
    model = tiny_model("bert")
    sentences = [EXTRA[0], EXTRA[1], EXTRA[0]]
    calls = count_passes(model)
    wv = word_vectors(model, sentences, layers=[2], progress=False)
    assert calls == [2]
    np.testing.assert_array_equal(wv.sentence(0, 2), wv.sentence(2, 2))


def test_long_sentence_keeps_the_words_that_fit_and_warns(tiny_model, caplog):
    model = tiny_model("bert")
    long = [f"w{i}" for i in range(model.max_length)] + ["end", "."]
    sentences = [EXTRA[0], long, EXTRA[1]]
    with caplog.at_level(logging.WARNING):
        wv = word_vectors(model, sentences, layers=[0, 3], progress=False)
    assert wv.truncated.tolist() == [False, True, False]
    kept = int(wv.lengths[1])
    assert 0 < kept < len(long) and wv.lengths[[0, 2]].tolist() == [5, 6]
    assert "1 of 3 sentences are longer than the model's" in caplog.text
    reference = reference_vectors(model, long, [3], "word_mean", keep=model.max_length)[3]
    assert len(reference) == kept
    np.testing.assert_allclose(wv.sentence(1, 3), reference, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(wv.sentence(2, 3), reference_vectors(model, EXTRA[1], [3], "word_mean")[3],
                               rtol=1e-4, atol=1e-5)


def test_stored_word_vectors_reload_and_resume_without_passes(tiny_model, tmp_path, count_passes):
    model = tiny_model("bert")
    ud = load_conllu(FIXTURE)
    wv = word_vectors(model, ud, layers=[1, 2], out=tmp_path / "wv", progress=False)
    assert isinstance(wv.layer(1), np.memmap)
    loaded = WordVectors.load(tmp_path / "wv")
    assert loaded.offsets.tolist() == wv.offsets.tolist() and loaded.truncated.tolist() == wv.truncated.tolist()
    np.testing.assert_array_equal(loaded.sentence(3, 2), wv.sentence(3, 2))
    calls = count_passes(model)
    again = word_vectors(model, ud, layers=[1, 2], out=tmp_path / "wv", progress=False)
    assert calls == [] and again.offsets.tolist() == wv.offsets.tolist()
    with pytest.raises(StoreError, match="different request"):
        word_vectors(model, ud, layers=[1], out=tmp_path / "wv", progress=False)


def test_load_refuses_a_plain_activation_store(tiny_model, tmp_path):
    bt.extract(tiny_model("bert"), ["a text"], layers=[1], out=tmp_path / "s", progress=False)
    with pytest.raises(StoreError, match="not word vectors"):
        WordVectors.load(tmp_path / "s")


def test_temporary_word_vectors_are_removed_when_no_longer_referenced(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    wv = word_vectors(tiny_model("bert"), EXTRA, layers=[1], progress=False)
    values = np.array(wv.layer(1))
    assert list(tmp_path.glob("bertology-store-*"))
    del wv
    gc.collect()
    assert not list(tmp_path.glob("bertology-store-*")) and values.shape == (11, 32)


@pytest.mark.parametrize("sentences, kwargs, message", [
    ([], {}, "non-empty Treebank or list of word lists"),
    ("Dogs bark", {}, "non-empty Treebank or list of word lists"),
    (["Dogs bark"], {}, "Sentence 0 is 'Dogs bark', not a non-empty list of words"),
    ([["Dogs", "big dog"]], {}, "Sentence 0, word 1 is 'big dog'"),
    ([["Dogs", ""]], {}, "Sentence 0, word 1 is ''"),
    ([["Dogs"]], {"pool": "cls"}, "pool must be 'word_mean' or 'word_first'"),
    ([["Dogs"]], {"pool": "nope"}, "Unknown pooling"),
    ([["Dogs"]], {"batch_size": 0}, "batch_size must be an integer of at least 1"),
    ([["Dogs"]], {"layers": "1-x"}, "Cannot read layers"),
    ([["Dogs"]], {"out": ""}, "output directory is empty"),
])
def test_bad_input_is_refused_before_the_model_loads(sentences, kwargs, message):
    with pytest.raises(InputError, match=message):
        word_vectors("no/such-model", sentences, progress=False, **kwargs)


def test_a_word_without_pieces_is_an_error_not_a_shift(minilm):
    with pytest.raises(InputError, match=r"Sentence 1, word 1 \('\\u200b'\) produces no word-pieces"):
        word_vectors(minilm, [["fine"], ["a", "\u200b", "b"]], layers=[0], progress=False)
    with pytest.raises(InputError, match=r"Sentence 0, word 2 \('\\u200b'\) produces no word-pieces"):
        word_vectors(minilm, [["a", "b", "\u200b"]], layers=[0], progress=False)


def test_word_vectors_from_sentences_and_checks():
    wv = WordVectors.from_sentences({2: [np.ones((2, 4)), np.zeros((1, 4))], 0: [np.ones((2, 4)), np.ones((1, 4))]},
                                    truncated=[False, True])
    assert wv.layers == [0, 2] and wv.lengths.tolist() == [2, 1] and wv.truncated.tolist() == [False, True]
    assert wv.sentence(1, 2).tolist() == [[0, 0, 0, 0]]
    with pytest.raises(InputError, match="Layer 5 is not in these word vectors"):
        wv.layer(5)
    with pytest.raises(InputError, match="other sentence lengths"):
        WordVectors.from_sentences({0: [np.ones((2, 4))], 1: [np.ones((3, 4))]})
    with pytest.raises(InputError, match="one flag per sentence"):
        WordVectors(np.array([0, 2]), [0], np.array([False, True]), {0: np.ones((2, 4))})
    with pytest.raises(InputError, match="non-decreasing row offsets"):
        WordVectors(np.array([0, 3, 2]), [0], np.array([False, False]), {0: np.ones((3, 4))})
