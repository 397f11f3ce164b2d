"""Static attention figures: label thinning, the layer x head grid, one head's map, statistic heatmaps."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

import bertology as bt
from bertology.analyses.attention import (SentenceAttention, attention_head_map, plot_attention_grid, plot_attention_map,
                                 plot_stat_heatmaps)
from bertology.analyses.attention.figures import LABEL_HEIGHT_IN, thinned_labels
from bertology.core.errors import InputError
from bertology.core.viz import save_figure


def test_short_sentences_label_every_token():
    positions, labels = thinned_labels(["a", "b", "c"], span_in=2.0)
    assert positions.tolist() == [0, 1, 2] and labels == ["a", "b", "c"]


def test_long_sentences_are_thinned_to_fit():
    tokens = [f"t{i}" for i in range(200)]
    positions, labels = thinned_labels(tokens, span_in=2.0)
    assert len(labels) <= int(2.0 / LABEL_HEIGHT_IN) + 1
    assert positions[0] == 0 and positions[-1] == 199
    assert labels == [tokens[i] for i in positions]


def test_long_map_tick_labels_do_not_overlap(tmp_path):
    tokens = [f"word{i}" for i in range(120)]
    figure = plot_attention_map(np.full((120, 120), 1 / 120), tokens)
    figure.canvas.draw()
    ax = figure.axes[0]
    boxes = [label.get_window_extent() for label in ax.get_yticklabels()]
    assert all(lower.y1 <= upper.y0 + 0.5 for lower, upper in zip(sorted(boxes, key=lambda b: b.y0),
                                                                     sorted(boxes, key=lambda b: b.y0)[1:]))
    written = save_figure(figure, tmp_path / "map")
    assert [p.suffix for p in written] == [".pdf", ".png"] and all(p.stat().st_size > 0 for p in written)


def test_map_rejects_wrong_shape():
    with pytest.raises(InputError, match="tokens"):
        plot_attention_map(np.eye(3), ["a", "b"])


def test_grid_has_one_map_per_layer_and_head():
    attention = SentenceAttention(["a", "b", "c"], np.random.default_rng(0).random((3, 4, 3, 3)), np.zeros(3, int))
    figure = plot_attention_grid(attention, layers=[0, -1], heads=[1, 2])
    maps = [ax for ax in figure.axes if ax.images]
    assert len(maps) == 4
    assert [ax.get_title() for ax in maps[:2]] == ["H1", "H2"]
    assert maps[2].get_ylabel() == "L2"
    np.testing.assert_array_equal(maps[3].images[0].get_array(), attention.patterns[2, 2])


def test_attention_grid_of_a_model(minilm):
    figure = bt.attention_grid(minilm, "The bank in the city is closed")
    assert isinstance(figure, Figure)
    assert len([ax for ax in figure.axes if ax.images]) == minilm.num_layers * minilm.num_heads


def test_head_map_shows_the_chosen_head_with_tokens(minilm):
    figure = attention_head_map(minilm, "The bank is closed.", layer=-1, head=3)
    ax = figure.axes[0]
    assert ax.get_title() == "layer 5, head 3"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["[CLS]", "the", "bank", "is", "closed", ".", "[SEP]"]
    expected = bt.head_view(minilm, "The bank is closed.").attention.patterns[5, 3]
    np.testing.assert_allclose(ax.images[0].get_array(), expected, atol=1e-6)
    with pytest.raises(InputError, match="heads 0..11"):
        attention_head_map(minilm, "The bank is closed.", layer=0, head=12)


def test_stat_heatmaps_one_panel_per_statistic():
    from bertology.analyses.attention import STATISTICS, AttentionStats

    stats = AttentionStats({k: np.random.default_rng(1).random((6, 12)) for k in STATISTICS}, 1, 10)
    figure = plot_stat_heatmaps(stats, ["to_prev", "entropy"], width="column")
    panels = [ax for ax in figure.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["to previous", "entropy (nats)"]
    np.testing.assert_array_equal(panels[0].images[0].get_array(), stats.values["to_prev"])
    with pytest.raises(InputError, match="choose from"):
        plot_stat_heatmaps(stats, ["nope"])
