"""The top-level namespace: every export resolves to the documented object."""

from __future__ import annotations

import importlib
import subprocess
import sys

import bertology as bt


def test_every_export_resolves():
    for name in bt.__all__:
        assert getattr(bt, name) is not None, name


def test_extract_stays_the_function_after_its_subpackage_is_imported():
    importlib.import_module("bertology.core.extraction.store")
    assert callable(bt.extract) and bt.extract.__module__ == "bertology.core.extraction.extractor"


def test_analyses_are_not_imported_with_the_package():
    code = ("import sys, bertology; "
            "print(sorted(m for m in ('captum', 'lime', 'sklearn', 'matplotlib', 'umap') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_lazy_exports_are_the_analysis_functions():
    from bertology.analyses.attribution import attribute
    from bertology.analyses.probes import probe_layers

    assert bt.attribute is attribute and bt.probe_layers is probe_layers
    assert bt.data.load_sst2.__module__ == "bertology.core.data.loaders"
