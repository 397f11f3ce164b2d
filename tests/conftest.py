"""Shared fixtures: the bundled MiniLM and tiny seeded models of every architecture (offline)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("BERTOLOGY_PROGRESS", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import matplotlib

matplotlib.use("Agg")

import pytest
import torch

import bertology as bt
from tests.tiny_models import ARCHITECTURES, build_tiny_model

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(scope="session")
def minilm() -> bt.LoadedModel:
    """The bundled all-MiniLM-L6-v2 (BertModel, 6 layers, 12 heads, hidden 384)."""
    return bt.load_model("minilm")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """Factory ``(arch, head="base") -> directory`` of a saved tiny seeded model, built once per session."""
    built = {}

    def make(arch: str, head: str = "base"):
        key = (arch, head)
        if key not in built:
            built[key] = build_tiny_model(arch, head, tmp_path_factory.mktemp(f"tiny-{arch}-{head}"))
        return built[key]

    return make


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir):
    """Factory ``(arch, head="base") -> LoadedModel`` loaded through ``bt.load_model`` from a local path."""
    loaded = {}

    def make(arch: str = "bert", head: str = "base"):
        key = (arch, head)
        if key not in loaded:
            loaded[key] = bt.load_model(str(tiny_model_dir(arch, head)), head=head)
        return loaded[key]

    return make


def pytest_generate_tests(metafunc):
    if "arch" in metafunc.fixturenames:
        metafunc.parametrize("arch", ARCHITECTURES)


@pytest.fixture(scope="session")
def context_mlm_dir(tmp_path_factory):
    """Factory ``(arch="bert") -> directory`` of a saved context-sensitive tiny masked LM (initializer range 0.2)."""
    from tests.tiny_models import build_context_mlm

    built = {}

    def make(arch: str = "bert"):
        if arch not in built:
            built[arch] = build_context_mlm(arch, tmp_path_factory.mktemp(f"context-mlm-{arch}"))
        return built[arch]

    return make


@pytest.fixture(scope="session")
def context_mlm(context_mlm_dir):
    """Factory ``(arch="bert") -> LoadedModel`` of :func:`context_mlm_dir`'s model, loaded with ``head="mlm"``."""
    loaded = {}

    def make(arch: str = "bert"):
        if arch not in loaded:
            loaded[arch] = bt.load_model(str(context_mlm_dir(arch)), head="mlm")
        return loaded[arch]

    return make
