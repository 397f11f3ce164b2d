"""Shared attention drawing: label thinning and one labelled attention map."""

from __future__ import annotations

import numpy as np
import pytest

from bertology.analyses.attention import plot_attention_map
from bertology.analyses.attention.figures import LABEL_HEIGHT_IN, hide_frame, thinned_labels
from bertology.core.errors import InputError
from bertology.core.viz import new_figure, save_figure


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


def test_map_shows_the_matrix_with_its_title():
    matrix = np.array([[0.25, 0.75], [1.0, 0.0]])
    figure = plot_attention_map(matrix, ["a", "b"], title="toy")
    ax = figure.axes[0]
    assert ax.get_title() == "toy" and [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    np.testing.assert_array_equal(ax.images[0].get_array(), matrix)


def test_map_rejects_wrong_shape():
    with pytest.raises(InputError, match="tokens"):
        plot_attention_map(np.eye(3), ["a", "b"])


def test_hide_frame_hides_every_spine():
    _, ax = new_figure()
    hide_frame(ax)
    assert not any(spine.get_visible() for spine in ax.spines.values())
