"""TOML-driven experiments: config, runs, manifests, figures and reports."""

from bertology.experiments.registry import STEPS, StepContext, StepSpec, register_step

__all__ = ["STEPS", "StepContext", "StepSpec", "register_step"]
