"""Experiment steps; importing this package registers every step."""

from bertology.experiments.steps import attention_step  # noqa: F401
from bertology.experiments.steps import attribution_step  # noqa: F401
from bertology.experiments.steps import cloze_step  # noqa: F401
from bertology.experiments.steps import extract_step  # noqa: F401
from bertology.experiments.steps import geometry_step  # noqa: F401
from bertology.experiments.steps import probe_step  # noqa: F401
