"""Experiment configs are validated completely before any model is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

import bertology.experiments.steps  # noqa: F401  (registers every step)
from bertology.core.errors import InputError
from bertology.experiments import STEPS, StepSpec, run_experiment, runner
from bertology.experiments.config import apply_overrides, load_config, model_depth, parse_value


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


@pytest.mark.parametrize("name", ["../victim", "/abs/dir", "a/b", "..", ".", ".hidden", "a b", "-x", "x" * 101, ""])
def test_step_names_must_be_plain_directory_names(tmp_path, check_step, name):
    config = {"model": "minilm", "out": str(tmp_path / "run"), "steps": {name: {"step": "check", "label": "x"}}}
    with pytest.raises(InputError, match="is not a plain directory name"):
        run_experiment(config, progress=False)
    assert list(tmp_path.iterdir()) == []


SST2 = "shipped:sst2_sample.tsv"


@pytest.mark.parametrize("step, params, message", [
    ("extract", {"input": SST2, "pool": "maxx"}, "[steps.s] pool = 'maxx': Unknown pooling 'maxx'"),
    ("extract", {"input": SST2, "pool": "word"}, "[steps.s] pool = 'word' pools the target word: name the column"),
    ("extract", {"input": SST2, "layers": 99}, "[steps.s] layers = 99: Layer 99 is out of range"),
    ("extract", {"input": SST2, "layers": "1-x"}, "[steps.s] layers = '1-x': Cannot read layers"),
    ("extract", {"input": SST2, "layers": [0, "x"]}, "[steps.s] layers = [0, 'x']: a list of layers holds integers"),
    ("extract", {"input": SST2, "dtype": "float99"}, "[steps.s] dtype = 'float99': choose one of float32, float16"),
    ("extract", {"input": SST2, "format": "xml"}, "[steps.s] format = 'xml': choose one of auto, tsv"),
    ("extract", {"input": SST2, "batch_size": 0}, "[steps.s] batch_size = 0: it must be at least 1"),
    ("probe", {"cv": 1}, "[steps.s] cv = 1: cv must be >= 2 folds, or 0 for the dataset's official split"),
    ("probe", {"cv": -3}, "[steps.s] cv = -3: cv must be >= 2 folds"),
    ("probe", {"pool": "maxx"}, "[steps.s] pool = 'maxx': Unknown pooling 'maxx'"),
    ("probe", {"dataset": "imdb"}, "[steps.s] dataset = 'imdb': choose one of coarsewsd20, sst2, table"),
    ("probe", {"dataset": "table"}, "[steps.s] dataset = \"table\" reads a labelled file"),
    ("probe", {"seed": ["a"]}, "[steps.s] seed = ['a']: give an integer, or a non-empty list"),
    ("probe", {"label_column": ""}, "[steps.s] label_column = '' is blank: give a column name"),
    ("probe", {"layers": "0,9"}, "[steps.s] layers = '0,9': Layer 9 is out of range"),
    ("geometry", {"method": "tsne"}, "[steps.s] method = 'tsne': choose one of pca, umap"),
    ("geometry", {"n_pairs": 0}, "[steps.s] n_pairs = 0: it must be at least 1"),
    ("attention", {"example_text": " "}, "[steps.s] example_text = ' ' is blank: give a sentence"),
    ("attention", {"example_text": "", "example_text_b": "Yes."}, "[steps.s] example_text_b is the second sentence"),
    ("attribute", {"classifier": "svm"}, "[steps.s] classifier = 'svm': use 'probe'"),
    ("attribute", {"methods": ["ig", "shap"]}, "[steps.s] methods = ['ig', 'shap']: Unknown attribution method"),
    ("attribute", {"methods": []}, "[steps.s] methods = []: name at least one method"),
    ("attribute", {"baseline": "zero"}, "[steps.s] baseline = 'zero': choose one of pad, mask, unk"),
    ("attribute", {"num_samples": 0}, "[steps.s] num_samples = 0: it must be at least 1"),
    ("attribute", {"layer": 7}, "[steps.s] layer = 7: Layer 7 is out of range"),
    ("cloze", {"suites": ["nosuch"]}, "[steps.s] suites: Suite 'nosuch' is neither a shipped suite"),
    ("cloze", {"pll_variant": "l2r"}, "[steps.s] pll_variant = 'l2r': choose one of original, within_word_l2r"),
    ("cloze", {"fill_templates": ["No marker here."]}, "[steps.s] fill_templates: 'No marker here.' needs exactly"),
    ("cloze", {"top_k": 0}, "[steps.s] top_k = 0: it must be at least 1"),
])
def test_step_values_fail_before_loading_and_before_earlier_steps(tmp_path, monkeypatch, step, params, message):
    monkeypatch.setattr(runner, "load_model", _never_load)
    config = {"model": "minilm", "out": str(tmp_path / "run"),
              "steps": {"first": {"step": "attention"}, "s": {"step": step, **params}}}
    with pytest.raises(InputError) as error:
        run_experiment(config, progress=False)
    assert message in str(error.value)
    assert not (tmp_path / "run").exists()


def test_layers_are_checked_against_the_depth_in_the_model_config(tmp_path, tiny_model_dir, monkeypatch):
    monkeypatch.setattr(runner, "load_model", _never_load)
    model = str(tiny_model_dir("distilbert", "base"))
    assert model_depth(model) == 3 and model_depth("minilm") == 6
    config = {"model": model, "out": str(tmp_path / "run"), "steps": {"extract": {"input": SST2, "layers": [0, 4]}}}
    with pytest.raises(InputError, match=r"layers = \[0, 4\]: Layer 4 is out of range: this model has hidden "
                                         r"states 0\.\.3"):
        run_experiment(config, progress=False)
    assert load_config({**config, "steps": {"extract": {"input": SST2, "layers": [0, 3]}}}).steps[0].params["layers"]


def test_without_a_readable_model_config_only_the_form_of_layers_is_checked():
    assert model_depth("nosuch-org/nosuch-model") is None
    config = {"model": "nosuch-org/nosuch-model", "steps": {"extract": {"input": SST2, "layers": "0,40"}}}
    assert load_config(config).steps[0].params["layers"] == "0,40"
    with pytest.raises(InputError, match="layers = '0-x': Cannot read layers"):
        load_config({**config, "steps": {"extract": {"input": SST2, "layers": "0-x"}}})


@pytest.mark.parametrize("out", ["", "  "])
def test_empty_out_fails_before_anything_is_written(tmp_path, check_step, out, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="out = '' is empty|out = '  ' is empty"):
        run_experiment({**_config(tmp_path), "out": out}, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_unknown_device_fails_before_loading(tmp_path, check_step):
    with pytest.raises(InputError, match="device = 'tpu7': Unknown device 'tpu7'"):
        run_experiment({**_config(tmp_path), "device": "tpu7"}, progress=False)
    assert not (tmp_path / "run").exists()


def test_non_utf8_toml_and_a_directory_are_named(tmp_path, check_step):
    path = tmp_path / "latin1.toml"
    path.write_bytes('model = "minilm"\n# caf\xe9\n[steps.check]\nlabel = "x"\n'.encode("latin-1"))
    with pytest.raises(InputError, match=r"latin1\.toml is not UTF-8 text \(byte 0xe9 at offset 22\)"):
        load_config(path)
    with pytest.raises(InputError, match="is a directory: give a TOML file"):
        load_config(tmp_path)
