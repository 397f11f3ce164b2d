"""cloze_task: fill templates, figures on request, a loaded model; save_cloze_figures."""

from __future__ import annotations

import pandas as pd
import pytest

import bertology as bt
from bertology.analyses.cloze import FILL_TEMPLATES, ClozeResult, cloze_task, save_cloze_figures


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
