"""jiant edge-probing JSON reader/writer and the CoNLL-U converter, on the hand-written fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from bertology.analyses.syntax.edge_data import (
    EdgeTarget,
    conllu_to_edges,
    edge_examples,
    load_edges,
    write_edges,
)
from bertology.core.data import load_conllu
from bertology.core.errors import InputError
from bertology.core.paths import SHIPPED_DIR

FIXTURES = Path(__file__).parents[3] / "fixtures"
EDGES = FIXTURES / "edges_sample.jsonl"
UD = SHIPPED_DIR / "ud_sample.conllu"


def test_reader_reads_the_fixture():
    data = load_edges(EDGES)
    assert len(data) == 4 and data.n_targets == 5 and data.two_spans
    assert [example.line for example in data] == [1, 2, 4, 5]
    first = data[0]
    assert first.words[3] == "barked"
    assert first.targets[0] == EdgeTarget((0, 3), (3, 4), ("ARG0",))
    assert first.targets[1].labels == ("ARGM-DIR", "ARG1")
    assert data[3].targets == ()
    assert data.labels == ["ARG0", "ARG1", "ARGM-DIR", "ARGM-TMP"]
    assert len(load_edges(EDGES, limit=2)) == 2


def test_write_then_read_round_trips(tmp_path):
    data = load_edges(EDGES)
    again = load_edges(write_edges(data, tmp_path / "copy.jsonl"))
    assert [(e.text, e.targets) for e in again] == [(e.text, e.targets) for e in data]


@pytest.mark.parametrize("line, message", [
    ('{"text": "a b", "targets": [{"span1": [1, 3], "label": "X"}]}', r"bad\.jsonl:2, target 0: span1 \[1, 3\]"),
    ('{"text": "a b", "targets": [{"span1": [1, 1], "label": "X"}]}', r"bad\.jsonl:2.*not a non-empty span"),
    ('{"text": "a b", "targets": [{"span1": [0, 1], "label": 3}]}', r"bad\.jsonl:2.*label is 3"),
    ('{"text": "a b", "targets": [{"span1": [0, 1]}]}', r"bad\.jsonl:2.*needs 'span1' and 'label'"),
    ('{"text": "", "targets": []}', r"bad\.jsonl:2: 'text' is missing or empty"),
    ('{"text": "a b"}', r"bad\.jsonl:2: 'targets'"),
    ('{"text": "a b", "targets": [{"span1": [0, 1.5], "label": "X"}]}', r"bad\.jsonl:2.*not an integer"),
    ('{"text": "a b", "targets": [{"span1": [0, 1], "span2": [1, 2], "label": "X"}]}', r"bad\.jsonl:2: some targets"),
    ("not json", r"bad\.jsonl:2: not valid JSON"),
])
def test_bad_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a b", "targets": [{"span1": [0, 1], "label": "X"}]}\n' + line + "\n")
    with pytest.raises(InputError, match=message):
        load_edges(path)


def test_missing_file_and_items_in_memory(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_edges(tmp_path / "none.jsonl")
    with pytest.raises(InputError, match=r"<items>:1"):
        edge_examples([{"text": "a", "targets": [{"span1": [0, 2], "label": "X"}]}])
    assert edge_examples(load_edges(EDGES)).n_targets == 5


def _raw_words(path: Path) -> list[list[list[str]]]:
    """Word lines of each sentence, read straight from the file (ranges and empty nodes skipped)."""
    sentences, current = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if current:
                sentences.append(current)
            current = []
        elif not line.startswith("#"):
            columns = line.split("\t")
            if "-" not in columns[0] and "." not in columns[0]:
                current.append(columns)
    return sentences + ([current] if current else [])


def test_dependency_conversion_matches_the_file():
    data = conllu_to_edges(load_conllu(UD), "dep")
    raw = _raw_words(UD)
    assert len(data) == len(raw) and data.two_spans
    for example, rows in zip(data, raw):
        assert example.words == [row[1] for row in rows]
        for i, (target, row) in enumerate(zip(example.targets, rows)):
            head = int(row[6]) or i + 1
            assert target == EdgeTarget((i, i + 1), (head - 1, head), (row[7],))
    assert data[4].targets[0].labels == ("nmod:poss",)


def test_pos_conversion_and_output_file(tmp_path):
    data = conllu_to_edges(UD, "pos", tag="xpos", out=tmp_path / "pos.jsonl")
    raw = _raw_words(UD)
    assert not data.two_spans
    assert [[t.labels[0] for t in e.targets] for e in data] == [[row[4] for row in rows] for rows in raw]
    written = [json.loads(line) for line in (tmp_path / "pos.jsonl").read_text().splitlines()]
    assert written[5] == {"text": "Stop !", "targets": [{"span1": [0, 1], "label": "VB"},
                                                        {"span1": [1, 2], "label": "."}]}
    assert load_edges(tmp_path / "pos.jsonl")[1].targets == data[1].targets


def test_forms_with_spaces_stay_one_word():
    sentence = SimpleNamespace(words=("100 000", "euros"), upos=("NUM", "NOUN"), xpos=("_", "_"), heads=(2, 0),
                               deprels=("nummod", "root"), line=7)
    example = conllu_to_edges([sentence], "pos")[0]
    assert example.words == ["100_000", "euros"] and example.line == 7


def test_converter_rejects_unknown_settings():
    with pytest.raises(InputError, match="choose 'pos' or 'dep'"):
        conllu_to_edges(UD, "ner")
    with pytest.raises(InputError, match="choose 'upos' or 'xpos'"):
        conllu_to_edges(UD, "pos", tag="lemma")
