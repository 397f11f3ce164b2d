"""``extract_task`` checks its arguments and output before loading a model."""

from __future__ import annotations

import pytest

from bertology.core.errors import InputError
from bertology.core.extraction import task as task_module
from bertology.core.extraction.task import extract_task


@pytest.fixture
def no_model_load(monkeypatch):
    monkeypatch.setattr(task_module, "load_model", lambda *a, **k: pytest.fail("the model loaded before the check"))


@pytest.mark.parametrize(("out", "message"), [("", "output directory is empty"), ("taken", "is a file")])
def test_bad_output_is_refused_before_the_model_loads(tmp_path, no_model_load, out, message):
    table = tmp_path / "s.txt"
    table.write_text("One.\nTwo.\n", encoding="utf-8")
    (tmp_path / "taken").write_text("keep", encoding="utf-8")
    with pytest.raises(InputError, match=message):
        extract_task("some-model", table, tmp_path / out if out else out, progress=False)
    assert (tmp_path / "taken").read_text(encoding="utf-8") == "keep"


@pytest.mark.parametrize(("options", "message"), [
    ({"layers": "1-x"}, "Cannot read layers '1-x'"),
    ({"pool": "maxx"}, "Unknown pooling 'maxx'"),
    ({"pool": "word", "word_column": "word_pos"}, "Item 1: word index -1 is negative"),
    ({"batch_size": 0}, "batch_size must be an integer of at least 1"),
])
def test_bad_arguments_are_refused_before_the_model_loads_and_nothing_is_written(tmp_path, no_model_load, options,
                                                                                   message):
    table = tmp_path / "s.tsv"
    table.write_text("sentence\tword_pos\nthe bank\t1\nthe river bank\t-1\n", encoding="utf-8")
    with pytest.raises(InputError, match=message):
        extract_task("some-model", table, tmp_path / "out", progress=False, **options)
    assert not (tmp_path / "out").exists()
