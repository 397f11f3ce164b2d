"""Head statistics (Clark et al. 2019) on hand-built attention with known answers, and on every architecture."""

from __future__ import annotations

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


EXPECTED = {  # per head of layer 0: previous-token head, [CLS] head, uniform head; 8 real queries
    "to_prev": [1.0, 2 / 6, (4 * 0.2 + 2 / 3) / 6],
    "to_next": [0.0, 0.0, (4 * 0.2 + 2 / 3) / 6],
    "to_self": [2 / 8, 2 / 8, (5 * 0.2 + 3 / 3) / 8],
    "to_cls": [4 / 8, 1.0, (5 * 0.2 + 3 / 3) / 8],
    "to_sep": [0.0, 0.0, 2 / 8],
    "to_punct": [2 / 8, 0.0, 2 / 8],
    "entropy": [0.0, 0.0, (5 * math.log(5) + 3 * math.log(3)) / 8],
    "mean_distance": [6 / 8, 13 / 8, ((10 + 7 + 6 + 7 + 10) / 5 + (3 + 2 + 3) / 3) / 8],
}


def test_hand_built_heads_give_known_statistics_with_padding_present():
    accumulator = HeadStatsAccumulator(num_layers=2, num_heads=3)
    accumulator.update(hand_built_patterns(), VALID, TARGETS)
    stats = accumulator.result()
    assert stats.n_tokens == 8 and stats.n_sentences == 2
    for name, expected in EXPECTED.items():
        np.testing.assert_allclose(stats.values[name][0], expected, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(stats.values[name][1], expected[::-1], atol=1e-6, err_msg=name)


def test_streaming_in_batches_of_different_width_equals_one_batch():
    patterns = hand_built_patterns()
    whole = HeadStatsAccumulator(2, 3)
    whole.update(patterns, VALID, TARGETS)
    streamed = HeadStatsAccumulator(2, 3)
    streamed.update(patterns[:, :1], VALID[:1], TARGETS[:1])
    streamed.update(patterns[:, 1:, :, :3, :3], VALID[1:, :3], TARGETS[1:, :3])
    for name in STATISTICS:
        np.testing.assert_allclose(streamed.result().values[name], whole.result().values[name], atol=1e-9)


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
    stats = AttentionStats({name: rng.random((3, 4)) for name in STATISTICS}, n_sentences=2, n_tokens=11)
    loaded = AttentionStats.load(stats.save(tmp_path / "s"))
    for name in STATISTICS:
        np.testing.assert_array_equal(loaded.values[name], stats.values[name])


def test_stat_heatmaps_one_panel_per_statistic():
    stats = AttentionStats({k: np.random.default_rng(1).random((6, 12)) for k in STATISTICS}, 1, 10)
    figure = stats.plot(["to_prev", "entropy"], width="column")
    panels = [ax for ax in figure.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["to previous", "entropy (nats)"]
    np.testing.assert_array_equal(panels[0].images[0].get_array(), stats.values["to_prev"])
    with pytest.raises(InputError, match="choose from"):
        stats.plot(["nope"])


def naive_statistics(model: bt.LoadedModel, sentences: list[str]) -> dict[str, np.ndarray]:
    """Clark et al. statistics sentence by sentence from ``output_attentions=True`` with eager attention."""
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
    return {name: total / (n_prev if name in ("to_prev", "to_next") else n_queries) for name, total in sums.items()}


SENTENCES = ["The keys to the cabinet are here.", "It rained, so we stayed in.", "Who?",
             "The doctor, who works at the hospital, was late."]


def test_every_architecture_matches_naive_output_attentions(tiny_model, arch):
    model = tiny_model(arch)
    stats = bt.attention_stats(model, SENTENCES, batch_size=3, progress=False)
    expected = naive_statistics(model, SENTENCES)
    assert stats.shape == (model.num_layers, model.num_heads)
    for name in STATISTICS:
        np.testing.assert_allclose(stats.values[name], expected[name], atol=2e-5, err_msg=f"{arch} {name}")


@pytest.mark.parametrize("bad, message", [([], "empty"), (["ok", "  "], "empty"), ("one string", "list")])
def test_bad_corpus_raises_with_a_fix(tiny_model, bad, message):
    with pytest.raises(InputError, match=message):
        bt.attention_stats(tiny_model("bert"), bad, progress=False)


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
