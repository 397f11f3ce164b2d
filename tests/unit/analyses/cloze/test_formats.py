"""Readers of the evaluation-set files in their real formats, and their errors on malformed rows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bertology.analyses.cloze.formats import (
    read_agreement,
    read_blimp,
    read_crows_pairs,
    read_stereoset,
    stereoset_word,
)
from bertology.core.errors import InputError

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
CROWS_HEADER = ",sent_more,sent_less,stereo_antistereo,bias_type,annotations,anon_writer,anon_annotators"
CROWS_ROW = "0,The poor are lazy.,The rich are lazy.,stereo,socioeconomic,\"[['socioeconomic']]\",a1,\"['a2']\""


@pytest.mark.parametrize("name, n_items, counts", [
    ("lgd_sample.tsv", 12, {"n_unpaired": 0, "n_is_are": 0}),
    ("generated_sample.tab", 4, {"n_unpaired": 0, "n_is_are": 2}),
    ("marvin_sample.tsv", 11, {"n_unpaired": 1, "n_is_are": 0}),
])
def test_agreement_formats(name, n_items, counts):
    frame, found = read_agreement(FIXTURES / name)
    assert len(frame) == n_items and found == counts
    assert frame.masked.str.contains(r"\*\*\*mask\*\*\*").all()
    lines = (FIXTURES / name).read_text().splitlines()
    assert all(row.good in lines[row.line - 1] for row in frame.itertuples())


def test_generated_tab_is_are_items_on_request():
    frame, counts = read_agreement(FIXTURES / "generated_sample.tab", include_is_are=True)
    assert len(frame) == 6 and counts["n_is_are"] == 0
    assert frame.good.tolist()[:2] == ["is", "are"] and frame.line.tolist()[:2] == [2, 4]


def test_crows_pairs_stereoset_and_blimp_files(tmp_path):
    crows = read_crows_pairs(FIXTURES / "crows_pairs_sample.csv")
    assert len(crows) == 12 and {"sent_more", "sent_less", "stereo_antistereo", "bias_type"} <= set(crows.columns)
    assert crows.columns[0] == "sent_more" and crows.anon_writer.iloc[0] == "a0"
    examples = read_stereoset(FIXTURES / "stereoset_sample.json")
    assert sum(len(example["sentences"]) for example in examples) == 30
    assert read_blimp(FIXTURES / "blimp_sample.jsonl").UID.nunique() >= 2
    for name in ("blimp_sample.jsonl", "blimp_sample_copy.jsonl"):
        shutil.copy(FIXTURES / "blimp_sample.jsonl", tmp_path / name)
    assert len(read_blimp(tmp_path)) == 2 * len(read_blimp(FIXTURES / "blimp_sample.jsonl"))


def test_stereoset_word_is_the_released_template_word():
    assert stereoset_word("BLANK is what he was.", "Hardworking is what he was.") == "Hardworking"
    assert stereoset_word("He was BLANK, they said.", "He was well-off, they said.") == "welloff"
    assert stereoset_word("He was BLANK.", "He was") == ""


def test_reader_errors(tmp_path):
    bad = tmp_path / "crows.csv"
    bad.write_text(",sentence\n0,hello\n")
    with pytest.raises(InputError, match="sent_more"):
        read_crows_pairs(bad)
    with pytest.raises(InputError, match="does not exist"):
        read_crows_pairs(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="is a directory"):
        read_crows_pairs(tmp_path)
    (tmp_path / "latin.csv").write_bytes(f"{CROWS_HEADER}\n{CROWS_ROW}\n".replace("poor", "pöor").encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_crows_pairs(tmp_path / "latin.csv")
    (tmp_path / "s.json").write_text(json.dumps({"data": {}}))
    with pytest.raises(InputError, match="intrasentence"):
        read_stereoset(tmp_path / "s.json")
    (tmp_path / "a.tsv").write_text("just one column\n")
    with pytest.raises(InputError, match="Cannot tell"):
        read_agreement(tmp_path / "a.tsv")


@pytest.mark.parametrize("row, message", [
    ("1,The old are slow.,The young are slow.,,age,[],a2,[]", r":3: stereo_antistereo is ''"),
    ("1,The old are slow.,The young are", r":3: the row stops after 3 of the header's 8 fields"),
    ('1,The old are slow.,"The young are', r":3: the row stops after 3 of the header's 8 fields"),
    ("1,The old are slow.,The young are slow.,stereo,,[],a2,[]", r":3: bias_type is empty"),
    ("1,The old are slow.,,stereo,age,[],a2,[]", r":3: sent_less is empty"),
    ("1,The old are slow.,The young are slow.,stereotype,age,[],a2,[]", r":3: stereo_antistereo is 'stereotype'"),
    ("1,The old, they are slow.,The young are slow.,stereo,age,[],a2,[]", r":3: the row has more fields"),
])
def test_truncated_crows_pairs_rows_are_refused(tmp_path, row, message):
    path = tmp_path / "crows.csv"
    path.write_text(f"{CROWS_HEADER}\n{CROWS_ROW}\n{row}\n")
    with pytest.raises(InputError, match=message):
        read_crows_pairs(path)


def _stereoset_file(tmp_path, change):
    payload = json.loads((FIXTURES / "stereoset_sample.json").read_text())
    change(payload["data"]["intrasentence"][1])
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(payload))
    return path


@pytest.mark.parametrize("change, message", [
    (lambda example: example["sentences"][0].pop("gold_label"), "a sentence has no 'gold_label'"),
    (lambda example: example.pop("context"), "has no 'context'"),
    (lambda example: example.update(context="No blank here."), "must hold BLANK exactly once"),
    (lambda example: example.update(context="BLANK and BLANK."), "must hold BLANK exactly once"),
    (lambda example: example["sentences"][2].update(gold_label="stereotype"), "exactly one stereotype"),
    (lambda example: example["sentences"][0].update(sentence="Ethiopia is"), "has no word where the context"),
    (lambda example: example.update(sentences="three"), "no list of sentences"),
])
def test_malformed_stereoset_examples_are_named(tmp_path, change, message):
    path = _stereoset_file(tmp_path, change)
    with pytest.raises(InputError, match=rf"intrasentence example 2 .*{message}"):
        read_stereoset(path)


@pytest.mark.parametrize("line, message", [
    ("{not json", "not valid JSON"),
    ('{"sentence_bad": "Whose should Tonya wear hat?", "UID": "x"}', "'sentence_good' is missing"),
    ('{"sentence_good": "", "sentence_bad": "Whose should Tonya wear hat?", "UID": "x"}', "'sentence_good' is missing"),
    ('["a list"]', "expected a JSON object"),
])
def test_blimp_errors_name_file_and_line(tmp_path, line, message):
    lines = (FIXTURES / "blimp_sample.jsonl").read_text().splitlines()
    path = tmp_path / "paradigm.jsonl"
    path.write_text("\n".join(lines[:3] + ["", line] + lines[3:]) + "\n")
    with pytest.raises(InputError, match=rf"paradigm.jsonl:5: {message}"):
        read_blimp(path)
    with pytest.raises(InputError, match=rf"paradigm.jsonl:5: {message}"):
        read_blimp(tmp_path)


@pytest.mark.parametrize("name, edit, message", [
    ("lgd_sample.tsv", lambda lines: lines[:3] + ["", "1\tthe keys are .\tthe keys are .\tare\tis"], r":5: lgd rows"),
    ("lgd_sample.tsv", lambda lines: lines[:3] + ["1\tx\tthe ***mask*** ***mask*** .\tare\tis"], r":4: lgd rows"),
    ("marvin_sample.tsv", lambda lines: lines[:2] + ["", "simple_agrmt\tsing\tthe author laughs"], r":4: Marvin"),
    ("generated_sample.tab", lambda lines: lines[:4], r":4: generated.tab rows come in correct/wrong pairs"),
    ("generated_sample.tab", lambda lines: lines[:3] + [lines[4], lines[3]] + lines[5:], r":4-5: these rows"),
    ("generated_sample.tab", lambda lines: lines[:3] + [lines[3].rsplit("\t", 1)[0]] + lines[4:],
     r":4: the row does not have"),
    ("generated_sample.tab", lambda lines: lines[:1] + [lines[1].replace("\t2\t1\tThe", "\t9\t1\tThe")] + lines[2:],
     r":2: len_prefix '9'"),
])
def test_agreement_errors_name_file_and_line(tmp_path, name, edit, message):
    path = tmp_path / name
    path.write_text("\n".join(edit((FIXTURES / name).read_text().splitlines())) + "\n")
    with pytest.raises(InputError, match=rf"{name}{message}"):
        read_agreement(path)
