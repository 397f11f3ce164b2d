"""Experiment steps; importing this package registers every step."""

from bertology.experiments.steps import (
    attention_step,  # noqa: F401
    attribution_step,  # noqa: F401
    cloze_step,  # noqa: F401
    erase_step,  # noqa: F401
    extract_step,  # noqa: F401
    geometry_step,  # noqa: F401
    heads_step,  # noqa: F401
    patch_step,  # noqa: F401
    probe_step,  # noqa: F401
    similarity_step,  # noqa: F401
    syntax_step,  # noqa: F401
)
