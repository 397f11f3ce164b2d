"""The run report is one self-contained HTML page that a headless browser renders."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from bertology.cli import main
from bertology.core.errors import InputError, StoreError
from bertology.core.viz import new_figure, save_figure
from bertology.experiments import STEPS, StepSpec, run_experiment, write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _run(ctx):
    ctx.get_model()
    pd.DataFrame({"token": ["<script>alert(1)</script>", "bank"], "score": [0.5, 0.25]}).to_csv(
        ctx.out / "scores.csv", index=False)
    (ctx.out / "view.html").write_text("<!DOCTYPE html><html><body><p id='inner'>inner page</p></body></html>")


def _figures(out):
    frame = pd.read_csv(out / "scores.csv")
    figure, axes = new_figure()
    axes.bar(range(len(frame)), frame["score"])
    return save_figure(figure, out / "figures" / "scores")


@pytest.fixture
def stored_run(monkeypatch, tiny_model_dir, tmp_path):
    monkeypatch.setitem(STEPS, "scores", StepSpec("scores", {}, run=_run, figures=_figures))
    monkeypatch.setitem(STEPS, "masked", StepSpec("masked", {}, run=_run, figures=_figures, needs_mlm=True))
    run_experiment({"model": str(tiny_model_dir("bert", "base")), "out": str(tmp_path / "run"),
                    "steps": {"scores": {}, "masked": {}}}, progress=False)
    return tmp_path / "run"


def test_report_is_self_contained_and_escaped(stored_run, capsys):
    assert main(["report", str(stored_run)]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == stored_run / "report.html"
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "data:image/png;base64," in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "needs a masked-LM head" in page and "weights_sha256" in page


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed")
def test_report_renders_in_headless_chromium(stored_run, tmp_path):
    page = write_report(stored_run, tmp_path / "out" / "report.html")
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert "bertology run: run" in dom and dom.count('src="data:image/png;base64,') == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    shot = tmp_path / "report.png"
    subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1280,1600", page.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 10_000


def test_report_of_a_damaged_run_is_a_named_error_and_writes_nothing(stored_run):
    table = stored_run / "scores" / "scores.csv"
    table.write_bytes(table.read_bytes()[:-5])
    with pytest.raises(StoreError, match="scores.csv is missing, truncated or changed since the step finished"):
        write_report(stored_run)
    (stored_run / "manifest.json").write_text("{")
    with pytest.raises(StoreError, match="manifest.json is damaged"):
        write_report(stored_run)
    assert not (stored_run / "report.html").exists()


def test_report_out_must_be_a_writable_file(stored_run, tmp_path):
    with pytest.raises(InputError, match="is a directory: give a file name"):
        write_report(stored_run, tmp_path)
    with pytest.raises(InputError, match="output file is empty"):
        write_report(stored_run, "")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="Cannot write to"):
        write_report(stored_run, tmp_path / "file" / "report.html")
    assert not (stored_run / "report.html").exists()
