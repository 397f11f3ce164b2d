"""Dataset scale: attribute_file resumes; the CLI and the experiment step write tables and figures."""

from __future__ import annotations

import json

import pytest

import bertology as bt
from bertology.analyses.attribution import attribute_file, load_results
from bertology.analyses.attribution import records as records_module
from bertology.cli import main
from bertology.experiments import run_experiment

SENTENCES = ["the film was great", "the boys hated the city", "a great film"]


@pytest.fixture(scope="module")
def clf(tiny_model):
    return bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))


def test_attribute_file_resumes(clf, tmp_path, monkeypatch, caplog):
    path = tmp_path / "s.txt"
    path.write_text("\n".join(SENTENCES) + "\n")
    options = {"ig": {"n_steps": 4}, "lime": {"num_samples": 20}}
    first = attribute_file(clf, path, tmp_path / "out", methods=["ig", "lime"], options=options, progress=False)
    assert [(r.text, r.method) for r in first][:2] == [(SENTENCES[0], "integrated_gradients"), (SENTENCES[0], "lime")]
    assert len(first) == 6
    lines = (tmp_path / "out" / "attributions.jsonl").read_text().splitlines()
    with open(tmp_path / "out" / "attributions.jsonl", "w") as handle:
        handle.write("\n".join(lines[:4]) + "\n" + lines[4][:30])
    calls = []
    real = records_module.attribute
    monkeypatch.setattr(records_module, "attribute", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    with caplog.at_level("WARNING", logger="bertology.analyses.attribution.records"):
        second = attribute_file(clf, path, tmp_path / "out", methods=["ig", "lime"], options=options,
                                progress=False)
    assert caplog.text.count("dropping an unfinished line") == 1
    assert (tmp_path / "out" / "attributions.jsonl").read_text().splitlines()[:4] == lines[:4]
    assert calls == [SENTENCES[2], SENTENCES[2]]
    assert [r.to_dict() for r in second[:4]] == [r.to_dict() for r in first[:4]]
    attribute_file(clf, path, tmp_path / "out", methods=["ig", "lime"], options=options, progress=False)
    assert len(calls) == 2 and len(load_results(tmp_path / "out")) == 6


def test_cli_with_a_classifier_checkpoint(tiny_model_dir, tmp_path, capsys):
    path = tmp_path / "s.txt"
    path.write_text("\n".join(SENTENCES))
    out = tmp_path / "attr"
    code = main(["attribute", "--model", str(tiny_model_dir("distilbert", "classifier")), "--input", str(path),
                 "--method", "ig,lime", "--n-steps", "4", "--num-samples", "20", "--out", str(out)])
    assert code == 0
    assert "aopc_comprehensiveness" in capsys.readouterr().out
    assert len((out / "attributions.jsonl").read_text().splitlines()) == 6
    for name in ("faithfulness.csv", "rank_agreement.csv", "faithfulness_summary.csv", "example_lime.html",
                 "figures/faithfulness.png", "figures/example0_integrated_gradients.pdf", "figures/example0_lime.png"):
        assert (out / name).exists(), name
    assert json.loads((out / "classifier.json").read_text())["kind"] == "sequence-classification"


def test_cli_trains_a_probe_and_reports_errors(tiny_model_dir, tmp_path, capsys):
    data = tmp_path / "train.tsv"
    data.write_text("sentence\tlabel\n" + "\n".join(
        f"{t}\t{y}" for t, y in [("great film", 1), ("loved it", 1), ("hated it", 0), ("terrible city", 0)]))
    path = tmp_path / "s.txt"
    path.write_text(SENTENCES[0])
    out = tmp_path / "attr"
    code = main(["attribute", "--model", str(tiny_model_dir("bert", "base")), "--train-probe", str(data),
                 "--input", str(path), "--method", "lime", "--num-samples", "20", "--out", str(out)])
    assert code == 0
    description = json.loads((out / "classifier.json").read_text())
    assert description["kind"] == "probe" and description["layer"] == 3
    assert main(["attribute", "--model", str(tiny_model_dir("bert", "base")), "--train-probe", str(data),
                 "--input", str(path), "--target", "happy", "--out", str(tmp_path / "x")]) == 2
    assert "Unknown target label 'happy'" in capsys.readouterr().err


def test_experiment_step(tiny_model_dir, tmp_path):
    data = tmp_path / "sst.tsv"
    data.write_text("sentence\tlabel\n" + "\n".join(
        f"{t}\t{y}" for t, y in [("great film", 1), ("loved it", 1), ("hated it", 0), ("terrible city", 0)]))
    config = {"model": str(tiny_model_dir("bert", "base")), "seed": 3, "out": str(tmp_path / "run"),
              "steps": {"attribute": {"probe_data": str(data), "n_sentences": 2, "n_steps": 4, "num_samples": 20}}}
    run = run_experiment(config, progress=False)
    step_dir = tmp_path / "run" / "attribute"
    if not step_dir.exists():
        step_dir = next(p.parent for p in (tmp_path / "run").rglob("faithfulness.csv"))
    assert (step_dir / "faithfulness.csv").exists()
    assert (step_dir / "figures" / "faithfulness.png").exists()
    results = load_results(step_dir)
    assert len(results) == 4 and {r.parameters.get("seed") for r in results if r.method == "lime"} == {3}
    assert run is not None
