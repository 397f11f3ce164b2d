"""bt.compare: one analysis on several models equals the separate runs concatenated; bad input fails before loading."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import bertology as bt
from bertology.analyses.attention.stats import attention_stats
from bertology.analyses.geometry.similarity import context_similarity
from bertology.analyses.probes.layerwise import probe_layers
from bertology.cli import main
from bertology.core.data import ProbeDataset
from bertology.core.errors import InputError
from bertology.experiments import compare as compare_module
from bertology.experiments.compare import ANALYSES, Comparison, compare, short_labels

TEXTS = ["The bank in the city is closed.", "We sat on the river bank, quietly.", "The boys are here.",
         "It rained all day, so we stayed in.", "A cat slept."]


@pytest.fixture(scope="module")
def sentiment():
    words = ["great", "awful", "fine", "dull", "loved", "hated", "good", "bad"]
    texts = [f"the film was {words[i % 8]} and {words[(i * 3) % 8]}" for i in range(24)]
    return ProbeDataset(texts, np.array([i % 2 for i in range(24)]), ["negative", "positive"], name="toy")


@pytest.fixture
def two(seeded_bert):
    return [seeded_bert(0), seeded_bert(1)]


def _stacked(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    parts = []
    for model, frame in frames.items():
        frame = frame.copy()
        frame.insert(0, "model", model)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def _forbid_loading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("model loaded")

    monkeypatch.setattr(compare_module, "load_model", refuse)


def test_probe_comparison_equals_the_separate_runs(two, sentiment, tmp_path):
    options = dict(pool="mean", cv=2, seed=[0, 1], layers="all", batch_size=8)
    result = compare(two, analysis="probe", data=sentiment, out=tmp_path / "cmp", progress=False, **options)
    separate = {model: probe_layers(bt.load_model(model), sentiment, progress=False, **options).to_frame()
                for model in two}
    pd.testing.assert_frame_equal(result.to_frame(), _stacked(separate), check_exact=True)
    assert not result.to_frame(two[0]).drop(columns="model").equals(result.to_frame(two[1]).drop(columns="model"))
    assert result.models == two and result.analysis == "probe"
    assert [result.meta["identities"][m]["weights_sha256"] for m in two] == \
        [bt.load_model(m).weights_sha256 for m in two]
    loaded = Comparison.load(tmp_path / "cmp")
    pd.testing.assert_frame_equal(loaded.to_frame(), result.to_frame())
    assert sorted(p.name for p in (tmp_path / "cmp" / "figures").iterdir()) == ["comparison.pdf", "comparison.png"]


def test_attention_comparison_equals_the_separate_runs(two):
    result = compare(two, analysis="attention", texts=TEXTS, batch_size=2, progress=False)
    separate = {model: attention_stats(bt.load_model(model), TEXTS, batch_size=2, progress=False).to_frame()
                for model in two}
    pd.testing.assert_frame_equal(result.to_frame(), _stacked(separate), check_exact=True)
    figure = result.plot(statistics=["to_cls", "entropy"], width="column")
    assert isinstance(figure, Figure) and len(figure.axes[0].lines) == 2


def test_geometry_comparison_equals_the_separate_runs(two):
    data = bt.data.load_coarsewsd20("bank")
    result = compare(two, analysis="geometry", data=data, layers="0,3", progress=False)
    separate = {model: context_similarity(bt.load_model(model), data, layers="0,3", progress=False).to_frame()
                for model in two}
    pd.testing.assert_frame_equal(result.to_frame(), _stacked(separate), check_exact=True)
    assert result.meta["dataset"] == data.name


def test_cloze_comparison_loads_the_mlm_head(seeded_bert):
    models = [seeded_bert(0, "mlm"), seeded_bert(1, "mlm")]
    result = compare(models, analysis="cloze", suites=["telicity"], n_boot=20, progress=False)
    separate = {model: bt.run_suite(bt.load_model(model, head="mlm"), "telicity", n_boot=20, progress=False)
                for model in models}
    expected = _stacked({model: r.to_frame() for model, r in separate.items()})
    expected.insert(1, "suite", "telicity")
    pd.testing.assert_frame_equal(result.to_frame(), expected, check_exact=True)
    assert result.meta["primary_metric"] == {"telicity": "accuracy"}
    assert isinstance(result.plot(), Figure)


def test_similarity_compares_every_pair(seeded_bert):
    models = [seeded_bert(0), seeded_bert(1), seeded_bert(2)]
    result = compare(models, analysis="similarity", texts=TEXTS, layers="0,3", progress=False)
    frame = result.to_frame()
    assert list(pd.unique(frame["model"])) == [f"{models[0]} vs {models[1]}", f"{models[0]} vs {models[2]}",
                                               f"{models[1]} vs {models[2]}"]
    direct = bt.similarity(models[0], models[2], texts=TEXTS, layers="0,3", progress=False).to_frame()
    rows = frame[frame["model"] == f"{models[0]} vs {models[2]}"].drop(columns=["model", "model_a", "model_b"])
    pd.testing.assert_frame_equal(rows.reset_index(drop=True), direct, check_exact=True)
    assert len(result.plot().axes[0].lines) == 3


@pytest.mark.parametrize("models, options, message", [
    ([], {"texts": TEXTS}, "models is empty"),
    ("minilm", {"texts": TEXTS}, "models is empty or not a list"),
    (["minilm", "minilm"], {"texts": TEXTS}, "models lists 'minilm' twice"),
    (["minilm"], {}, r"needs texts=\.\.\."),
    (["minilm"], {"texts": TEXTS, "cv": 3}, "has no option 'cv'"),
    (["minilm"], {"texts": TEXTS, "average": "corpus"}, "average='corpus' is unknown"),
    (["minilm"], {"texts": []}, "texts must be a non-empty list"),
    (["minilm"], {"texts": TEXTS, "analysis": "syntax"}, "cannot be compared"),
])
def test_bad_input_fails_before_any_model_loads(models, options, message, monkeypatch):
    _forbid_loading(monkeypatch)
    options = {"analysis": "attention", **options}
    with pytest.raises(InputError, match=message):
        compare(models, progress=False, **options)


def test_more_bad_input_before_loading(two, sentiment, tmp_path, monkeypatch):
    _forbid_loading(monkeypatch)
    with pytest.raises(InputError, match="twice"):
        compare([two[0], two[0] + "/"], analysis="attention", texts=TEXTS)
    with pytest.raises(InputError, match="cv must be >= 2"):
        compare(two, analysis="probe", data=sentiment, cv=1)
    with pytest.raises(InputError, match=r"Layer 9 is out of range.*model"):
        compare(two, analysis="probe", data=sentiment, layers="0,9")
    with pytest.raises(InputError, match="data must be word-level items"):
        compare(two, analysis="geometry", data=sentiment)
    with pytest.raises(InputError, match="Unknown suite|unknown suite|nosuchsuite"):
        compare(two, analysis="cloze", suites=["nosuchsuite"])
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        compare(two, analysis="attention", texts=TEXTS, out=tmp_path / "file")
    with pytest.raises(InputError, match="pairs of models"):
        compare(two[:1], analysis="similarity", texts=TEXTS)


def test_the_cli_writes_the_same_comparison(two, tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(TEXTS) + "\n")
    argv = ["--no-progress", "compare", "--model", two[0], "--model", two[1], "--analysis", "attention",
            "--input", str(corpus), "--batch-size", "2", "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    assert "compared 2 models on attention" in capsys.readouterr().out
    expected = compare(two, analysis="attention", texts=TEXTS, batch_size=2, progress=False)
    pd.testing.assert_frame_equal(Comparison.load(tmp_path / "out").to_frame(), expected.to_frame())
    assert main(argv[:-2] + ["--cv", "3", "--out", str(tmp_path / "o2")]) == 2
    assert "--cv is an option of --analysis probe, not attention" in capsys.readouterr().err


def test_cli_choices_are_the_analyses():
    from bertology.cli.compare import ANALYSES as CLI_ANALYSES
    from bertology.cli.compare import OPTIONS

    assert set(CLI_ANALYSES) == set(ANALYSES) == set(OPTIONS)


def test_short_labels_and_export():
    assert short_labels(["a/final", "b/final", "c"]) == {"a/final": "a/final", "b/final": "b/final", "c": "c"}
    assert bt.compare is compare and bt.Comparison is Comparison
