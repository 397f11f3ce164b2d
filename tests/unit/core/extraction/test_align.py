"""Word alignment (CoarseWSD-20 word_pos) and corpus encoding against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bertology as bt
from bertology.core.errors import InputError
from bertology.core.extraction import encode_corpus, length_sorted_batches, word_char_span

WSD_LINES = [
    (1, "the bank 's vault was robbed ."),
    (4, "we walked along the riverbank , didn't we ?"),
    (0, "unbelievably , the apple fell ."),
    (6, "she said \" it 's the apple company \" ."),
    (3, "o'neill 's favourite baseball bat broke ."),
]


def _independent_word_vectors(model: bt.LoadedModel, lines, layer: int) -> np.ndarray:
    """Mean of the word's sub-word vectors via is_split_into_words word_ids() and output_hidden_states."""
    vectors = []
    for word_pos, sentence in lines:
        encoding = model.tokenizer(sentence.split(), is_split_into_words=True, return_tensors="pt")
        with torch.no_grad():
            hidden = model.model(**encoding, output_hidden_states=True).hidden_states[layer][0]
        positions = [i for i, w in enumerate(encoding.word_ids()) if w == word_pos]
        vectors.append(hidden[positions].mean(0).numpy())
    return np.stack(vectors)


def test_coarsewsd_word_vector_is_mean_of_its_pieces_minilm(minilm):
    words, texts = zip(*WSD_LINES)
    store = bt.extract(minilm, list(texts), layers=[0, 3, 6], pool="word_mean", words=list(words), batch_size=2)
    for layer in (0, 3, 6):
        np.testing.assert_allclose(store[layer], _independent_word_vectors(minilm, WSD_LINES, layer),
                                   rtol=1e-4, atol=1e-5)


def test_multi_piece_words_are_found(minilm):
    corpus = encode_corpus(minilm.tokenizer, [t for _, t in WSD_LINES], 512, words=[w for w, _ in WSD_LINES])
    for (word_pos, text), ids, (first, stop) in zip(WSD_LINES, corpus.input_ids, corpus.word_tokens):
        decoded = minilm.tokenizer.decode(ids[first:stop]).replace(" ", "")
        assert decoded == text.split()[word_pos]
    assert any(stop - first > 1 for first, stop in corpus.word_tokens)


def test_word_tokens_decode_to_the_word_for_every_tokenizer_family(tiny_model, arch):
    model = tiny_model(arch)
    texts = ["it's the bank's vault, isn't it?", "unbelievably the apple fell."]
    corpus = encode_corpus(model.tokenizer, texts, model.max_length, words=[2, 0])
    for text, ids, (first, stop), index in zip(texts, corpus.input_ids, corpus.word_tokens, (2, 0)):
        decoded = model.tokenizer.decode(ids[first:stop]).replace(" ", "").replace("▁", "")
        assert decoded.lower() == text.split()[index].lower()


def test_corpus_ids_equal_the_tokenizer_call_and_leave_its_settings_alone(tiny_model, arch):
    tokenizer = tiny_model(arch).tokenizer
    texts = ["it's the bank's vault, isn't it?", "unbelievably the apple fell.", "a"]
    backend = tokenizer.backend_tokenizer
    backend.enable_truncation(max_length=4)
    settings = backend.truncation, backend.padding
    corpus = encode_corpus(tokenizer, texts, 512)
    assert (backend.truncation, backend.padding) == settings
    backend.no_truncation()
    assert corpus.input_ids == tokenizer(texts)["input_ids"]
    np.testing.assert_array_equal(corpus.lengths, [len(ids) for ids in corpus.input_ids])


def test_character_spans_equal_word_indices(minilm):
    texts = [t for _, t in WSD_LINES]
    by_index = bt.extract(minilm, texts, layers=[6], pool="word_first", words=[w for w, _ in WSD_LINES])
    spans = [word_char_span(t, w) for w, t in WSD_LINES]
    by_span = bt.extract(minilm, texts, layers=[6], pool="word_first", spans=spans)
    np.testing.assert_array_equal(by_index[6], by_span[6])


def test_word_index_out_of_range_is_a_clear_error(minilm):
    with pytest.raises(InputError, match="Item 1: Word index 9 is out of range.*5 whitespace"):
        bt.extract(minilm, ["a b", "one two three four five"], pool="word", words=[0, 9])


def test_word_cut_by_truncation_raises_or_is_skipped_with_a_count(minilm):
    long_text = " ".join(["word"] * 600) + " bank"
    texts = ["the bank is open", long_text]
    with pytest.raises(InputError, match="Item 1 has .* tokens.*truncate=True"):
        bt.extract(minilm, texts, pool="word", words=[1, 600])
    with pytest.raises(InputError, match="cut by truncation.*on_error='skip'"):
        bt.extract(minilm, texts, pool="word", words=[1, 600], truncate=True)
    store = bt.extract(minilm, texts, layers=[6], pool="word", words=[1, 600], truncate=True, on_error="skip")
    assert store.valid.tolist() == [True, False]
    assert list(store.skipped) == ["1"] and "truncation" in store.skipped["1"]
    assert not store[6][1].any() and store[6][0].any()
    assert store.manifest["truncated"] == [1]


def test_empty_input_and_empty_text_are_clear_errors(minilm):
    with pytest.raises(InputError, match="empty"):
        bt.extract(minilm, [])
    with pytest.raises(InputError, match="Item 1 is empty"):
        bt.extract(minilm, ["fine", "   "])
    with pytest.raises(InputError, match="needs target words"):
        bt.extract(minilm, ["fine"], pool="word")


def test_length_sorted_batches_cover_every_item_once():
    lengths = np.array([5, 1, 9, 3, 7, 2, 8])
    batches = length_sorted_batches(lengths, 3)
    assert sorted(np.concatenate(batches).tolist()) == list(range(7))
    assert [lengths[b].tolist() for b in batches] == [[9, 8, 7], [5, 3, 2], [1]]


@pytest.mark.parametrize(("words", "message"), [
    ([-1], "Item 0: word index -1 is negative"),
    ([1.7], "Item 0: word index 1.7 is not an integer"),
    (["x"], "Item 0: word index 'x' is not an integer"),
    ([True], "Item 0: word index True is not an integer"),
])
def test_word_indices_that_are_not_non_negative_integers_are_refused(minilm, words, message):
    with pytest.raises(InputError, match=message):
        bt.extract(minilm, ["the bank of the river"], pool="word", words=words)


def test_spans_that_are_not_integer_pairs_are_refused(minilm):
    with pytest.raises(InputError, match=r"Item 0: span \(1.5, 3\) is not a pair of integer"):
        bt.extract(minilm, ["the bank"], pool="word", spans=[(1.5, 3)])
    with pytest.raises(InputError, match="Item 0: span 4 is not a pair"):
        bt.extract(minilm, ["the bank"], pool="word", spans=[4])


@pytest.mark.parametrize("pool", ["first", "cls", "mean"])
def test_text_of_only_zero_width_characters_has_no_content_tokens(minilm, pool):
    with pytest.raises(InputError, match="Item 1 has no content tokens.*zero-width"):
        bt.extract(minilm, ["fine", "\u200b\u200b\u200c"], layers=[6], pool=pool)
