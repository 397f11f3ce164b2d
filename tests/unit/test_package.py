"""The top-level namespace and every package's lazy exports resolve to the objects they name."""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
import subprocess
import sys
import types

import pytest

import bertology as bt

HEAVY = ("torch", "transformers", "sklearn", "matplotlib", "captum", "lime", "umap")
PACKAGES = sorted(info.name for info in pkgutil.walk_packages(bt.__path__, "bertology.") if info.ispkg)


def test_top_level_exports_are_bertology_objects_with_matching_names():
    for name in bt.__all__:
        value = getattr(bt, name)
        if name == "__version__":
            assert value == importlib.metadata.version("bertology")
        elif isinstance(value, types.ModuleType):
            assert value.__name__.startswith("bertology.core."), name
        elif name == "ADAPTERS":
            assert "bert" in value and "deberta-v2" in value
        else:
            assert value.__module__.startswith("bertology.") and value.__name__ == name, name


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_export_resolves_to_its_own_name(package):
    module = importlib.import_module(package)
    for name in getattr(module, "__all__", []):
        value = getattr(module, name)
        assert getattr(value, "__name__", name).rsplit(".", 1)[-1] == name or not callable(value), (package, name)


def test_extract_is_the_function():
    importlib.import_module("bertology.core.extraction.store")
    assert callable(bt.extract) and bt.extract.__module__ == "bertology.core.extraction.extractor"


def test_import_leaves_heavy_libraries_unloaded():
    code = f"import sys, bertology; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_lazy_exports_are_the_analysis_functions():
    from bertology.analyses.attribution.api import attribute
    from bertology.analyses.probes.layerwise import probe_layers

    assert bt.attribute is attribute and bt.probe_layers is probe_layers
    assert bt.data.load_sst2.__module__ == "bertology.core.data.loaders"
