"""Cloze probing with a masked LM: MaskedLMScorer, shipped suites, bias metrics and standard benchmarks."""

from bertology.cloze import benchmarks
from bertology.cloze.result import ClozeResult, bootstrap_ci, summarise
from bertology.cloze.scorer import PLL_VARIANTS, MaskedLMScorer
from bertology.cloze.suites import SUITES, load_suite, run_suite, suite_path, validate_item

__all__ = ["PLL_VARIANTS", "SUITES", "ClozeResult", "MaskedLMScorer", "benchmarks", "bootstrap_ci", "load_suite",
           "run_suite", "suite_path", "summarise", "validate_item"]
