"""Head statistics (Clark et al. 2019) on hand-built attention with known answers, and on every architecture."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

import bertology as bt
from bertology.analyses.attention import STATISTICS, AttentionMaps, AttentionStats, HeadStatsAccumulator, target_tokens
from bertology.core.errors import InputError, StoreError

# Two sentences padded to 5 tokens: "[CLS] a . b [SEP]" and "[CLS] , [SEP] <pad> <pad>".
VALID = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.bool)
TARGETS = torch.zeros(2, 5, 3, dtype=torch.bool)
TARGETS[:, 0, 0] = True                     # [CLS]
TARGETS[0, 4, 1] = TARGETS[1, 2, 1] = True  # [SEP]
TARGETS[0, 2, 2] = TARGETS[1, 1, 2] = True  # "." and ","
GARBAGE = 7.0


def _previous_head(length: int) -> torch.Tensor:
    a = torch.zeros(5, 5)
    a[0, 0] = 1
    for q in range(1, length):
        a[q, q - 1] = 1
    return a


def _cls_head(length: int) -> torch.Tensor:
    a = torch.zeros(5, 5)
    a[:length, 0] = 1
    a[:length, length:] = 0.5  # weight on padding keys must be ignored
    return a


def _uniform_head(length: int) -> torch.Tensor:
    a = torch.zeros(5, 5)
    a[:length, :length] = 1 / length
    return a


def hand_built_patterns() -> torch.Tensor:
    """(layers=2, batch=2, heads=3, 5, 5); layer 1 holds the heads of layer 0 in reverse order."""
    batch = []
    for length in (5, 3):
        heads = torch.stack([_previous_head(length), _cls_head(length), _uniform_head(length)])
        heads[:, length:, :] = GARBAGE  # padding queries must never be counted
        batch.append(heads)
    layer0 = torch.stack(batch)
    return torch.stack([layer0, layer0.flip(1)])


EXPECTED_TOKEN = {  # per head of layer 0: previous-token head, [CLS] head, uniform head; 8 real queries
    "to_prev": [1.0, 2 / 6, (4 * 0.2 + 2 / 3) / 6],
    "to_next": [0.0, 0.0, (4 * 0.2 + 2 / 3) / 6],
    "to_self": [2 / 8, 2 / 8, (5 * 0.2 + 3 / 3) / 8],
    "to_cls": [4 / 8, 1.0, (5 * 0.2 + 3 / 3) / 8],
    "to_sep": [0.0, 0.0, 2 / 8],
    "to_punct": [2 / 8, 0.0, 2 / 8],
    "entropy": [0.0, 0.0, (5 * math.log(5) + 3 * math.log(3)) / 8],
    "mean_distance": [6 / 8, 13 / 8, ((10 + 7 + 6 + 7 + 10) / 5 + (3 + 2 + 3) / 3) / 8],
}


def _one_hot_entropy(n: int) -> float:
    """Entropy of a one-hot row of n keys after Clark et al.'s smoothing 0.9999 a + 0.0001 / n."""
    low, high = 0.0001 / n, 0.9999 + 0.0001 / n
    return -(high * math.log(high) + (n - 1) * low * math.log(low))


def _per_sentence(five: float, three: float) -> float:
    """The mean over the two sentences of a per-sentence value (lengths 5 and 3)."""
    return (five + three) / 2


EXPECTED_SENTENCE = {  # each statistic averaged within a sentence (divided by n = 5 and 3), then over the two
    "to_prev": [_per_sentence(4 / 5, 2 / 3), _per_sentence(1 / 5, 1 / 3), _per_sentence(4 / 25, 2 / 9)],
    "to_next": [0.0, 0.0, _per_sentence(4 / 25, 2 / 9)],
    "to_self": [_per_sentence(1 / 5, 1 / 3)] * 3,
    "to_cls": [_per_sentence(2 / 5, 2 / 3), 1.0, _per_sentence(1 / 5, 1 / 3)],
    "to_sep": [0.0, 0.0, _per_sentence(1 / 5, 1 / 3)],
    "to_punct": [_per_sentence(1 / 5, 1 / 3), 0.0, _per_sentence(1 / 5, 1 / 3)],
    "entropy": [_per_sentence(_one_hot_entropy(5), _one_hot_entropy(3))] * 2 + [_per_sentence(math.log(5),
                                                                                              math.log(3))],
    "mean_distance": [_per_sentence(4 / 5, 2 / 3), _per_sentence(2, 1), _per_sentence(40 / 25, 8 / 9)],
}


@pytest.mark.parametrize("average, expected_values", [("sentence", EXPECTED_SENTENCE), ("token", EXPECTED_TOKEN)])
def test_hand_built_heads_give_known_statistics_with_padding_present(average, expected_values):
    accumulator = HeadStatsAccumulator(num_layers=2, num_heads=3, average=average)
    accumulator.update(hand_built_patterns(), VALID, TARGETS)
    stats = accumulator.result()
    assert stats.n_tokens == 8 and stats.n_sentences == 2 and stats.average == average
    for name, expected in expected_values.items():
        np.testing.assert_allclose(stats.values[name][0], expected, rtol=1e-5, atol=1e-7, err_msg=name)
        np.testing.assert_allclose(stats.values[name][1], expected[::-1], rtol=1e-5, atol=1e-7, err_msg=name)


def test_sentence_average_is_the_default():
    assert HeadStatsAccumulator(1, 1).average == "sentence"


def clark_reference(attns: np.ndarray, cls: np.ndarray, sep: np.ndarray, punct: np.ndarray) -> dict[str, np.ndarray]:
    """One sentence's statistics as Clark et al.'s General_Analysis.ipynb computes them.

    ``attns`` is ``(layers, heads, n, n)`` without padding; the masks mark [CLS], [SEP] and ``.``/``,``.
    The notebook's selectors and denominators, and its smoothed entropy, written out again.
    """
    n_tokens = attns.shape[-1]
    selectors = {
        "to_self": np.eye(n_tokens, n_tokens),
        "to_next": np.eye(n_tokens, n_tokens, 1),
        "to_prev": np.eye(n_tokens, n_tokens, -1),
        "to_sep": np.tile(sep[np.newaxis], [n_tokens, 1]),
        "to_cls": np.tile(cls[np.newaxis], [n_tokens, 1]),
        "to_punct": np.tile(punct[np.newaxis], [n_tokens, 1]),
    }
    values = {key: (attns * selector[np.newaxis, np.newaxis]).sum(-1).sum(-1) / n_tokens
              for key, selector in selectors.items()}
    smoothed = 0.9999 * attns + (0.0001 / attns.shape[-1])
    values["entropy"] = -(smoothed * np.log(smoothed)).sum(-1).mean(-1)
    distance = np.abs(np.arange(n_tokens)[:, None] - np.arange(n_tokens)[None, :])
    values["mean_distance"] = (attns * distance).sum(-1).mean(-1)
    return values


def test_sentence_average_equals_the_released_procedure_on_random_padded_batches():
    rng = np.random.default_rng(5)
    lengths, width, layers, heads = [7, 3, 5, 2, 7], 7, 2, 4
    accumulator = HeadStatsAccumulator(layers, heads)
    expected = {name: np.zeros((layers, heads)) for name in STATISTICS}
    ids = rng.integers(0, 4, size=(len(lengths), width))  # 0: [CLS], 1: [SEP], 2: punctuation, 3: a word
    for rows in ([0, 1], [2, 3, 4]):
        patterns = torch.full((layers, len(rows), heads, width, width), 0.3)
        valid = torch.zeros(len(rows), width, dtype=torch.bool)
        for b, row in enumerate(rows):
            n = lengths[row]
            attns = rng.dirichlet(np.ones(n), size=(layers, heads, n))
            patterns[:, b, :, :n, :n] = torch.from_numpy(attns).float()
            valid[b, :n] = True
            masks = [(ids[row, :n] == kind).astype(float) for kind in range(3)]
            for name, value in clark_reference(attns, *masks).items():
                expected[name] += value / len(lengths)
        targets = torch.stack([torch.from_numpy(ids[rows] == kind) for kind in range(3)], dim=-1)
        accumulator.update(patterns, valid, targets)
    stats = accumulator.result()
    assert stats.n_sentences == len(lengths) and stats.n_tokens == sum(lengths)
    for name in STATISTICS:
        np.testing.assert_allclose(stats.values[name], expected[name], rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("average", ["sentence", "token"])
def test_streaming_in_batches_of_different_width_equals_one_batch(average):
    patterns = hand_built_patterns()
    whole = HeadStatsAccumulator(2, 3, average=average)
    whole.update(patterns, VALID, TARGETS)
    streamed = HeadStatsAccumulator(2, 3, average=average)
    streamed.update(patterns[:, :1], VALID[:1], TARGETS[:1])
    streamed.update(patterns[:, 1:, :, :3, :3], VALID[1:, :3], TARGETS[1:, :3])
    for name in STATISTICS:
        np.testing.assert_allclose(streamed.result().values[name], whole.result().values[name], atol=1e-9)


def test_unknown_average_refuses_with_the_choices():
    with pytest.raises(InputError, match='choose "sentence".*or "token"'):
        HeadStatsAccumulator(1, 1, average="corpus")


def test_empty_accumulator_refuses_with_a_fix():
    with pytest.raises(InputError, match="at least one"):
        HeadStatsAccumulator(1, 1).result()


def test_stats_table_save_load_and_plot(tmp_path):
    values = {name: np.arange(6, dtype=float).reshape(2, 3) / 10 for name in STATISTICS}
    stats = AttentionStats(values, n_sentences=4, n_tokens=30, model={"name": "toy"})
    frame = stats.to_frame()
    assert list(frame.columns) == ["layer", "head", *STATISTICS]
    assert frame.loc[(frame["layer"] == 1) & (frame["head"] == 2), "entropy"].item() == pytest.approx(0.5)
    loaded = AttentionStats.load(stats.save(tmp_path / "s"))
    assert loaded.model == {"name": "toy"} and loaded.n_tokens == 30 and loaded.n_sentences == 4
    assert loaded.average == "sentence"
    np.testing.assert_array_equal(loaded.values["to_cls"], values["to_cls"])
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "s" / "head_stats.csv"), frame)
    figure = stats.plot()
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert len(titles) == len(STATISTICS)
    with pytest.raises(StoreError, match="not a AttentionStats"):
        AttentionMaps(["a"], np.ones((1, 1, 1)), "mean").save(tmp_path / "other")
        AttentionStats.load(tmp_path / "other")


def test_saved_statistics_round_trip_exactly(tmp_path):
    rng = np.random.default_rng(3)
    stats = AttentionStats({name: rng.random((3, 4)) for name in STATISTICS}, n_sentences=2, n_tokens=11,
                           average="token")
    loaded = AttentionStats.load(stats.save(tmp_path / "s"))
    assert loaded.average == "token"
    for name in STATISTICS:
        np.testing.assert_array_equal(loaded.values[name], stats.values[name])


def test_statistics_saved_without_an_average_were_token_averaged(tmp_path):
    directory = AttentionStats({name: np.zeros((1, 1)) for name in STATISTICS}, 1, 3).save(tmp_path / "s")
    meta = json.loads((directory / "meta.json").read_text())
    del meta["average"]
    (directory / "meta.json").write_text(json.dumps(meta))
    assert AttentionStats.load(directory).average == "token"


def test_stat_heatmaps_one_panel_per_statistic():
    stats = AttentionStats({k: np.random.default_rng(1).random((6, 12)) for k in STATISTICS}, 1, 10)
    figure = stats.plot(["to_prev", "entropy"], width="column")
    panels = [ax for ax in figure.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["to previous", "entropy (nats)"]
    np.testing.assert_array_equal(panels[0].images[0].get_array(), stats.values["to_prev"])
    with pytest.raises(InputError, match="choose from"):
        stats.plot(["nope"])


def naive_statistics(model: bt.LoadedModel, sentences: list[str], average: str = "sentence") -> dict[str, np.ndarray]:
    """Clark et al. statistics sentence by sentence from ``output_attentions=True`` with eager attention.

    ``average="sentence"`` applies :func:`clark_reference` (the released procedure) to each
    sentence and averages over sentences; ``"token"`` sums over every query of the corpus.
    """
    tok = model.tokenizer
    cls_ids = {tok.cls_token_id, tok.bos_token_id} - {None}
    sep_ids = {tok.sep_token_id, tok.eos_token_id} - {None}
    punct_ids = set(target_tokens(tok).punct)
    sums = {name: np.zeros((model.num_layers, model.num_heads)) for name in STATISTICS}
    n_queries = n_prev = 0
    previous = model.model.config._attn_implementation
    model.model.set_attn_implementation("eager")
    try:
        for sentence in sentences:
            encoded = tok(sentence, return_tensors="pt")
            inputs = {k: v for k, v in encoded.items() if k != "token_type_ids" or model.adapter.uses_token_type_ids}
            with torch.no_grad():
                attentions = model.model(**inputs, output_attentions=True).attentions
            ids = encoded["input_ids"][0].tolist()
            n = len(ids)
            n_queries += n
            n_prev += n - 1
            if average == "sentence":
                attns = torch.stack([a[0] for a in attentions]).double().numpy()
                masks = [np.array([float(i in group) for i in ids]) for group in (cls_ids, sep_ids, punct_ids)]
                for name, value in clark_reference(attns, *masks).items():
                    sums[name] += value
                continue
            for layer, attention in enumerate(attentions):
                a = attention[0].double().numpy()
                for q in range(n):
                    row = a[:, q]
                    sums["to_cls"][layer] += sum(row[:, k] for k in range(n) if ids[k] in cls_ids)
                    sums["to_sep"][layer] += sum(row[:, k] for k in range(n) if ids[k] in sep_ids)
                    sums["to_punct"][layer] += sum((row[:, k] for k in range(n) if ids[k] in punct_ids), 0.0)
                    sums["to_self"][layer] += row[:, q]
                    if q > 0:
                        sums["to_prev"][layer] += row[:, q - 1]
                    if q < n - 1:
                        sums["to_next"][layer] += row[:, q + 1]
                    sums["entropy"][layer] += -(row * np.log(np.where(row > 0, row, 1))).sum(-1)
                    sums["mean_distance"][layer] += (row * np.abs(np.arange(n) - q)).sum(-1)
    finally:
        model.model.set_attn_implementation(previous)
    if average == "sentence":
        return {name: total / len(sentences) for name, total in sums.items()}
    return {name: total / (n_prev if name in ("to_prev", "to_next") else n_queries) for name, total in sums.items()}


SENTENCES = ["The keys to the cabinet are here.", "It rained, so we stayed in.", "Who?",
             "The doctor, who works at the hospital, was late."]


@pytest.mark.parametrize("average", ["sentence", "token"])
def test_every_architecture_matches_naive_output_attentions(tiny_model, arch, average):
    model = tiny_model(arch)
    stats = bt.attention_stats(model, SENTENCES, batch_size=3, average=average, progress=False)
    expected = naive_statistics(model, SENTENCES, average)
    assert stats.shape == (model.num_layers, model.num_heads) and stats.average == average
    for name in STATISTICS:
        np.testing.assert_allclose(stats.values[name], expected[name], atol=2e-5, err_msg=f"{arch} {name}")


def test_sentence_and_token_averages_differ_on_sentences_of_different_lengths(tiny_model):
    model = tiny_model("bert")
    by_sentence = bt.attention_stats(model, SENTENCES, average="sentence", progress=False)
    by_token = bt.attention_stats(model, SENTENCES, average="token", progress=False)
    assert by_sentence.n_tokens == by_token.n_tokens
    assert not np.allclose(by_sentence.values["to_prev"], by_token.values["to_prev"], atol=1e-4)


@pytest.mark.parametrize("bad, message", [([], "empty"), (["ok", "  "], "empty"), ("one string", "list")])
def test_bad_corpus_raises_with_a_fix(tiny_model, bad, message):
    with pytest.raises(InputError, match=message):
        bt.attention_stats(tiny_model("bert"), bad, progress=False)


def test_unknown_average_is_refused(tiny_model):
    with pytest.raises(InputError, match="average='tokens' is unknown"):
        bt.attention_stats(tiny_model("bert"), SENTENCES, average="tokens", progress=False)


def test_too_long_sentence_raises_unless_truncated(tiny_model):
    model = tiny_model("bert")
    long = " ".join(["bank"] * (model.max_length + 5))
    with pytest.raises(InputError, match="truncate=True"):
        bt.attention_stats(model, [long], progress=False)
    assert bt.attention_stats(model, [long], truncate=True, progress=False).n_tokens == model.max_length


def test_chunked_tokenization_gives_the_same_statistics(tiny_model, monkeypatch):
    model = tiny_model("bert")
    whole = bt.attention_stats(model, SENTENCES, batch_size=2, progress=False)
    monkeypatch.setattr("bertology.analyses.attention.stats.CHUNK_SENTENCES", 2)
    chunked = bt.attention_stats(model, SENTENCES, batch_size=1, progress=False)
    for name in STATISTICS:
        np.testing.assert_allclose(chunked.values[name], whole.values[name], atol=1e-6)
    with pytest.raises(InputError, match="add 2 to the item number"):
        bt.attention_stats(model, SENTENCES[:3] + [" "], batch_size=1, progress=False)


def test_batch_size_below_one_raises(tiny_model):
    with pytest.raises(InputError, match="batch_size must be at least 1, got 0"):
        bt.attention_stats(tiny_model("bert"), SENTENCES, batch_size=0, progress=False)
