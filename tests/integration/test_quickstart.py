"""The quickstart runs end to end on the embedded MiniLM and the shipped data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import tomllib

from bertology.cli import main
from bertology.experiments import runner

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "experiments" / "quickstart.toml"
SHRINK = ["steps.attribute.limit=2", "steps.attribute.num_samples=100", "steps.attribute.n_steps=16",
          "steps.sst2_cls.cv=3", "steps.sst2_mean.cv=3", "steps.geometry.n_pairs=200"]


def _run_args(out: Path) -> list[str]:
    steps = tomllib.loads(QUICKSTART.read_text())["steps"]
    shrink = [s for s in SHRINK if s.split(".")[1] in steps]
    return ["--no-progress", "run", str(QUICKSTART), "--set", f"out={out}", *[a for s in shrink for a in ("--set", s)]]


@pytest.fixture(scope="module")
def quickstart_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("quickstart") / "run"
    assert main(_run_args(out)) == 0
    return out


def test_quickstart_runs_every_step(quickstart_run, capsys):
    manifest = json.loads((quickstart_run / "manifest.json").read_text())
    steps = list(tomllib.loads(QUICKSTART.read_text())["steps"])
    assert manifest["step_order"] == steps and set(manifest["steps"]) == set(steps)
    for name, entry in manifest["steps"].items():
        if entry["kind"] == "cloze":
            assert entry["status"] == "skipped" and "needs a masked-LM head" in entry["reason"]
        else:
            assert entry["status"] == "done", (name, entry)
            assert list((quickstart_run / name / "figures").glob("*.pdf")), name
    assert manifest["model"]["weights_sha256"].startswith("53aa5117")
    assert manifest["model"]["revision"] == "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"


def test_quickstart_rerun_is_cached_and_figures_and_report_need_no_model(quickstart_run, monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise AssertionError("model loaded")

    monkeypatch.setattr(runner, "load_model", refuse)
    assert main(_run_args(quickstart_run)) == 0
    statuses = {n: e["status"] for n, e in json.loads((quickstart_run / "manifest.json").read_text())["steps"].items()}
    assert set(statuses.values()) <= {"cached", "skipped"}
    figures = sorted(quickstart_run.glob("*/figures/*.png"))
    for path in figures:
        path.unlink()
    assert main(["figures", str(quickstart_run)]) == 0
    assert all(path.is_file() for path in figures)
    assert main(["report", str(quickstart_run)]) == 0
    page = (quickstart_run / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(figures)


def test_figures_readme_lists_every_quickstart_figure(quickstart_run):
    readme = (ROOT / "figures" / "README.md").read_text()
    manifest = json.loads((quickstart_run / "manifest.json").read_text())
    for path in quickstart_run.glob("*/figures/*.pdf"):
        kind = manifest["steps"][path.parent.parent.name]["kind"]
        generic = re.sub(r"^example\d+_.*", "example<i>_<method>", path.stem)
        assert f"| `figures/{generic}` | `{kind}` |" in readme, path
