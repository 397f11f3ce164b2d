"""The ``bertology extract`` command and the CLI's error handling."""

from __future__ import annotations

import numpy as np

import bertology as bt
from bertology.cli import main


def test_extract_command_writes_the_same_store_as_the_api(tiny_model_dir, tmp_path):
    table = tmp_path / "wsd.tsv"
    table.write_text("sentence\tword_pos\nthe bank of the river\t1\nthe bank 's vault\t1\n", encoding="utf-8")
    model_dir = str(tiny_model_dir("bert"))
    code = main(["--no-progress", "extract", "--model", model_dir, "--input", str(table), "--layers", "all",
                 "--pool", "word", "--word-column", "word_pos", "--out", str(tmp_path / "cli")])
    assert code == 0
    api = bt.extract(bt.load_model(model_dir), ["the bank of the river", "the bank 's vault"], pool="word",
                     words=[1, 1], out=tmp_path / "api")
    cli_store = bt.ActivationStore(tmp_path / "cli")
    for layer in api.layers:
        np.testing.assert_array_equal(cli_store[layer], api[layer])


def test_cli_errors_are_one_clear_line(tmp_path, capsys):
    table = tmp_path / "s.tsv"
    table.write_text("sentence\tword_pos\na b\t5\n", encoding="utf-8")
    code = main(["extract", "--input", str(table), "--pool", "word", "--word-column", "word_pos",
                 "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("bertology extract: error: Item 0: Word index 5 is out of range")
    assert "Traceback" not in err


def test_missing_column_names_the_columns(tmp_path, capsys):
    table = tmp_path / "s.tsv"
    table.write_text("text\tlabel\nhello\t1\n", encoding="utf-8")
    assert main(["extract", "--input", str(table), "--word-column", "word_pos", "--out", str(tmp_path / "o")]) == 2
    assert "no column 'word_pos'; its columns are: text, label" in capsys.readouterr().err
