"""Attribution: integrated gradients (captum) and LIME on encoder classifiers, with ERASER faithfulness."""

from bertology.attribution.api import attribute
from bertology.attribution.classifier import Classifier
from bertology.attribution.dataset import attribute_file, load_results
from bertology.attribution.faithfulness import FaithfulnessResult, faithfulness
from bertology.attribution.result import AttributionResult

__all__ = ["AttributionResult", "Classifier", "FaithfulnessResult", "attribute", "attribute_file", "faithfulness",
           "load_results"]
