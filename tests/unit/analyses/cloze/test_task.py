"""cloze_task: fill templates, figures on request, a loaded model, arguments checked first; save_cloze_figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import bertology as bt
from bertology.analyses.cloze import FILL_TEMPLATES, ClozeResult, cloze_task, save_cloze_figures
from bertology.core.errors import InputError

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"


@pytest.fixture(scope="module")
def mlm(tiny_model):
    return tiny_model("bert", "mlm")


def test_default_fill_templates_and_no_figures(mlm, tmp_path):
    results = cloze_task(mlm, tmp_path, suites=["telicity"], n_boot=20, top_k=3, figures=False, progress=False)
    assert list(results) == ["telicity"] and not (tmp_path / "figures").exists()
    fills = pd.read_csv(tmp_path / "fills.csv", keep_default_na=False)
    assert list(dict.fromkeys(fills.template)) == list(FILL_TEMPLATES) and fills["rank"].max() == 3
    assert results["telicity"].metric() == pytest.approx(bt.run_suite(mlm, "telicity", n_boot=20).metric())
    written = save_cloze_figures({"telicity": ClozeResult.load(tmp_path / "telicity")}, tmp_path)
    assert sorted(p.name for p in written) == ["fills.pdf", "fills.png", "telicity.pdf", "telicity.png"]


def test_empty_fill_templates_write_no_table(mlm, tmp_path):
    results = cloze_task(mlm, tmp_path, suites=["color"], fill_templates=[], n_boot=20, progress=False)
    assert not (tmp_path / "fills.csv").exists()
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["color.pdf", "color.png"]
    assert ClozeResult.load(tmp_path / "color").metric() == pytest.approx(results["color"].metric())


@pytest.mark.parametrize("change, message", [
    ({"out": "FILE"}, "is a file, not a directory"),
    ({"out": ""}, "output directory is empty"),
    ({"pll_variant": "l2r"}, "pll_variant='l2r'"),
    ({"stereoset_variant": "all_masks"}, "stereoset_variant='all_masks'"),
    ({"agreement_format": "csv"}, "agreement_format='csv'"),
    ({"top_k": 0}, "top_k must be"),
    ({"suites": ["no-such-suite"]}, "neither a shipped suite"),
    ({"crows_pairs": "TRUNCATED"}, r"crows.csv:2: the row stops after"),
    ({"agreement_stimuli": "MISSING"}, "does not exist"),
])
def test_bad_arguments_fail_before_the_model_loads(tmp_path, change, message):
    (tmp_path / "file.txt").write_text("keep")
    (tmp_path / "crows.csv").write_text(",sent_more,sent_less,stereo_antistereo,bias_type\n0,The poor are\n")
    paths = {"FILE": tmp_path / "file.txt", "TRUNCATED": tmp_path / "crows.csv", "MISSING": tmp_path / "none.tsv"}
    kwargs = {"out": tmp_path / "out", **{key: paths.get(value, value) if isinstance(value, str) else value
                                          for key, value in change.items()}}
    with pytest.raises(InputError, match=message):
        cloze_task("no-such/model-anywhere", progress=False, **kwargs)
    assert not (tmp_path / "out").exists() and (tmp_path / "file.txt").read_text() == "keep"


def test_template_errors_come_before_any_scoring(mlm, tmp_path):
    with pytest.raises(InputError, match="has no mask"):
        cloze_task(mlm, tmp_path, suites=["telicity"], fill_templates=["No mask here."], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_options_reach_the_evaluations(mlm, tmp_path):
    results = cloze_task(mlm, tmp_path, suites=[], stereoset=FIXTURES / "stereoset_pieces.json",
                         agreement_stimuli=FIXTURES / "generated_sample.tab", stereoset_variant="within_word_l2r",
                         include_is_are=True, fill_templates=[], n_boot=10, figures=False, progress=False)
    assert results["stereoset"].meta["variant"] == "within_word_l2r"
    assert results["agreement-stimuli"].meta["include_is_are"] is True
    assert ClozeResult.load(tmp_path / "agreement-stimuli").meta["n_is_are"] == 0
