"""The syntax task, its experiment step and its command save what the analysis functions return."""

from __future__ import annotations

import pandas as pd
import pytest
import transformers

from bertology.analyses.syntax import (
    DependencyHeads,
    EdgeProbeResult,
    StructuralProbeResult,
    conllu_to_edges,
    dependency_heads,
    edge_probe,
    structural_probe,
    syntax_task,
)
from bertology.cli import main
from bertology.core.data import load_conllu
from bertology.core.errors import InputError
from bertology.core.paths import SHIPPED_DIR
from bertology.experiments import run_experiment

SAMPLE = SHIPPED_DIR / "ud_sample.conllu"


@pytest.fixture(scope="module")
def syntax_run(tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("syntax") / "out"
    model = tiny_model("bert")
    results = syntax_task(model, SAMPLE, out, test=SAMPLE, layers="0,2", rank=8, progress=False)
    return model, out, results


def test_task_saves_each_analysis_as_its_function_returns_it(syntax_run, tmp_path):
    model, out, results = syntax_run
    treebank = load_conllu(SAMPLE)
    assert sorted(results) == ["dependency_heads", "edges", "structural_depth", "structural_distance"]
    for kind in ("distance", "depth"):
        direct = structural_probe(model, treebank, test=treebank, kind=kind, layers="0,2", rank=8,
                                  out=tmp_path / kind, progress=False)
        saved = StructuralProbeResult.load(out / f"structural_{kind}")
        pd.testing.assert_frame_equal(saved.to_frame(), direct.to_frame(), check_dtype=False)
    heads = dependency_heads(model, treebank, progress=False)
    pd.testing.assert_frame_equal(DependencyHeads.load(out / "dependency_heads").to_frame(), heads.to_frame(),
                                  check_dtype=False)
    edges = edge_probe(model, conllu_to_edges(treebank, task="dep"), conllu_to_edges(treebank, task="dep"),
                       layers="0,2", progress=False)
    pd.testing.assert_frame_equal(EdgeProbeResult.load(out / "edges").to_frame(), edges.to_frame(), check_dtype=False)


def test_task_renders_every_figure(syntax_run):
    _, out, _ = syntax_run
    names = sorted(path.stem for path in (out / "figures").glob("*.png"))
    assert names == ["dependency_heads", "edge_probe", "structural_depth", "structural_depth_tree",
                     "structural_distance", "structural_distance_tree"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"analyses": ["trees"]}, "analyses=['trees']"),
    ({"kinds": []}, "kinds=[]"),
    ({"pool": "cls"}, "pool='cls'"),
    ({"layers": "1-x"}, "1-x"),
    ({"test": "missing.conllu"}, "missing.conllu"),
])
def test_bad_arguments_fail_before_the_model_loads(kwargs, message, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(transformers.PreTrainedModel, "from_pretrained", classmethod(refuse))
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        syntax_task("minilm", SAMPLE, tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_step_and_command_write_what_the_task_writes(tiny_model_dir, tmp_path):
    model = str(tiny_model_dir("bert"))
    run_experiment({"model": model, "out": str(tmp_path / "run"),
                    "steps": {"syntax": {"analyses": ["heads"], "train": str(SAMPLE)}}}, progress=False)
    assert main(["--no-progress", "syntax", "--model", model, "--train", str(SAMPLE), "--analyses", "heads",
                 "--out", str(tmp_path / "cli")]) == 0
    from_step = DependencyHeads.load(tmp_path / "run" / "syntax" / "dependency_heads").to_frame()
    from_command = DependencyHeads.load(tmp_path / "cli" / "dependency_heads").to_frame()
    pd.testing.assert_frame_equal(from_step, from_command)
    assert (tmp_path / "run" / "syntax" / "figures" / "dependency_heads.png").is_file()
