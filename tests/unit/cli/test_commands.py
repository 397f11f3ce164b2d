"""The command table: every command is listed, --help is fast and imports no heavy library, shared flags agree."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import bertology as bt
from bertology.cli import COMMANDS, build_parser, main

HEAVY = ("torch", "transformers", "sklearn", "matplotlib", "captum", "lime", "umap", "pandas")
SHARED = {"--model", "--input", "--out", "--device", "--batch-size"}
MODEL_COMMANDS = {"extract": SHARED, "probe": SHARED | {"--seed"}, "geometry": SHARED | {"--seed"},
                  "attention": SHARED, "attribute": SHARED | {"--seed"},
                  "cloze": {"--model", "--out", "--device", "--seed", "--max-tokens"}}


def _modules_after(argv: list[str]) -> list[str]:
    code = ("import sys\nfrom bertology.cli import main\ntry:\n    main(%r)\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in %r if m in sys.modules))" % (argv, HEAVY))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return eval(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [["--help"], *[[name, "--help"] for name in COMMANDS]])
def test_help_imports_no_heavy_library(argv):
    assert _modules_after(argv) == []


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name, (_, help_text) in COMMANDS.items():
        assert name in out and help_text[:20] in out


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_module_registers_a_handler(name):
    module = importlib.import_module(COMMANDS[name][0])
    assert callable(module.register)
    parser = build_parser(name)
    action = parser._subparsers._group_actions[0].choices[name]
    assert action.get_default("handler") is not None


@pytest.mark.parametrize("name", MODEL_COMMANDS)
def test_model_commands_share_the_flags(name):
    flags = set(build_parser(name)._subparsers._group_actions[0].choices[name]._option_string_actions)
    assert MODEL_COMMANDS[name] <= flags


def test_bad_seed_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["probe", "--dataset", "sst2", "--out", "o", "--seed", "a,b"])
    assert stop.value.code == 2
    assert "'a,b' is not a seed" in capsys.readouterr().err


def test_version_from_a_fresh_process():
    result = subprocess.run([sys.executable, "-m", "bertology", "--version"], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == f"bertology {bt.__version__}"


def test_no_command_prints_help_and_exits_1(capsys):
    assert main([]) == 1
    assert "COMMAND" in capsys.readouterr().out
