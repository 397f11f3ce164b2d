"""Readers of the evaluation-set files in their real formats, and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bertology.analyses.cloze.formats import read_agreement, read_blimp, read_crows_pairs, read_stereoset
from bertology.core.errors import InputError

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"


@pytest.mark.parametrize("name, n_items, n_unpaired", [("lgd_sample.tsv", 12, 0), ("generated_sample.tab", 6, 0),
                                                       ("marvin_sample.tsv", 11, 1)])
def test_agreement_formats(name, n_items, n_unpaired):
    frame, unpaired = read_agreement(FIXTURES / name)
    assert len(frame) == n_items and unpaired == n_unpaired
    assert frame.masked.str.contains(r"\*\*\*mask\*\*\*").all()


def test_crows_pairs_stereoset_and_blimp_files():
    crows = read_crows_pairs(FIXTURES / "crows_pairs_sample.csv")
    assert len(crows) == 12 and {"sent_more", "sent_less", "stereo_antistereo", "bias_type"} <= set(crows.columns)
    examples = read_stereoset(FIXTURES / "stereoset_sample.json")
    assert sum(len(example["sentences"]) for example in examples) == 30
    assert read_blimp(FIXTURES / "blimp_sample.jsonl").UID.nunique() >= 2


def test_reader_errors(tmp_path):
    bad = tmp_path / "crows.csv"
    bad.write_text(",sentence\n0,hello\n")
    with pytest.raises(InputError, match="sent_more"):
        read_crows_pairs(bad)
    with pytest.raises(InputError, match="does not exist"):
        read_crows_pairs(tmp_path / "missing.csv")
    (tmp_path / "s.json").write_text(json.dumps({"data": {}}))
    with pytest.raises(InputError, match="intrasentence"):
        read_stereoset(tmp_path / "s.json")
    (tmp_path / "a.tsv").write_text("just one column\n")
    with pytest.raises(InputError, match="Cannot tell"):
        read_agreement(tmp_path / "a.tsv")
