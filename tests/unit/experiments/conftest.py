"""Tiny BERTs that differ only in their seed, for multi-model comparisons."""

from __future__ import annotations

import pytest

from tests.tiny_models import build_tiny_model


@pytest.fixture(scope="session")
def seeded_bert(tmp_path_factory):
    """Factory ``(seed, head="base") -> directory`` of a saved tiny BERT initialised with ``seed``, built once."""
    built = {}

    def make(seed: int, head: str = "base"):
        if (seed, head) not in built:
            built[seed, head] = build_tiny_model("bert", head, tmp_path_factory.mktemp(f"bert-seed{seed}-{head}"),
                                                 seed=seed)
        return str(built[seed, head])

    return make
