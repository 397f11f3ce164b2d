"""Experiment configs are validated completely before any model is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

import bertology.experiments.steps  # noqa: F401  (registers every step)
from bertology.core.errors import InputError
from bertology.experiments import STEPS, StepSpec, run_experiment, runner
from bertology.experiments.config import apply_overrides, load_config, parse_value


def _never_load(*args, **kwargs):
    raise AssertionError("a model was loaded before the config was validated")


@pytest.fixture
def check_step(monkeypatch):
    """A step with an int, a float, a list, a string data path and a required parameter."""
    spec = StepSpec("check", {"n": 3, "scale": 1.0, "names": ["a"], "input": "", "label": ""},
                    run=lambda ctx: ctx.get_model(), figures=lambda out: [],
                    required=("label",), data_params=("input",))
    monkeypatch.setitem(STEPS, "check", spec)
    monkeypatch.setattr(runner, "load_model", _never_load)
    return spec


def _config(tmp_path, **step):
    return {"model": "minilm", "out": str(tmp_path / "run"), "steps": {"check": {"label": "x", **step}}}


@pytest.mark.parametrize("config_change, message", [
    ({"modle": "minilm"}, "Unknown key 'modle'"),
    ({"seed": "zero"}, "seed = 'zero' has the wrong type: expected an integer"),
    ({"data": {"rooot": "."}}, "Unknown key in [data]: 'rooot'"),
    ({"steps": {"nosuchstep": {}}}, "Unknown step [steps.nosuchstep]: available steps are"),
])
def test_bad_top_level_fails_before_loading(tmp_path, check_step, config_change, message):
    with pytest.raises(InputError) as error:
        run_experiment({**_config(tmp_path), **config_change}, progress=False)
    assert message in str(error.value)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("params, message", [
    ({"cv": 3}, "Unknown key in [steps.check]: 'cv': allowed keys are input, label, n, names, scale"),
    ({"n": "three"}, "[steps.check] n = 'three' has the wrong type: expected an integer"),
    ({"n": 2.5}, "expected an integer"),
    ({"n": True}, "expected an integer"),
    ({"names": "a"}, "expected a list"),
    ({"scale": "big"}, "expected a number"),
    ({"label": ""}, "[steps.check] needs 'label'"),
    ({"input": "missing.tsv"}, "[steps.check] input: data path"),
])
def test_bad_step_params_fail_before_loading(tmp_path, check_step, params, message):
    with pytest.raises(InputError) as error:
        run_experiment(_config(tmp_path, **params), progress=False)
    assert message in str(error.value)


def test_missing_data_path_names_the_path_and_the_fix(tmp_path, check_step):
    with pytest.raises(InputError, match=r"missing\.tsv does not exist.*--set data\.root=DIR"):
        run_experiment({**_config(tmp_path, input="missing.tsv"), "data": {"root": str(tmp_path)}}, progress=False)


def test_missing_data_root_fails(tmp_path, check_step):
    with pytest.raises(InputError, match="data.root: directory .*nowhere does not exist"):
        run_experiment(_config(tmp_path), overrides=[f"data.root={tmp_path / 'nowhere'}"], progress=False)


def test_toml_file_with_bad_override_fails_before_loading(tmp_path, check_step):
    path = tmp_path / "exp.toml"
    path.write_text('model = "minilm"\n[steps.check]\nlabel = "x"\n')
    with pytest.raises(InputError, match=r"\[steps\.check\] n = 'many'"):
        run_experiment(path, overrides=["steps.check.n=many"], progress=False)
    with pytest.raises(InputError, match="write it as key=value"):
        run_experiment(path, overrides=["model"], progress=False)


def test_invalid_toml_and_missing_file(tmp_path, check_step):
    path = tmp_path / "bad.toml"
    path.write_text("model = \n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(path)
    with pytest.raises(InputError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_overrides_and_defaults(tmp_path, check_step):
    data = tmp_path / "d.tsv"
    data.write_text("a\n1\n")
    path = tmp_path / "wsd.toml"
    path.write_text('model = "minilm"\n[steps.check]\nlabel = "x"\n')
    cfg = load_config(path, [f"data.root={tmp_path}", "model=bert-base-uncased", "steps.check.n=7",
                             "steps.check.input=d.tsv", "steps.check.scale=2"])
    assert (cfg.model, cfg.seed, cfg.out.as_posix()) == ("bert-base-uncased", 0, "runs/wsd")
    assert cfg.data_root == tmp_path.resolve()
    assert cfg.steps[0].params == {"n": 7, "scale": 2, "names": ["a"], "input": "d.tsv", "label": "x"}
    assert parse_value("1.5") == 1.5 and parse_value("/x/y") == "/x/y" and parse_value('"7"') == "7"


def test_step_order_follows_tables(check_step, monkeypatch):
    monkeypatch.setitem(STEPS, "other", StepSpec("other", {}, run=lambda ctx: None, figures=lambda d: []))
    cfg = load_config({"steps": {"other": {}, "check": {"label": "x"}}})
    assert [s.name for s in cfg.steps] == ["other", "check"] and list(cfg.raw["steps"]) == ["other", "check"]
    with pytest.raises(InputError, match="is a value, not a table"):
        apply_overrides({"model": "m"}, ["model.name=x"])


def test_no_steps_is_an_error(check_step):
    with pytest.raises(InputError, match="no steps"):
        load_config({"model": "minilm"})


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[3] / "experiments").glob("*.toml")),
                         ids=lambda p: p.name)
def test_shipped_configs_validate(path, tmp_path):
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    sets_root = "root" in raw.get("data", {})
    named = []
    for name, table in raw["steps"].items():
        spec = STEPS[table.get("step", name)]
        named += [table[key] for key in spec.data_params if table.get(key)]
    missing = [relative for relative in named if sets_root and not (tmp_path / relative).exists()]
    if missing:
        with pytest.raises(InputError, match=r"\[steps\.\w+\] \w+: data path .+ does not exist"):
            load_config(path, [f"data.root={tmp_path}"])
        for relative in missing:
            (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / relative).touch()
    cfg = load_config(path, [f"data.root={tmp_path}"] if sets_root else [])
    assert [step.name for step in cfg.steps] == list(raw["steps"])
    assert cfg.model == raw.get("model", "minilm")
