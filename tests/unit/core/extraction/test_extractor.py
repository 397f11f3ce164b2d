"""Layer parsing and the argument checks of ``extract`` that run before any work."""

from __future__ import annotations

import pytest

import bertology as bt
from bertology.core.errors import InputError
from bertology.core.extraction import check_extract_arguments, parse_layers, resolve_layers


@pytest.mark.parametrize(("layers", "message"), [
    ("1-x", "Cannot read layers '1-x': '1-x' is not a layer index or a range"),
    ("0,six", "'six' is not a layer index"),
    ("4-2", "the range '4-2' is empty; write the lower index first, e.g. '2-4'"),
    (["x"], "give 'all', an integer index, a list of integer indices"),
    ([1.5], "give 'all', an integer index"),
    (2.0, "give 'all', an integer index"),
    (True, "give 'all', an integer index"),
])
def test_unreadable_layers_are_a_clear_error(layers, message):
    with pytest.raises(InputError, match=message):
        resolve_layers(layers, 6)


def test_layers_are_parsed_without_a_model():
    assert parse_layers(" 0, 2-3 ,-1") == [0, 2, 3, -1]
    assert resolve_layers(" 0, 2-3 ,-1", 6) == [0, 2, 3, 6]
    assert resolve_layers([0, 6], 6) == [0, 6]


def test_batch_size_below_one_is_refused_before_work():
    with pytest.raises(InputError, match="batch_size must be an integer of at least 1, got 0"):
        check_extract_arguments(["a text"], batch_size=0)


@pytest.mark.parametrize("out", ["", "file"])
def test_an_output_that_cannot_be_a_store_is_refused_before_encoding(tiny_model, tmp_path, monkeypatch, out):
    (tmp_path / "file").write_text("keep", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="empty|is a file"):
        bt.extract(tiny_model("bert"), ["one text"], layers=[1], out=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
    assert (tmp_path / "file").read_text(encoding="utf-8") == "keep"
