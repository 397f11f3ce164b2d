"""The layering of ARCHITECTURE.md, checked on the source: imports go down only, analyses do not import each
other, there are no import cycles, and every analysis result follows the result protocol."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import bertology

ROOT = Path(bertology.__file__).parent
LAYERS = {"core": 0, "analyses": 1, "experiments": 2, "cli": 3}
PUBLIC_CROSS_ANALYSIS = {("attribution", "bertology.analyses.probes")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (ROOT.parent / relative).with_suffix(".py").is_file() or (ROOT.parent / relative / "__init__.py").is_file()


def _imports(path: Path) -> set[str]:
    """Every bertology module a source file imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("bertology"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bertology"):
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if _is_module(child) else node.module)
    return found


GRAPH = {_module_name(path): _imports(path) for path in ROOT.rglob("*.py")}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def test_the_graph_covers_every_layer():
    assert {_layer(module) for module in GRAPH} >= set(LAYERS.values())
    assert "bertology.core.extraction.extractor" in GRAPH["bertology.core.extraction.features"]


def _upward(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return [(module, imported) for module, imports in graph.items() for imported in imports
            if _layer(module) is not None and _layer(imported) is not None and _layer(imported) > _layer(module)]


def _sideways(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    found = []
    for module, imports in graph.items():
        if not module.startswith("bertology.analyses."):
            continue
        own = module.split(".")[2]
        found += [(module, imported) for imported in imports
                  if imported.startswith("bertology.analyses.") and imported.split(".")[2] != own
                  and (own, imported) not in PUBLIC_CROSS_ANALYSIS]
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, int] = {}
    cycles = []

    def visit(module: str, stack: list[str]) -> None:
        state[module] = 1
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == 1:
                cycles.append(stack[stack.index(imported):] + [imported])
            elif imported not in state:
                visit(imported, [*stack, imported])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return cycles


def test_imports_go_down_only():
    assert _upward(GRAPH) == []


def test_analyses_do_not_import_each_other():
    assert _sideways(GRAPH) == []


def test_no_import_cycles():
    assert _cycles(GRAPH) == []


def test_the_checks_catch_planted_violations(tmp_path):
    source = tmp_path / "bad.py"
    source.write_text("from bertology.experiments.runner import run_experiment\n"
                      "def f():\n    from bertology.analyses.probes import layerwise\n")
    assert _imports(source) == {"bertology.experiments.runner", "bertology.analyses.probes.layerwise"}
    planted = {"bertology.core.io": {"bertology.experiments.runner"},
               "bertology.analyses.geometry.vectors": {"bertology.analyses.probes.layerwise"},
               "bertology.analyses.probes.layerwise": {"bertology.analyses.probes.result"},
               "bertology.analyses.probes.result": {"bertology.analyses.probes.layerwise"}}
    assert _upward(planted) == [("bertology.core.io", "bertology.experiments.runner")]
    assert _sideways(planted) == [("bertology.analyses.geometry.vectors", "bertology.analyses.probes.layerwise")]
    assert _cycles(planted) == [["bertology.analyses.probes.layerwise", "bertology.analyses.probes.result",
                                 "bertology.analyses.probes.layerwise"]]


def _result_classes() -> list[type]:
    from bertology.core.results import Result

    for info in pkgutil.walk_packages(bertology.__path__, "bertology."):
        if info.name.startswith(("bertology.analyses", "bertology.core")) and not info.ispkg:
            importlib.import_module(info.name)
    found, todo = [], [Result]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("bertology."):
                found.append(sub)
                todo.append(sub)
    return found


@pytest.mark.parametrize("method", ["to_frame", "plot", "_write", "_read"])
def test_every_result_implements_the_protocol(method):
    from bertology.core.results import Result, TableResult

    missing = [cls.__qualname__ for cls in _result_classes() if cls is not TableResult
               and (inspect.isabstract(cls) or getattr(cls, method) is getattr(Result, method))]
    assert missing == []


def test_every_class_with_a_table_is_a_result():
    from bertology.core.results import Result

    _result_classes()
    outside = []
    for info in pkgutil.walk_packages(bertology.__path__, "bertology."):
        if not info.name.startswith(("bertology.analyses", "bertology.core")) or info.ispkg:
            continue
        for _, cls in inspect.getmembers(importlib.import_module(info.name), inspect.isclass):
            if cls.__module__ == info.name and hasattr(cls, "to_frame") and not issubclass(cls, Result):
                outside.append(cls.__qualname__)
    assert outside == []
