"""Attribution: gradient and perturbation methods (captum, LIME) on encoder classifiers, with ERASER faithfulness."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'api': ['attribute'],
        'benchmark': ['ExplanationBenchmark', 'explanation_benchmark'],
        'classifier': ['Classifier'],
        'records': ['attribute_texts', 'load_attributions'],
        'faithfulness': ['FaithfulnessResult', 'faithfulness'],
        'methods': ['Method', 'get_method'],
        'plausibility': ['HumanRationale', 'PlausibilityResult', 'load_eraser', 'plausibility'],
        'result': ['AttributionResult'],
        'task': ['attribute_task', 'save_attribution_figures'],
    },
)
