"""Every command × bad input: exit 2, one line on stderr, no traceback, nothing written, nothing lost.

Each row runs ``bertology.cli.main`` in-process on tiny models. Before the command runs,
the test directory holds the inputs, a file and a directory that bad output paths point at,
and ``victim/``, a directory beside the outputs; afterwards every file must be there with
the same bytes and no file may have been added (the writability check may leave an empty
output directory). Rows marked ``loads`` may need the model to find the problem (a layer
past the model's depth); every other row must fail before any model weights are loaded.
"""

from __future__ import annotations

import json
import pickle
import shlex
import shutil
from pathlib import Path

import pytest
import transformers

from bertology.cli import main
from bertology.core.paths import SHIPPED_DIR
from bertology.experiments import run_experiment

GOOD = "sentence\tlabel\nthe film was great\t1\nthe film was awful\t0\na fine film\t1\na dull film\t0\n"


def _write_inputs(root: Path) -> None:
    (root / "victim").mkdir()
    (root / "victim" / "keep.txt").write_text("precious")
    (root / "existing.txt").write_text("an existing file")
    (root / "adir").mkdir()
    (root / "adir" / "inside.txt").write_text("a file in a directory")
    (root / "good.tsv").write_text(GOOD)
    (root / "latin1.tsv").write_bytes("sentence\tlabel\nun café crème\t1\nun thé\t0\n".encode("latin-1"))
    (root / "binary.tsv").write_bytes(bytes(range(256)) * 4)
    (root / "noheader.tsv").write_text("the film was great\t1\nthe film was awful\t0\n")
    (root / "oneclass.tsv").write_text("sentence\tlabel\na fine film\t1\nthe film was great\t1\ngood\t1\nnice\t1\n")
    (root / "words.tsv").write_text("sentence\tword_pos\nthe bank of the river\t-1\nthe bank closed\t1\n")
    (root / "probe.joblib").write_bytes(pickle.dumps({"coef_": [[1.0]]}))
    (root / "crows.csv").write_text(",sent_more,sent_less,stereo_antistereo,bias_type,annotations,anon_writer,"
                                    "anon_annotators\n0,He is a doctor.,\n")
    (root / "latin1.toml").write_bytes('model = "minilm"\n# caf\xe9\n[steps.attention]\n'.encode("latin-1"))
    (root / "broken.toml").write_text("model = \n")


def _toml(root: Path, name: str, text: str) -> str:
    path = root / name
    path.write_text(text)
    return str(path)


def _run_config(root: Path, model: str, steps: str) -> str:
    return _toml(root, "exp.toml", f'model = "{model}"\nout = "{root / "run"}"\n{steps}')


def _damage_manifest(root: Path) -> None:
    (root / "stored" / "manifest.json").write_text('{"steps": {"extract": ')


def _truncate_table(root: Path) -> None:
    table = root / "stored" / "extract" / "norms" / "table.csv"
    table.write_bytes(table.read_bytes()[:-7])


def _step_name(name: str):
    return lambda root, models: _run_config(root, models["bert"], f'[steps."{name}"]\nstep = "attention"\n')


def _absolute_step(root, models):
    return _run_config(root, models["bert"], f'[steps."{root / "victim"}"]\nstep = "attention"\n')


def _run_with(steps: str):
    return lambda root, models: _run_config(root, models["bert"], steps)


def _models(entries: str, extra: str = ""):
    return lambda root, models: _toml(root, "exp.toml", f'models = [{entries.format(**models)}]\n{extra}'
                                                        f'out = "{root / "run"}"\n[steps.attention]\n')


ROWS = [
    # command, argv (placeholders: {root}, {bert}, {mlm}, {config}), config factory, setup, loads
    ("extract-out-is-file", "extract --model {bert} --input {root}/good.tsv --out {root}/existing.txt", None, None, 0),
    ("extract-out-empty", "extract --model {bert} --input {root}/good.tsv --out=", None, None, 0),
    ("extract-out-under-file", "extract --model {bert} --input {root}/good.tsv --out {root}/existing.txt/store",
     None, None, 0),
    ("extract-input-missing", "extract --model {bert} --input {root}/missing.tsv --out {root}/out", None, None, 0),
    ("extract-input-directory", "extract --model {bert} --input {root}/adir --out {root}/out", None, None, 0),
    ("extract-input-latin1", "extract --model {bert} --input {root}/latin1.tsv --out {root}/out", None, None, 0),
    ("extract-input-binary", "extract --model {bert} --input {root}/binary.tsv --out {root}/out", None, None, 0),
    ("extract-input-no-header", "extract --model {bert} --input {root}/noheader.tsv --out {root}/out", None, None, 0),
    ("extract-format-unknown", "extract --model {bert} --input {root}/good.tsv --format xml --out {root}/out",
     None, None, 0),
    ("extract-layers-unreadable", "extract --model {bert} --input {root}/good.tsv --layers 1-x --out {root}/out",
     None, None, 0),
    ("extract-layers-past-depth", "extract --model {bert} --input {root}/good.tsv --layers 99 --out {root}/out",
     None, None, 1),
    ("extract-pool-unknown", "extract --model {bert} --input {root}/good.tsv --pool maxx --out {root}/out",
     None, None, 0),
    ("extract-word-index-negative", "extract --model {bert} --input {root}/words.tsv --pool word "
                                    "--word-column word_pos --out {root}/out", None, None, 1),
    ("extract-device-unknown", "extract --model {bert} --input {root}/good.tsv --device tpu7 --out {root}/out",
     None, None, 0),
    ("extract-batch-size-zero", "extract --model {bert} --input {root}/good.tsv --batch-size 0 --out {root}/out",
     None, None, 0),
    ("extract-model-missing", "extract --model {root}/nomodel --input {root}/good.tsv --out {root}/out",
     None, None, 0),
    ("probe-cv-1", "probe --model {bert} --dataset table --input {root}/good.tsv --cv 1 --out {root}/out",
     None, None, 0),
    ("probe-cv-negative", "probe --model {bert} --dataset table --input {root}/good.tsv --cv -3 --out {root}/out",
     None, None, 0),
    ("probe-one-class", "probe --model {bert} --dataset table --input {root}/oneclass.tsv --cv 2 --out {root}/out",
     None, None, 0),
    ("probe-table-without-input", "probe --model {bert} --dataset table --out {root}/out", None, None, 0),
    ("probe-label-column-missing", "probe --model {bert} --dataset table --input {root}/good.tsv "
                                   "--label-column polarity --out {root}/out", None, None, 0),
    ("probe-input-latin1", "probe --model {bert} --dataset table --input {root}/latin1.tsv --out {root}/out",
     None, None, 0),
    ("probe-seeds-unreadable", "probe --model {bert} --dataset sst2 --seed a,b --out {root}/out", None, None, 0),
    ("probe-out-is-file", "probe --model {bert} --dataset table --input {root}/good.tsv --out {root}/existing.txt",
     None, None, 0),
    ("geometry-unknown-word", "geometry --model {bert} --word nosuchword --out {root}/out", None, None, 0),
    ("geometry-input-is-file", "geometry --model {bert} --input {root}/good.tsv --out {root}/out", None, None, 0),
    ("geometry-method-unknown", "geometry --model {bert} --method tsne --out {root}/out", None, None, 0),
    ("geometry-out-is-file", "geometry --model {bert} --out {root}/existing.txt", None, None, 0),
    ("attention-input-missing", "attention --model {bert} --input {root}/missing.txt --out {root}/out",
     None, None, 0),
    ("attention-input-binary", "attention --model {bert} --input {root}/binary.tsv --out {root}/out", None, None, 0),
    ("attention-pair-without-first", "attention --model {bert} --input {root}/good.tsv --example-text-b Yes. "
                                     "--out {root}/out", None, None, 0),
    ("attention-out-is-file", "attention --model {bert} --input {root}/good.tsv --out {root}/existing.txt",
     None, None, 0),
    ("attention-out-empty", "attention --model {bert} --input {root}/good.tsv --out=", None, None, 0),
    ("head-view-text-empty", "head-view --model {bert} --text= --out {root}/view.html", None, None, 0),
    ("head-view-out-is-directory", "head-view --model {bert} --text Hello. --out {root}/adir", None, None, 0),
    ("head-view-out-empty", "head-view --model {bert} --text Hello. --out=", None, None, 0),
    ("attribute-pickle-untrusted", "attribute --model {bert} --probe {root}/probe.joblib --input {root}/good.tsv "
                                   "--out {root}/out", None, None, 0),
    ("attribute-input-missing", "attribute --model {bert} --train-probe {root}/good.tsv --input {root}/missing.tsv "
                                "--out {root}/out", None, None, 0),
    ("attribute-method-unknown", "attribute --model {bert} --train-probe {root}/good.tsv --input {root}/good.tsv "
                                 "--method shap --out {root}/out", None, None, 0),
    ("attribute-out-is-file", "attribute --model {bert} --train-probe {root}/good.tsv --input {root}/good.tsv "
                              "--out {root}/existing.txt", None, None, 0),
    ("explanations-no-input", "explanations --model {bert} --train-probe {root}/good.tsv --out {root}/out",
     None, None, 0),
    ("explanations-input-and-rationales", "explanations --model {bert} --train-probe {root}/good.tsv --input "
                                          "{root}/good.tsv --rationales {root}/adir --out {root}/out", None, None, 0),
    ("explanations-rationales-missing", "explanations --model {bert} --train-probe {root}/good.tsv --rationales "
                                        "{root}/missing --out {root}/out", None, None, 0),
    ("explanations-out-is-file", "explanations --model {bert} --train-probe {root}/good.tsv --input "
                                 "{root}/good.tsv --out {root}/existing.txt", None, None, 0),
    ("cloze-suite-unknown", "cloze --model {mlm} --suite nosuchsuite --out {root}/out", None, None, 0),
    ("cloze-crows-missing", "cloze --model {mlm} --crows-pairs {root}/missing.csv --out {root}/out", None, None, 0),
    ("cloze-crows-truncated-row", "cloze --model {mlm} --crows-pairs {root}/crows.csv --out {root}/out",
     None, None, 0),
    ("cloze-out-is-file", "cloze --model {mlm} --out {root}/existing.txt", None, None, 0),
    ("cloze-without-mlm-head", "cloze --model {bert} --out {root}/out", None, None, 1),
    ("syntax-train-missing", "syntax --model {bert} --train {root}/missing.conllu --out {root}/out", None, None, 0),
    ("syntax-train-directory", "syntax --model {bert} --train {root}/adir --out {root}/out", None, None, 0),
    ("syntax-train-not-conllu", "syntax --model {bert} --train {root}/good.tsv --out {root}/out", None, None, 0),
    ("syntax-train-latin1", "syntax --model {bert} --train {root}/latin1.tsv --out {root}/out", None, None, 0),
    ("syntax-analysis-unknown", "syntax --model {bert} --train {ud} --analyses trees --out {root}/out", None, None,
     0),
    ("syntax-layers-unreadable", "syntax --model {bert} --train {ud} --layers 1-x --out {root}/out", None, None, 0),
    ("syntax-out-is-file", "syntax --model {bert} --train {ud} --out {root}/existing.txt", None, None, 0),
    ("probe-upos-without-input", "probe --model {bert} --dataset upos --out {root}/out", None, None, 0),
    ("probe-upos-not-conllu", "probe --model {bert} --dataset upos --input {root}/good.tsv --out {root}/out", None,
     None, 0),
    ("heads-cloze-bias-suite", "heads --model {mlm} --loss cloze --suite gender-occupation --out {root}/out", None,
     None, 0),
    ("heads-cloze-suite-missing", "heads --model {mlm} --loss cloze --suite {root}/missing.jsonl --out {root}/out",
     None, None, 0),
    ("heads-input-missing", "heads --model {bert} --dataset table --input {root}/missing.tsv --out {root}/out",
     None, None, 0),
    ("heads-table-without-input", "heads --model {bert} --dataset table --out {root}/out", None, None, 0),
    ("heads-label-column-missing", "heads --model {bert} --dataset table --input {root}/good.tsv "
                                   "--label-column polarity --out {root}/out", None, None, 0),
    ("heads-random-orders-negative", "heads --model {bert} --random-orders -1 --out {root}/out", None, None, 0),
    ("heads-mask-prob-zero", "heads --model {mlm} --loss mlm --mask-prob 0 --out {root}/out", None, None, 0),
    ("heads-out-is-file", "heads --model {bert} --out {root}/existing.txt", None, None, 0),
    ("heads-without-classifier-head", "heads --model {bert} --out {root}/out", None, None, 1),
    ("patch-suite-unknown", "patch --model {mlm} --suite nosuchsuite --out {root}/out", None, None, 0),
    ("patch-suite-missing", "patch --model {mlm} --suite {root}/missing.jsonl --out {root}/out", None, None, 0),
    ("patch-components-unknown", "patch --model {mlm} --components mlp --out {root}/out", None, None, 0),
    ("patch-positions-unreadable", "patch --model {mlm} --positions 1-x --out {root}/out", None, None, 0),
    ("patch-out-is-file", "patch --model {mlm} --out {root}/existing.txt", None, None, 0),
    ("patch-without-mlm-head", "patch --model {bert} --out {root}/out", None, None, 1),
    ("erase-method-unknown", "erase --model {bert} --dataset table --input {root}/good.tsv --layer 1 --method pca "
                             "--out {root}/out", None, None, 0),
    ("erase-one-class", "erase --model {bert} --dataset table --input {root}/oneclass.tsv --layer 1 --out {root}/out",
     None, None, 0),
    ("erase-input-missing", "erase --model {bert} --dataset table --input {root}/missing.tsv --layer 1 "
                            "--out {root}/out", None, None, 0),
    ("erase-controls-zero", "erase --model {bert} --dataset table --input {root}/good.tsv --layer 1 --controls 0 "
                            "--out {root}/out", None, None, 0),
    ("erase-layer-past-depth", "erase --model {bert} --dataset table --input {root}/good.tsv --layer 99 "
                               "--out {root}/out", None, None, 1),
    ("erase-out-is-file", "erase --model {bert} --dataset table --input {root}/good.tsv --layer 1 "
                          "--out {root}/existing.txt", None, None, 0),
    ("run-erase-method-unknown", "run {config} --set steps.erase.method='\"pca\"'", _run_with("[steps.erase]\n"),
     None, 0),
    ("run-patch-components-unknown", "run {config} --set steps.patch.components='[\"mlp\"]'",
     _run_with("[steps.patch]\n"), None, 0),
    ("run-heads-metric-unknown", "run {config} --set steps.heads.metric='\"f1\"'", _run_with("[steps.heads]\n"),
     None, 0),
    ("similarity-metric-unknown", "similarity --model {bert} --input {root}/good.tsv --metric cca --out {root}/out",
     None, None, 0),
    ("similarity-models-without-input", "similarity --model {bert} --out {root}/out", None, None, 0),
    ("similarity-input-missing", "similarity --model {bert} --input {root}/missing.tsv --out {root}/out",
     None, None, 0),
    ("similarity-input-with-stores", "similarity --model {root}/stored/extract/store --input {root}/good.tsv "
                                     "--out {root}/out", None, None, 0),
    ("similarity-store-layer-missing", "similarity --model {root}/stored/extract/store --layers 2 --out {root}/out",
     None, None, 0),
    ("similarity-store-with-model", "similarity --model {root}/stored/extract/store --model-b {bert} "
                                    "--out {root}/out", None, None, 0),
    ("similarity-layers-unreadable", "similarity --model {bert} --input {root}/good.tsv --layers 1-x "
                                     "--out {root}/out", None, None, 0),
    ("similarity-pwcca-too-few-rows", "similarity --model {bert} --input {root}/good.tsv --metric pwcca "
                                      "--out {root}/out", None, None, 1),
    ("similarity-out-is-file", "similarity --model {bert} --input {root}/good.tsv --out {root}/existing.txt",
     None, None, 0),
    ("run-config-missing", "run {root}/missing.toml", None, None, 0),
    ("run-config-directory", "run {root}/adir", None, None, 0),
    ("run-config-latin1", "run {root}/latin1.toml", None, None, 0),
    ("run-config-invalid", "run {root}/broken.toml", None, None, 0),
    ("run-step-name-parent", "run {config}", _step_name("../victim"), None, 0),
    ("run-step-name-absolute", "run {config}", _absolute_step, None, 0),
    ("run-step-name-nested", "run {config}", _step_name("a/b"), None, 0),
    ("run-pool-unknown", "run {config} --set steps.extract.pool=maxx",
     _run_with('[steps.extract]\ninput = "shipped:sst2_sample.tsv"\n'), None, 0),
    ("run-layers-past-depth", "run {config} --set steps.extract.layers=99",
     _run_with('[steps.extract]\ninput = "shipped:sst2_sample.tsv"\n'), None, 0),
    ("run-layers-unreadable", "run {config} --set steps.extract.layers=1-x",
     _run_with('[steps.extract]\ninput = "shipped:sst2_sample.tsv"\n'), None, 0),
    ("run-cv-1", "run {config} --set steps.probe.cv=1", _run_with("[steps.attention]\n[steps.probe]\n"), None, 0),
    ("run-example-text-blank", "run {config} --set steps.attention.example_text='\" \"'",
     _run_with("[steps.attention]\n"), None, 0),
    ("run-out-empty", "run {config} --out=", _run_with("[steps.attention]\n"), None, 0),
    ("run-out-is-file", "run {config} --out {root}/existing.txt", _run_with("[steps.attention]\n"), None, 0),
    ("run-out-holds-a-foreign-step-directory", "run {config} --out {root}", _run_with("[steps.adir]\nstep = "
                                                                                     "\"attention\"\n"), None, 0),
    ("run-unknown-step", "run {config}", _run_with("[steps.nosuchstep]\n"), None, 0),
    ("run-data-missing", "run {config}", _run_with('[steps.extract]\ninput = "/nonexistent/in.tsv"\n'), None, 0),
    ("run-override-without-value", "run {config} --set model", _run_with("[steps.attention]\n"), None, 0),
    ("run-device-unknown", "run {config} --device tpu7", _run_with("[steps.attention]\n"), None, 0),
    ("run-models-empty", "run {config}", _models(""), None, 0),
    ("run-models-duplicate", "run {config}", _models('"{bert}", "{bert}"'), None, 0),
    ("run-model-and-models", "run {config}", _models('"{bert}", "{mlm}"', 'model = "minilm"\n'), None, 0),
    ("compare-models-duplicate", "compare --model {bert} --model {bert} --analysis attention --input {root}/good.tsv "
                                 "--out {root}/out", None, None, 0),
    ("compare-option-of-another-analysis", "compare --model {bert} --model {mlm} --analysis attention "
                                           "--input {root}/good.tsv --cv 3 --out {root}/out", None, None, 0),
    ("compare-cv-1", "compare --model {bert} --model {mlm} --analysis probe --dataset table --input {root}/good.tsv "
                     "--cv 1 --out {root}/out", None, None, 0),
    ("compare-analysis-unknown", "compare --model {bert} --analysis syntax --out {root}/out", None, None, 0),
    ("compare-attention-without-input", "compare --model {bert} --model {mlm} --analysis attention --out {root}/out",
     None, None, 0),
    ("compare-suite-unknown", "compare --model {mlm} --analysis cloze --suite nosuchsuite --out {root}/out",
     None, None, 0),
    ("compare-model-missing", "compare --model {root}/nomodel --model {bert} --analysis attention "
                              "--input {root}/good.tsv --out {root}/out", None, None, 0),
    ("compare-out-is-file", "compare --model {bert} --model {mlm} --analysis attention --input {root}/good.tsv "
                            "--out {root}/existing.txt", None, None, 0),
    ("figures-run-missing", "figures {root}/norun", None, None, 0),
    ("figures-not-a-run", "figures {root}/adir", None, None, 0),
    ("figures-manifest-corrupt", "figures {root}/stored", None, _damage_manifest, 0),
    ("figures-table-truncated", "figures {root}/stored", None, _truncate_table, 0),
    ("report-manifest-corrupt", "report {root}/stored", None, _damage_manifest, 0),
    ("report-table-truncated", "report {root}/stored", None, _truncate_table, 0),
    ("report-out-is-directory", "report {root}/stored --out {root}/adir", None, None, 0),
    ("report-out-empty", "report {root}/stored --out=", None, None, 0),
    ("report-out-under-file", "report {root}/stored --out {root}/existing.txt/report.html", None, None, 0),
]


@pytest.fixture(scope="module")
def stored_run(tmp_path_factory, tiny_model_dir):
    out = tmp_path_factory.mktemp("stored") / "run"
    run_experiment({"model": str(tiny_model_dir("bert", "base")), "out": str(out),
                    "steps": {"extract": {"input": "shipped:sst2_sample.tsv", "layers": "0,1"}}}, progress=False)
    return out


def _snapshot(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def _forbid_weights(monkeypatch) -> None:
    def refuse(cls, *args, **kwargs):
        raise AssertionError("model weights were loaded before the bad input was reported")

    monkeypatch.setattr(transformers.PreTrainedModel, "from_pretrained", classmethod(refuse))


def _exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_bad_input_is_one_line_and_exit_2(row, tmp_path, tiny_model_dir, stored_run, monkeypatch, capsys):
    _, template, config, setup, loads = row
    _write_inputs(tmp_path)
    shutil.copytree(stored_run, tmp_path / "stored")
    models = {"bert": str(tiny_model_dir("bert", "base")), "mlm": str(tiny_model_dir("bert", "mlm"))}
    fields = {"root": str(tmp_path), **models, "ud": str(SHIPPED_DIR / "ud_sample.conllu"),
              "config": config(tmp_path, models) if config else ""}
    if setup:
        setup(tmp_path)
    argv = ["--no-progress", *shlex.split(template.format(**fields))]
    before = _snapshot(tmp_path)
    if not loads:
        _forbid_weights(monkeypatch)
    capsys.readouterr()
    code = _exit_code(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1 and lines[0].startswith("bertology ") and ": error: " in lines[0], err
    assert "Traceback" not in err
    after = _snapshot(tmp_path)
    assert after == before, sorted(set(after) ^ set(before))
    assert (tmp_path / "victim" / "keep.txt").read_text() == "precious"


def test_ctrl_c_prints_one_line_and_exits_130(monkeypatch, capsys):
    import bertology.cli.report as report

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "_run", interrupted)
    assert main(["report", "somewhere"]) == 130
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["bertology report: interrupted; finished work is kept, run the same command again to resume."]


def test_argument_errors_are_one_line(capsys):
    assert _exit_code(["probe", "--dataset", "nosuch", "--out", "o"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bertology probe: error: argument --dataset: invalid choice")
    assert lines[0].endswith("(see bertology probe --help)")


def test_stored_run_is_a_real_run(stored_run):
    manifest = json.loads((stored_run / "manifest.json").read_text())
    assert manifest["steps"]["extract"]["status"] == "done"
    assert (stored_run / "extract" / "norms" / "table.csv").is_file()
