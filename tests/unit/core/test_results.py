"""The result protocol: every result class round-trips through save/load and plots; bad directories are StoreErrors."""

from __future__ import annotations

import importlib
import json
import pkgutil

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import bertology
import tests.result_examples as example_modules
from bertology.core.errors import StoreError
from bertology.core.results import RESULT_FILE, Result, TableResult


def _all_examples() -> list[Result]:
    found = []
    for info in pkgutil.iter_modules(example_modules.__path__):
        found += importlib.import_module(f"{example_modules.__name__}.{info.name}").examples()
    return found


def _result_classes() -> set[type]:
    for info in pkgutil.walk_packages(bertology.__path__, "bertology."):
        if info.name.startswith(("bertology.analyses", "bertology.core")) and not info.ispkg:
            importlib.import_module(info.name)
    found, todo = set(), [Result]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("bertology.") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return found - {TableResult}


EXAMPLES = _all_examples()


def test_every_result_class_has_an_example():
    assert _result_classes() - {type(example) for example in EXAMPLES} == set()


def _assert_same(a: Result, b: Result) -> None:
    assert type(a) is type(b)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    if hasattr(a, "meta"):
        assert json.loads(json.dumps(a.meta, default=str)) == json.loads(json.dumps(b.meta, default=str))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: type(example).__name__)
def test_round_trip_keeps_table_and_metadata(example, tmp_path):
    assert not example.to_frame().empty
    loaded = type(example).load(example.save(tmp_path / "saved"))
    _assert_same(example, loaded)
    _assert_same(loaded, type(example).load(loaded.save(tmp_path / "again")))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: type(example).__name__)
def test_plot_returns_a_figure(example):
    assert isinstance(example.plot(), Figure)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: type(example).__name__)
def test_wrong_or_damaged_directories_are_store_errors(example, tmp_path):
    cls = type(example)
    with pytest.raises(StoreError, match="is not a directory"):
        cls.load(tmp_path / "missing")
    with pytest.raises(StoreError, match="holds no saved result"):
        cls.load(tmp_path)
    saved = example.save(tmp_path / "saved")
    other = next(e for e in EXAMPLES if type(e) is not cls)
    with pytest.raises(StoreError, match=f"not a {cls.__name__}"):
        cls.load(other.save(tmp_path / "other"))
    for path in saved.iterdir():
        if path.is_file() and path.name != RESULT_FILE:
            path.write_bytes(b"\x00garbage")
    with pytest.raises(StoreError, match="damaged"):
        cls.load(saved)
    (saved / RESULT_FILE).write_text("{not json")
    with pytest.raises(StoreError, match="damaged"):
        cls.load(saved)


def test_table_result_round_trip_is_exact(tmp_path):
    frame = pd.DataFrame({"layer": np.arange(3), "score": [0.1, 1 / 3, np.nan], "name": ["a", "b", "c"]})
    loaded = TableResult.load(TableResult(frame, {"k": [1, 2]}).save(tmp_path))
    pd.testing.assert_frame_equal(loaded.to_frame(), frame)
    assert loaded.meta == {"k": [1, 2]}
