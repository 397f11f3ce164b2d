"""Runs: caching, resuming, skipping, manifests, figure regeneration and the CLI, with dummy steps."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from bertology.cli import build_parser, main
from bertology.core.errors import InputError, StoreError
from bertology.core.viz import new_figure, save_figure
from bertology.experiments import STEPS, StepSpec, render_run_figures, run_experiment, runner
from bertology.experiments.config import load_config

FORWARD = {"alpha": 0, "beta": 0}


def _table_step(name):
    def run(ctx):
        model = ctx.get_model()
        batch = model.tokenizer(["a tiny text"] * ctx.params["n"], return_tensors="pt")
        with torch.no_grad():
            hidden = model(**batch).last_hidden_state
        FORWARD[name] += 1
        frame = pd.DataFrame({"item": range(ctx.params["n"]), "value": hidden[:, 0, 0].tolist(),
                              "label": [ctx.params["label"]] * ctx.params["n"]})
        frame.to_csv(ctx.out / "table.csv", index=False)
        (ctx.out / "summary.json").write_text(json.dumps({"seed": ctx.seed}))

    def figures(out):
        frame = pd.read_csv(out / "table.csv")
        figure, axes = new_figure()
        axes.plot(frame["item"], frame["value"], marker="o")
        return save_figure(figure, out / "figures" / f"{name}_values")

    return StepSpec(name, {"n": 3, "label": "x"}, run=run, figures=figures)


def _resumable_run(ctx):
    part = ctx.out / "part1.txt"
    resumed = part.exists()
    part.write_text("first half")
    if ctx.params["interrupt"]:
        raise KeyboardInterrupt
    (ctx.out / "result.csv").write_text(f"resumed\n{int(resumed)}\n")


def _mlm_run(ctx):
    model = ctx.get_model(head="mlm")
    (ctx.out / "mlm.csv").write_text(f"vocab\n{model.model.config.vocab_size}\n")


@pytest.fixture
def steps(monkeypatch):
    for spec in (_table_step("alpha"), _table_step("beta"),
                 StepSpec("resumable", {"interrupt": False}, run=_resumable_run, figures=lambda d: []),
                 StepSpec("masked", {}, run=_mlm_run, figures=lambda d: [], needs_mlm=True)):
        monkeypatch.setitem(STEPS, spec.name, spec)
    FORWARD.update(alpha=0, beta=0)


@pytest.fixture
def loads(monkeypatch):
    calls = []
    real = runner.load_model

    def counting(name, head="base", **kwargs):
        calls.append(head)
        return real(name, head=head, **kwargs)

    monkeypatch.setattr(runner, "load_model", counting)
    return calls


def _forbid_loading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("model loaded")

    monkeypatch.setattr(runner, "load_model", refuse)


@pytest.fixture
def config(tmp_path, tiny_model_dir):
    return {"model": str(tiny_model_dir("bert", "base")), "seed": 3, "out": str(tmp_path / "run"),
            "steps": {"beta": {"label": "<script>alert(1)</script>"}, "alpha": {"n": 2}}}


def test_run_writes_results_and_manifest(steps, loads, config, tmp_path):
    run = run_experiment(config, progress=False)
    assert loads == ["base"] and FORWARD == {"alpha": 1, "beta": 1}
    assert run.results["alpha"].to_frame()["item"].tolist() == [0, 1]
    assert run.results["alpha"].files == ["summary.json", "table.csv"]
    assert run.results["beta"].figures == ["figures/beta_values.pdf", "figures/beta_values.png"]
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest == run.manifest
    assert manifest["model"]["weights_sha256"] and manifest["model"]["name"] == config["model"]
    assert manifest["config"]["steps"]["alpha"] == {"n": 2, "label": "x"}
    assert manifest["step_order"] == ["beta", "alpha"] and list(run.results) == ["beta", "alpha"]
    assert manifest["seed"] == 3 and json.loads((tmp_path / "run/alpha/summary.json").read_text()) == {"seed": 3}
    assert manifest["packages"]["torch"] and manifest["packages"]["bertology"]
    assert manifest["started"] <= manifest["finished"]
    for name in ("alpha", "beta"):
        entry = manifest["steps"][name]
        assert entry["status"] == "done" and entry["elapsed_s"] >= 0 and entry["started"] and entry["key"]


def test_rerun_does_no_model_work(steps, config, monkeypatch):
    first = run_experiment(config, progress=False)
    _forbid_loading(monkeypatch)
    run = run_experiment(config, progress=False)
    assert FORWARD == {"alpha": 1, "beta": 1}
    assert {name: r.status for name, r in run.results.items()} == {"alpha": "cached", "beta": "cached"}
    assert run.manifest["model"] == first.manifest["model"] and run.manifest["model_loaded"] is False


def test_deleting_one_result_file_reruns_only_that_step(steps, loads, config, tmp_path):
    run_experiment(config, progress=False)
    (tmp_path / "run" / "alpha" / "table.csv").unlink()
    run = run_experiment(config, progress=False)
    assert {name: r.status for name, r in run.results.items()} == {"alpha": "done", "beta": "cached"}
    assert FORWARD == {"alpha": 2, "beta": 1}
    assert (tmp_path / "run" / "alpha" / "table.csv").is_file()


def test_changed_params_rerun_only_that_step_and_force_redoes_all(steps, config):
    run_experiment(config, progress=False)
    run = run_experiment(config, overrides=["steps.beta.n=4"], progress=False)
    assert {name: r.status for name, r in run.results.items()} == {"alpha": "cached", "beta": "done"}
    assert len(run.results["beta"].to_frame()) == 4
    run = run_experiment(config, overrides=["steps.beta.n=4"], force=True, progress=False)
    assert {name: r.status for name, r in run.results.items()} == {"alpha": "done", "beta": "done"}
    assert FORWARD == {"alpha": 2, "beta": 3}


def test_missing_figure_is_rerendered_without_the_model(steps, config, tmp_path, monkeypatch):
    run_experiment(config, progress=False)
    (tmp_path / "run" / "alpha" / "figures" / "alpha_values.png").unlink()
    _forbid_loading(monkeypatch)
    run = run_experiment(config, progress=False)
    assert run.results["alpha"].status == "cached"
    assert (tmp_path / "run" / "alpha" / "figures" / "alpha_values.png").is_file()


def test_interrupted_step_is_resumed(steps, config, tmp_path):
    config["steps"] = {"alpha": {}, "resumable": {"interrupt": True}}
    with pytest.raises(KeyboardInterrupt):
        run_experiment(config, progress=False)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["steps"]["alpha"]["status"] == "done" and manifest["steps"]["resumable"]["status"] == "failed"
    def finish(ctx):
        ctx.params["interrupt"] = False
        _resumable_run(ctx)

    STEPS["resumable"] = StepSpec("resumable", {"interrupt": True}, run=finish, figures=lambda d: [])
    run = run_experiment(config, progress=False)
    assert run.results["resumable"].status == "done" and run.results["alpha"].status == "cached"
    assert run.results["resumable"].to_frame()["resumed"].tolist() == [1]


def test_mlm_step_is_skipped_plainly_without_an_mlm_head(steps, loads, config, monkeypatch):
    config["steps"] = {"alpha": {}, "masked": {}}
    run = run_experiment(config, progress=False)
    masked = run.results["masked"]
    assert masked.status == "skipped" and "needs a masked-LM head" in masked.reason
    assert run.results["alpha"].status == "done"
    assert loads == ["base", "mlm"]
    _forbid_loading(monkeypatch)
    again = run_experiment(config, progress=False)
    assert again.results["masked"].status == "skipped" and again.results["masked"].reason == masked.reason


def test_mlm_step_runs_with_an_mlm_head(steps, tiny_model_dir, tmp_path):
    run = run_experiment({"model": str(tiny_model_dir("bert", "mlm")), "out": str(tmp_path / "mlm"),
                          "steps": {"masked": {}}}, progress=False)
    assert run.results["masked"].status == "done" and run.results["masked"].to_frame()["vocab"].item() > 0


def test_figures_are_reproduced_without_loading_a_model(steps, config, tmp_path, monkeypatch, capsys):
    run = run_experiment(config, progress=False)
    before = {name: sorted(r.figures) for name, r in run.results.items()}
    for name in ("alpha", "beta"):
        for path in (tmp_path / "run" / name / "figures").iterdir():
            path.unlink()
    build_parser()  # imports every subcommand module while bertology.core.models.load_model is still the real one
    _forbid_loading(monkeypatch)
    monkeypatch.setattr("bertology.core.models.load_model", runner.load_model)
    written = render_run_figures(tmp_path / "run")
    assert {name: sorted(p.relative_to(tmp_path / "run" / name).as_posix() for p in files)
            for name, files in written.items()} == before
    assert all(p.stat().st_size > 0 for files in written.values() for p in files)
    assert main(["figures", str(tmp_path / "run")]) == 0
    assert "alpha_values.pdf" in capsys.readouterr().out


def test_cli_run_set_and_errors(steps, config, tmp_path, capsys):
    path = tmp_path / "exp.toml"
    path.write_text(f'model = "{config["model"]}"\nout = "{tmp_path / "cli"}"\n[steps.alpha]\nn = 1\n')
    assert main(["run", str(path), "--set", "steps.alpha.n=2"]) == 0
    out = capsys.readouterr().out
    assert "alpha" in out and "done" in out
    assert main(["run", str(path), "--set", "steps.alpha.n=2"]) == 0
    assert "cached" in capsys.readouterr().out
    assert main(["run", str(path), "--set", "steps.alpha.cv=3"]) == 2
    assert "Unknown key in [steps.alpha]: 'cv'" in capsys.readouterr().err
    assert main(["figures", str(tmp_path / "nothing")]) == 2


def test_extract_step_writes_a_store(tiny_model_dir, tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "words.tsv").write_text("sentence\tword_pos\nthe bank was closed\t1\nwe sat on the river bank\t5\n")
    config = {"model": str(tiny_model_dir("bert", "base")), "out": str(tmp_path / "run"), "data": {"root": str(data)},
              "steps": {"extract": {"input": "words.tsv", "word_column": "word_pos", "pool": "word", "layers": [0, 2]}}}
    run = run_experiment(config, progress=False)
    frame = run.results["extract"].to_frame()
    assert frame["layer"].tolist() == [0, 2] and (frame["mean_norm"] > 0).all()
    from bertology.experiments.steps.extract_step import load_store
    assert load_store(tmp_path / "run" / "extract")[2].shape[0] == 2
    assert set(run.manifest["steps"]["extract"]["data"]) == {"input"}
    _forbid_loading(monkeypatch)
    assert run_experiment(config, progress=False).results["extract"].status == "cached"
    (data / "words.tsv").write_text("sentence\tword_pos\nthe bank was open\t1\n")
    with pytest.raises(AssertionError, match="model loaded"):
        run_experiment(config, progress=False)


def test_one_step_runs_twice_under_two_table_names(steps, config, tmp_path, monkeypatch):
    config["steps"] = {"small": {"step": "alpha", "n": 1}, "large": {"step": "alpha", "n": 4}}
    run = run_experiment(config, progress=False)
    assert [len(run.results[name].to_frame()) for name in ("small", "large")] == [1, 4]
    assert run.manifest["config"]["steps"]["large"] == {"step": "alpha", "n": 4, "label": "x"}
    assert run.manifest["steps"]["small"]["kind"] == "alpha"
    _forbid_loading(monkeypatch)
    assert set(render_run_figures(tmp_path / "run")) == {"small", "large"}
    config["steps"]["small"]["step"] = "gamma"
    with pytest.raises(InputError, match="Unknown step .steps.small. step = 'gamma': available steps are"):
        run_experiment(config, progress=False)


@pytest.fixture
def victim(tmp_path):
    directory = tmp_path / "victim"
    directory.mkdir()
    (directory / "thesis.tex").write_text("years of work")
    return directory


@pytest.mark.parametrize("name", ["../victim", "VICTIM_ABSOLUTE"])
def test_a_step_name_never_reaches_outside_the_run(steps, config, victim, tmp_path, monkeypatch, name):
    name = str(victim) if name == "VICTIM_ABSOLUTE" else name
    config["steps"] = {name: {"step": "alpha"}}
    _forbid_loading(monkeypatch)
    with pytest.raises(InputError, match="is not a plain directory name"):
        run_experiment(config, progress=False)
    assert [p.name for p in victim.iterdir()] == ["thesis.tex"] and (victim / "thesis.tex").read_text() == "years of work"
    assert not (tmp_path / "run").exists()


def test_a_step_directory_that_links_outside_the_run_is_never_removed(steps, config, victim, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "alpha").symlink_to(victim, target_is_directory=True)
    with pytest.raises(InputError, match="alpha, which is a link or lies outside the run directory"):
        run_experiment(config, progress=False)
    cfg = load_config(config)
    step = next(s for s in cfg.steps if s.name == "alpha")
    with pytest.raises(StoreError, match="Not removing .*alpha: it is a link"):
        runner.run_step(step, cfg, runner.ModelLoader(cfg.model), {"name": cfg.model}, force=True, progress=False)
    assert (victim / "thesis.tex").read_text() == "years of work"


def test_a_directory_bertology_did_not_write_is_not_replaced(steps, config, tmp_path, monkeypatch):
    (tmp_path / "run" / "alpha").mkdir(parents=True)
    (tmp_path / "run" / "alpha" / "notes.txt").write_text("mine")
    _forbid_loading(monkeypatch)
    with pytest.raises(InputError, match="holds files but no step.json, so it is not a step of a bertology run"):
        run_experiment(config, progress=False)
    assert (tmp_path / "run" / "alpha" / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "run" / "manifest.json").exists()


def test_out_that_is_a_file_or_holds_another_manifest_fails_before_loading(steps, config, tmp_path, monkeypatch):
    _forbid_loading(monkeypatch)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file, not a directory"):
        run_experiment({**config, "out": str(tmp_path / "file")}, progress=False)
    with pytest.raises(InputError, match="Cannot write to"):
        run_experiment({**config, "out": str(tmp_path / "file" / "run")}, progress=False)
    store = tmp_path / "store"
    store.mkdir()
    (store / "manifest.json").write_text('{"layers": [0, 1], "complete": true}')
    with pytest.raises(InputError, match="holds a manifest.json that is not a bertology run's"):
        run_experiment({**config, "out": str(store)}, progress=False)
    assert (store / "manifest.json").read_text() == '{"layers": [0, 1], "complete": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "store"]


def test_a_truncated_result_is_recomputed_not_reused(steps, config, tmp_path):
    run_experiment(config, progress=False)
    table = tmp_path / "run" / "alpha" / "table.csv"
    table.write_bytes(table.read_bytes()[:-10])
    run = run_experiment(config, progress=False)
    assert {name: r.status for name, r in run.results.items()} == {"alpha": "done", "beta": "cached"}
    assert len(run.results["alpha"].to_frame()) == 2


def test_figures_of_a_damaged_run_are_a_named_error(steps, config, tmp_path, monkeypatch):
    run_experiment(config, progress=False)
    _forbid_loading(monkeypatch)
    table = tmp_path / "run" / "alpha" / "table.csv"
    table.write_bytes(table.read_bytes()[:-10])
    before = sorted((tmp_path / "run" / "beta" / "figures").iterdir())
    with pytest.raises(StoreError, match=r"Step 'alpha' of .*run: table.csv is missing, truncated or changed since "
                                         r"the step finished: run the experiment again"):
        render_run_figures(tmp_path / "run")
    assert sorted((tmp_path / "run" / "beta" / "figures").iterdir()) == before
    (tmp_path / "run" / "manifest.json").write_text('{"steps": {"alpha": ')
    with pytest.raises(StoreError, match=r"manifest.json is damaged \(JSONDecodeError"):
        render_run_figures(tmp_path / "run")
    (tmp_path / "run" / "manifest.json").write_text('{"step_order": ["../victim"], "steps": {"../victim": {}}}')
    with pytest.raises(StoreError, match="step '../victim' is not a plain directory name"):
        render_run_figures(tmp_path / "run")
    (tmp_path / "run" / "manifest.json").write_text("[]")
    with pytest.raises(StoreError, match="not a run manifest"):
        render_run_figures(tmp_path / "run")


def test_an_unreadable_table_is_a_store_error(tmp_path):
    from bertology.experiments.results import StepResult

    (tmp_path / "t.csv").write_bytes(b"a,b\n\xff\xfe,1\n")
    with pytest.raises(StoreError, match=r"Table .*t.csv of step 's' cannot be read \(UnicodeDecodeError"):
        StepResult("s", tmp_path, "done", files=["t.csv"]).table("t")


def test_a_garbage_marker_reads_as_none(tmp_path):
    from bertology.experiments.cache import read_marker

    for content in (b"\xff\xfe garbage", b"[1, 2]", b'{"status": '):
        (tmp_path / "step.json").write_bytes(content)
        assert read_marker(tmp_path) is None
