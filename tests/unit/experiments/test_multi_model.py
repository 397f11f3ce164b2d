"""Multi-model experiment runs: every step per model, cached per model, combined tables and figures."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from bertology.core.errors import InputError
from bertology.core.models import model_provenance
from bertology.experiments import render_run_figures, run_experiment, runner, write_report
from bertology.experiments.compare import Comparison
from bertology.experiments.config import model_slug

TEXTS = ["The bank in the city is closed.", "We sat on the river bank, quietly.", "The boys are here.",
         "It rained all day, so we stayed in."]
WORDS = ["great", "awful", "fine", "dull", "loved", "hated", "good", "bad"]


def _write_data(root):
    root.mkdir()
    (root / "corpus.txt").write_text("\n".join(TEXTS) + "\n")
    rows = [f"the film was {WORDS[i % 8]} and {WORDS[(i * 3) % 8]}\t{i % 2}" for i in range(16)]
    (root / "films.tsv").write_text("sentence\tlabel\n" + "\n".join(rows) + "\n")
    return root


@pytest.fixture
def data(tmp_path):
    return _write_data(tmp_path / "data")


STEPS = {"probe": {"dataset": "table", "input": "films.tsv", "cv": 2, "pool": "mean", "batch_size": 8},
         "attention": {"input": "corpus.txt", "example_text": "", "batch_size": 2},
         "extract": {"input": "films.tsv", "layers": "0,3", "pool": "mean"}}


def _config(models, data, out, steps=("probe", "attention", "extract")):
    key = {"models": models} if isinstance(models, list) else {"model": models}
    return {**key, "out": str(out), "data": {"root": str(data)}, "steps": {name: STEPS[name] for name in steps}}


@pytest.fixture(scope="module")
def runs(seeded_bert, tmp_path_factory):
    """A two-model run of probe, attention and extract, and each model's own run (per-model figures not drawn)."""
    root = tmp_path_factory.mktemp("multi")
    data = _write_data(root / "data")
    models = [seeded_bert(0), seeded_bert(1)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "render_step_figures", lambda spec, directory: [])
        multi = run_experiment(_config(models, data, root / "multi"), progress=False)
        singles = {model: run_experiment(_config(model, data, root / f"single{i}"), progress=False)
                   for i, model in enumerate(models)}
    return models, multi, singles


@pytest.fixture
def loads(monkeypatch):
    calls = []
    real = runner.load_model

    def counting(name, head="base", **kwargs):
        calls.append(name)
        return real(name, head=head, **kwargs)

    monkeypatch.setattr(runner, "load_model", counting)
    return calls


def _forbid_loading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("model loaded")

    monkeypatch.setattr(runner, "load_model", refuse)


def test_a_multi_model_run_equals_the_single_model_runs(runs):
    models, run, singles = runs
    for model, single in singles.items():
        for step, table in (("probe", "table.csv"), ("attention", "stats/head_stats.csv"),
                            ("extract", "norms/table.csv")):
            assert (run.directory / model_slug(model) / step / table).read_bytes() == \
                (single.directory / step / table).read_bytes()
    assert run.models == models and list(run.model_runs()) == models
    for step in ("probe", "attention"):
        combined = Comparison.load(run.directory / "compare" / step)
        expected = pd.concat([singles[m].results[step].to_frame().assign(model=m) for m in models], ignore_index=True)
        expected = expected[["model", *expected.columns[:-1]]]
        pd.testing.assert_frame_equal(combined.to_frame(), expected, check_exact=True)
        assert run.results[step].figures == ["figures/comparison.pdf", "figures/comparison.png"]
    norms = pd.read_csv(run.directory / "compare" / "extract" / "norms" / "table.csv")
    assert norms["model"].tolist() == [models[0]] * 2 + [models[1]] * 2
    assert run.results["extract"].figures == []


def test_the_manifest_lists_each_model_and_its_hash(runs):
    models, run, _ = runs
    manifest = json.loads((run.directory / "manifest.json").read_text())
    assert manifest == run.manifest
    assert [entry["name"] for entry in manifest["models"]] == models
    hashes = [entry["weights_sha256"] for entry in manifest["models"]]
    assert hashes == [model_provenance(m)["weights_sha256"] for m in models] and len(set(hashes)) == 2
    assert [entry["slug"] for entry in manifest["models"]] == [model_slug(m) for m in models]
    assert manifest["config"]["models"] == models and "model" not in manifest["config"]
    assert manifest["steps"]["probe"]["models"] == {m: "done" for m in models}
    for model in models:
        sub = json.loads((run.directory / model_slug(model) / "manifest.json").read_text())
        assert sub["model"]["name"] == model and sub["config"]["model"] == model


def test_adding_a_model_runs_only_that_model(seeded_bert, data, tmp_path, loads, monkeypatch):
    models = [seeded_bert(0), seeded_bert(1)]
    run_experiment(_config(models, data, tmp_path / "run", steps=("extract",)), progress=False)
    assert loads == models
    loads.clear()
    third = seeded_bert(2)
    run = run_experiment(_config([*models, third], data, tmp_path / "run", steps=("extract",)), progress=False)
    assert loads == [third]
    assert run.results["extract"].status == "done"
    assert run.results["extract"].to_frame()["model"].unique().tolist() == [*models, third]
    model_runs = run.model_runs()
    assert [model_runs[m].results["extract"].status for m in (*models, third)] == ["cached", "cached", "done"]
    _forbid_loading(monkeypatch)
    again = run_experiment(_config([*models, third], data, tmp_path / "run", steps=("extract",)), progress=False)
    assert again.results["extract"].status == "cached" and again.manifest["models"][2]["model_loaded"] is False


def test_figures_and_report_work_for_a_multi_model_run(seeded_bert, data, tmp_path, monkeypatch):
    models = [seeded_bert(0), seeded_bert(1)]
    with monkeypatch.context() as patch:
        patch.setattr(runner, "render_step_figures", lambda spec, directory: [])
        run_experiment(_config(models, data, tmp_path / "run", steps=("probe", "extract")), progress=False)
    figure = tmp_path / "run" / "compare" / "probe" / "figures" / "comparison.png"
    figure.unlink()
    _forbid_loading(monkeypatch)
    written = render_run_figures(tmp_path / "run")
    slug = model_slug(models[0])
    assert set(written) == {f"{slug}/probe", f"{slug}/extract", f"{model_slug(models[1])}/probe",
                            f"{model_slug(models[1])}/extract", "compare/probe", "compare/extract"}
    assert figure.is_file() and written["compare/extract"] == []
    page = write_report(tmp_path / "run").read_text()
    assert "models <b>" in page and "compare/probe/figures" in page and "data:image/png;base64," in page


@pytest.mark.parametrize("change, message", [
    ({"models": []}, r"models = \[\] is empty"),
    ({"models": ["DUP", "DUP"]}, "models lists .* twice"),
    ({"models": ["DUP", "DUP/"]}, "models lists .* twice"),
    ({"model": "DUP"}, "both model = .* and models = "),
    ({"models": ["DUP", ""]}, "is not a model name"),
    ({"models": "DUP"}, "models = .* has the wrong type: expected a list"),
])
def test_bad_model_lists_fail_before_any_model_loads(seeded_bert, data, tmp_path, monkeypatch, change, message):
    model = seeded_bert(0)
    config = _config([model, seeded_bert(1)], data, tmp_path / "run")
    for key, value in change.items():
        config[key] = [model if v == "DUP" else model + "/" if v == "DUP/" else v for v in value] \
            if isinstance(value, list) else (model if value == "DUP" else value)
    _forbid_loading(monkeypatch)
    with pytest.raises(InputError, match=message):
        run_experiment(config, progress=False)
    assert not (tmp_path / "run").exists()


def test_a_foreign_directory_where_a_model_would_run_is_kept(seeded_bert, data, tmp_path, monkeypatch):
    models = [seeded_bert(0), seeded_bert(1)]
    foreign = tmp_path / "run" / model_slug(models[1])
    foreign.mkdir(parents=True)
    (foreign / "notes.txt").write_text("mine")
    _forbid_loading(monkeypatch)
    with pytest.raises(InputError, match="holds files but no manifest.json, so it is not a bertology run"):
        run_experiment(_config(models, data, tmp_path / "run"), progress=False)
    assert (foreign / "notes.txt").read_text() == "mine"
