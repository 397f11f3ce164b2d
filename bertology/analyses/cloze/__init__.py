"""Cloze probing with a masked LM: MaskedLMScorer, shipped suites, bias metrics and published evaluation sets."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'evaluations': ['agreement_stimuli', 'blimp', 'crows_pairs', 'stereoset'],
        'names': ['AGREEMENT_FORMATS', 'PLL_VARIANTS', 'STEREOSET_VARIANTS'],
        'result': ['ClozeResult', 'summarise'],
        'scorer': ['MaskedLMScorer'],
        'suites': ['run_suite'],
        'task': ['FILL_TEMPLATES', 'cloze_task', 'save_cloze_figures'],
    },
)
