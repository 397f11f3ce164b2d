"""Linear probes: the LinearProbe estimator, layer-wise runner, control tasks and MDL."""

from bertology.probes.controls import control_task_labels, majority_predictions, selectivity
from bertology.probes.encoders import random_encoder
from bertology.probes.estimator import LinearProbe
from bertology.probes.mdl import PORTIONS, MDLScore, block_ends, online_codelength
from bertology.probes.result import ProbeResult
from bertology.probes.runner import fold_splits, layer_features, probe_layers
from bertology.probes.tasks import load_task, probe_task

__all__ = ["PORTIONS", "LinearProbe", "MDLScore", "ProbeResult", "block_ends", "control_task_labels", "fold_splits",
           "layer_features", "load_task", "majority_predictions", "probe_task", "online_codelength", "probe_layers", "random_encoder",
           "selectivity"]
