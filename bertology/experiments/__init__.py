"""TOML-driven experiments: config, runs, manifests, figures and reports."""

from bertology.experiments.config import ExperimentConfig, load_config
from bertology.experiments.figures import render_run_figures
from bertology.experiments.registry import STEPS, StepContext, StepSpec, register_step
from bertology.experiments.report import write_report
from bertology.experiments.results import Run, StepResult
from bertology.experiments.runner import run_experiment

__all__ = ["STEPS", "ExperimentConfig", "Run", "StepContext", "StepResult", "StepSpec", "load_config", "register_step",
           "render_run_figures", "run_experiment", "write_report"]
