"""attribute_task and the ``attribute`` step: classifier choice, input files, tables, figures, batching."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import bertology as bt
from bertology.analyses.attribution import FaithfulnessResult, attribute_task, load_attributions, task
from bertology.analyses.attribution.task import build_classifier, read_probe
from bertology.analyses.probes import LinearProbe
from bertology.cli import main
from bertology.core.errors import InputError
from bertology.core.extraction import extract
from bertology.experiments import run_experiment

SENTENCES = ["the film was great", "the boys hated the city", "a great film"]
TRAIN = [("great film", 1), ("loved it", 1), ("hated it", 0), ("terrible city", 0)]


@pytest.fixture
def train_tsv(tmp_path):
    data = tmp_path / "train.tsv"
    data.write_text("sentence\tlabel\n" + "\n".join(f"{t}\t{y}" for t, y in TRAIN))
    return data


def test_task_with_a_classifier_checkpoint(tiny_model_dir, tiny_model, tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("\n".join(SENTENCES))
    out = tmp_path / "attr"
    scores = attribute_task(str(tiny_model_dir("distilbert", "classifier")), path, out, methods=["ig", "lime"],
                            n_steps=4, num_samples=20, progress=False)
    assert "aopc_comprehensiveness" in scores.summary().columns
    assert len((out / "attributions.jsonl").read_text().splitlines()) == 6
    for name in ("faithfulness.csv", "rank_agreement.csv", "faithfulness_summary.csv", "example_lime.html",
                 "figures/faithfulness.png", "figures/example0_integrated_gradients.pdf", "figures/example0_lime.png"):
        assert (out / name).exists(), name
    assert json.loads((out / "classifier.json").read_text())["kind"] == "sequence-classification"
    clf = bt.Classifier.from_pretrained(tiny_model("distilbert", "classifier"))
    attributions = load_attributions(out)
    assert [r.text for r in attributions[::2]] == SENTENCES
    assert attributions[2] == bt.attribute(clf, SENTENCES[1], n_steps=4)
    assert attributions[3].word_scores == pytest.approx(
        bt.attribute(clf, SENTENCES[1], method="lime", num_samples=20, seed=0).word_scores, abs=1e-6)
    expected = bt.faithfulness(clf, attributions)
    pd.testing.assert_frame_equal(scores.scores, expected.scores)
    pd.testing.assert_frame_equal(FaithfulnessResult.load(out).to_frame(), scores.to_frame())
    pd.testing.assert_frame_equal(pd.read_csv(out / "faithfulness_summary.csv"), scores.summary(), check_dtype=False)


def test_task_trains_a_probe_and_reports_errors(tiny_model_dir, train_tsv, tmp_path):
    out = tmp_path / "attr"
    model = str(tiny_model_dir("bert", "base"))
    scores = attribute_task(model, [SENTENCES[0]], out, methods=["lime"], probe_data=train_tsv, num_samples=20,
                            figures=False, progress=False)
    description = json.loads((out / "classifier.json").read_text())
    assert description["kind"] == "probe" and description["layer"] == 3
    assert description["probe_train_accuracy"] == pytest.approx(
        build_classifier(model, probe_data=train_tsv, progress=False).description["probe_train_accuracy"])
    assert scores.summary()["n_items"].tolist() == [1] and not (out / "figures").exists()
    with pytest.raises(InputError, match="Unknown target label 'happy'"):
        attribute_task(model, [SENTENCES[0]], tmp_path / "x", probe_data=train_tsv, target="happy", progress=False)
    with pytest.raises(InputError, match="does not exist"):
        attribute_task(model, tmp_path / "missing.txt", tmp_path / "y", progress=False)
    with pytest.raises(InputError, match="Probe file .*missing.npz does not exist.*LinearProbe"):
        attribute_task(model, SENTENCES, tmp_path / "z", probe=tmp_path / "missing.npz", progress=False)


def test_loaded_model_head_chooses_the_classifier(tiny_model, train_tsv):
    assert build_classifier(tiny_model("bert", "classifier")).description["kind"] == "sequence-classification"
    assert build_classifier(tiny_model("bert", "base"), probe_data=train_tsv, layer=1,
                            progress=False).description["layer"] == 1


def test_text_column_limit_and_batch_size(tiny_model, tmp_path):
    model = tiny_model("bert", "classifier")
    table = tmp_path / "reviews.csv"
    table.write_text("id,review\n" + "\n".join(f"{i},{text}" for i, text in enumerate(SENTENCES)))
    rows = []
    handle = model.model.bert.embeddings.register_forward_hook(lambda module, args, output: rows.append(
        output.shape[0]))
    try:
        attribute_task(model, table, tmp_path / "a", methods=["ig", "lime"], text_column="review", limit=2,
                       n_steps=4, num_samples=40, batch_size=16, figures=False, progress=False)
    finally:
        handle.remove()
    assert [r.text for r in load_attributions(tmp_path / "a")] == [SENTENCES[0]] * 2 + [SENTENCES[1]] * 2
    assert max(rows) == 16


def test_experiment_step(tiny_model_dir, train_tsv, tmp_path):
    sentences = tmp_path / "s.txt"
    sentences.write_text("\n".join(SENTENCES))
    config = {"model": str(tiny_model_dir("bert", "base")), "seed": 3, "out": str(tmp_path / "run"),
              "steps": {"attribute": {"probe_data": str(train_tsv), "input": str(sentences), "limit": 2,
                                      "n_steps": 4, "num_samples": 20}}}
    run = run_experiment(config, progress=False)
    step_dir = tmp_path / "run" / "attribute"
    assert run.results["attribute"].status == "done"
    assert (step_dir / "figures" / "faithfulness.png").exists()
    assert (step_dir / "figures" / "example0_lime.png").exists()
    results = load_attributions(step_dir)
    assert [r.text for r in results] == [SENTENCES[0]] * 2 + [SENTENCES[1]] * 2
    assert {r.parameters.get("seed") for r in results if r.method == "lime"} == {3}
    assert FaithfulnessResult.load(step_dir).summary()["n_items"].tolist() == [2, 2]


def test_experiment_step_defaults_to_the_probe_data(tiny_model_dir, train_tsv, tmp_path):
    config = {"model": str(tiny_model_dir("bert", "base")), "seed": 0, "out": str(tmp_path / "run"),
              "steps": {"attribute": {"probe_data": str(train_tsv), "methods": ["lime"], "num_samples": 20}}}
    run_experiment(config, progress=False)
    assert [r.text for r in load_attributions(tmp_path / "run" / "attribute")] == [t for t, _ in TRAIN]


class _RunsCode:
    """Unpickling this creates ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return Path.touch, (self.path,)


@pytest.fixture
def tiny_features(tiny_model):
    model = tiny_model("bert", "base")
    texts = [text for text, _ in TRAIN]
    return model, extract(model, texts, layers=-1, pool="cls", progress=False)[-1], [y for _, y in TRAIN]


def test_saved_probe_file_is_read_without_pickle(tiny_features, tmp_path):
    model, features, labels = tiny_features
    probe = LinearProbe().fit(features, labels)
    clf = build_classifier(model, probe=probe.save(tmp_path / "probe.npz"))
    assert clf.description["probe_file"] == str(tmp_path / "probe.npz") and clf.labels == ["negative", "positive"]
    np.testing.assert_allclose(clf.predict_proba([t for t, _ in TRAIN]), probe.predict_proba(features), atol=1e-5)


def test_pickled_probe_needs_trust_pickle_and_is_refused_before_the_model_loads(tiny_features, tmp_path):
    model, features, labels = tiny_features
    marker = tmp_path / "code-ran"
    joblib.dump(_RunsCode(marker), tmp_path / "evil.joblib")
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(_RunsCode(marker)))
    no_model = str(tmp_path / "no-model-here")
    for name in ("evil.joblib", "evil.pkl"):
        with pytest.raises(InputError, match=f"{name} is not a LinearProbe .npz.*--trust-pickle"):
            build_classifier(no_model, probe=tmp_path / name)
        with pytest.raises(InputError, match="--trust-pickle"):
            attribute_task(no_model, SENTENCES, tmp_path / "out", probe=tmp_path / name, progress=False)
    assert not marker.exists()
    regression = LogisticRegression().fit(features, labels)
    joblib.dump(regression, tmp_path / "sklearn.joblib")
    with pytest.raises(InputError, match="--trust-pickle"):
        read_probe(tmp_path / "sklearn.joblib")
    clf = build_classifier(model, probe=tmp_path / "sklearn.joblib", trust_pickle=True)
    np.testing.assert_allclose(clf.predict_proba([t for t, _ in TRAIN]), regression.predict_proba(features),
                               atol=1e-5)
    (tmp_path / "broken.joblib").write_bytes(b"\x80\x04garbage")
    with pytest.raises(InputError, match="broken.joblib could not be unpickled"):
        read_probe(tmp_path / "broken.joblib", trust_pickle=True)
    with pytest.raises(InputError, match="is a directory"):
        read_probe(tmp_path)


def test_cli_trust_pickle_flag(tiny_features, tmp_path, capsys):
    model, features, labels = tiny_features
    joblib.dump(LogisticRegression().fit(features, labels), tmp_path / "sklearn.joblib")
    sentences = tmp_path / "s.txt"
    sentences.write_text(SENTENCES[0])
    argv = ["attribute", "--model", model.source, "--input", str(sentences), "--probe",
            str(tmp_path / "sklearn.joblib"), "--method", "lime", "--num-samples", "10"]
    assert main([*argv, "--out", str(tmp_path / "refused")]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "--trust-pickle" in error
    assert not (tmp_path / "refused" / "attributions.jsonl").exists()
    assert main([*argv, "--out", str(tmp_path / "trusted"), "--trust-pickle"]) in (0, None)
    assert json.loads((tmp_path / "trusted" / "classifier.json").read_text())["probe"] == "LogisticRegression"


@pytest.mark.parametrize("kwargs, message", [({"methods": ["shap"]}, "Unknown attribution method 'shap'"),
                                             ({"removal": "blank"}, "Unknown removal 'blank'")])
def test_arguments_are_checked_before_the_model_loads(monkeypatch, tmp_path, kwargs, message):
    monkeypatch.setattr(task, "load_model", lambda *args, **kw: pytest.fail("the model was loaded"))
    with pytest.raises(InputError, match=message):
        attribute_task("minilm", SENTENCES, tmp_path / "out", **kwargs, progress=False)


def test_output_is_checked_before_the_model_loads(monkeypatch, tmp_path):
    monkeypatch.setattr(task, "load_model", lambda *args, **kw: pytest.fail("the model was loaded"))
    (tmp_path / "file").write_text("keep me")
    with pytest.raises(InputError, match="is a file, not a directory"):
        attribute_task("minilm", SENTENCES, tmp_path / "file", progress=False)
    with pytest.raises(InputError, match="output directory is empty"):
        attribute_task("minilm", SENTENCES, "", progress=False)
    assert (tmp_path / "file").read_text() == "keep me"
