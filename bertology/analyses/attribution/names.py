"""Names and titles of the attribution methods (free of heavy imports for the CLI)."""

METHOD_NAMES = ("integrated_gradients", "lime", "saliency", "input_x_gradient", "deeplift", "gradient_shap",
                "occlusion", "kernel_shap", "attention", "rollout", "attention_flow", "norm",
                "value_zeroing")
ALIASES = {"ig": "integrated_gradients"}
METHOD_CHOICES = (*ALIASES, *METHOD_NAMES)
"""Every name a command's ``--method`` accepts."""
DEFAULT_METHODS = ("attention", "rollout", "saliency", "input_x_gradient", "deeplift", "gradient_shap",
                   "integrated_gradients", "occlusion", "lime")
"""The methods an explanation benchmark compares by default."""
TITLES = {"integrated_gradients": "Integrated gradients", "lime": "LIME", "saliency": "Saliency",
          "input_x_gradient": "Input × gradient", "deeplift": "DeepLift", "gradient_shap": "GradientSHAP",
          "occlusion": "Occlusion", "kernel_shap": "KernelSHAP", "attention": "[CLS] attention",
          "rollout": "Attention rollout", "attention_flow": "Attention flow", "norm": "Norm-based attention",
          "value_zeroing": "Value zeroing"}
