"""Hook points: where each canonical activation is read (and written) inside a Hugging Face model.

One :class:`HookPoints` object installs the hooks that a set of canonical names needs and
calls ``callback(name, tensor)`` with the canonical tensor at each of them; a callback
that returns a tensor replaces the activation in the running forward pass. :func:`trace`
records through it, :func:`intervene` edits through it.

Where each name lives (paths from the architecture's adapter):

==========================  ====================================  ==========================
name                        hook                                  canonical tensor
==========================  ====================================  ==========================
``embeddings``              pre-hook on layer 0                   its input hidden states
``layers.{i}.resid_pre``    pre-hook on layer ``i``               its input hidden states
``layers.{i}.attn.pattern`` forward hook on the attention module  ``output[1]`` (read only)
``layers.{i}.attn.heads``   pre-hook on the output projection     its input, split by head
``layers.{i}.mlp_out``      forward hook on the MLP output map    its output
``layers.{i}.resid_post``   forward hook on layer ``i``           its output hidden states
==========================  ====================================  ==========================
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from bertology.core.errors import ModelError
from bertology.core.models.adapters import Adapter, get_adapter
from bertology.core.models.loading import LoadedModel

Callback = Callable[[str, torch.Tensor], "torch.Tensor | None"]

SITES: dict[str, tuple[str, str]] = {
    "resid_pre": ("layer", "pre"),
    "attn.pattern": ("attn", "post"),
    "attn.heads": ("heads", "pre"),
    "mlp_out": ("mlp", "post"),
    "resid_post": ("layer", "post"),
}
READ_ONLY = frozenset({"attn.pattern"})


def unwrap_model(model: LoadedModel | nn.Module) -> tuple[nn.Module, Adapter]:
    """The Hugging Face model and adapter behind a :class:`LoadedModel` or a Hugging Face model.

    Parameters
    ----------
    model
        A bertology ``LoadedModel`` or a ``transformers`` model of a supported architecture.

    Returns
    -------
    tuple
        ``(hf_model, adapter)``.

    Raises
    ------
    ModelError
        For anything else.

    Examples
    --------
    >>> import bertology as bt
    >>> unwrap_model(bt.load_model("minilm"))[1].model_type
    'bert'
    """
    if isinstance(model, LoadedModel):
        return model.model, model.adapter
    config = getattr(model, "config", None)
    if config is None or not hasattr(model, "base_model"):
        raise ModelError("Hooks need a bertology LoadedModel or a Hugging Face PreTrainedModel.")
    return model, get_adapter(config.model_type)


def split_name(name: str) -> tuple[int, str]:
    """``"layers.3.attn.heads"`` -> ``(3, "attn.heads")``; ``"embeddings"`` -> ``(0, "resid_pre")``.

    Examples
    --------
    >>> split_name("layers.3.attn.heads"), split_name("embeddings")
    ((3, 'attn.heads'), (0, 'resid_pre'))
    """
    if name == "embeddings":
        return 0, "resid_pre"
    _, index, kind = name.split(".", 2)
    return int(index), kind


def _hidden_arg(args: tuple, kwargs: dict) -> torch.Tensor:
    return args[0] if args else kwargs["hidden_states"]


def _with_hidden_arg(args: tuple, kwargs: dict, value: torch.Tensor) -> tuple[tuple, dict]:
    if args:
        return (value, *args[1:]), kwargs
    return args, {**kwargs, "hidden_states": value}


class HookPoints:
    """Hooks serving a list of canonical names, with call counting for shared (ALBERT) layers.

    Parameters
    ----------
    hf_model
        The Hugging Face model.
    adapter
        Its architecture adapter.
    names
        Resolved canonical names (see :func:`~bertology.core.hooks.resolve_names`).
    callback
        ``callback(name, tensor)``; a returned tensor of the same shape replaces the
        activation downstream, ``None`` leaves it. An ``attn.heads`` tensor may also come back
        with more rows, broadcast from a batch of one: the rest of that layer then runs on
        every row (value zeroing's copies of one text).
    prepend
        Run these hooks before hooks already on the same modules (edits go first, so
        that a recording trace sees edited values whatever the nesting order).

    Attributes
    ----------
    fired
        Names reached so far in the current forward pass.
    """

    def __init__(self, hf_model: nn.Module, adapter: Adapter, names: list[str], callback: Callback,
                 prepend: bool = False) -> None:
        self.hf_model = hf_model
        self.adapter = adapter
        self.layers = adapter.layer_modules(hf_model)
        self.callback = callback
        self.prepend = prepend
        self.num_heads = int(hf_model.config.num_attention_heads)
        self.fired: set[str] = set()
        self.handles: list[RemovableHandle] = []
        self.calls: dict[tuple[int, str, str], int] = {}
        self.owners: dict[tuple[int, str, str], list[int]] = {}
        self.signatures: dict[int, inspect.Signature] = {}
        self.at: dict[tuple[int, str, str], list[str]] = {}
        for name in names:
            index, kind = split_name(name)
            self.at.setdefault((index, *SITES[kind]), []).append(name)

    def _module(self, layer: nn.Module, role: str) -> nn.Module:
        if role == "layer":
            return layer
        path = {"attn": self.adapter.attention_path, "heads": self.adapter.attn_output_path,
                "mlp": self.adapter.mlp_out_path}[role]
        return layer.get_submodule(path)

    def _layer_index(self, module: nn.Module, role: str, phase: str) -> int:
        key = (id(module), role, phase)
        count = self.calls.get(key, 0)
        self.calls[key] = count + 1
        owners = self.owners[key]
        return owners[count] if count < len(owners) else -1

    def _start_forward(self, module: nn.Module, args: tuple) -> None:
        self.calls.clear()
        self.fired.clear()

    def _visit(self, index: int, role: str, phase: str, tensor: torch.Tensor) -> torch.Tensor | None:
        changed = None
        for name in self.at.get((index, role, phase), ()):
            self.fired.add(name)
            result = self.callback(name, tensor if changed is None else changed)
            if result is not None:
                changed = result
        return changed

    def install(self) -> None:
        """Attach the hooks (once per module object, whatever the number of layers it serves)."""
        base = self.hf_model.base_model
        self.handles.append(base.register_forward_pre_hook(self._start_forward, prepend=self.prepend))
        sites = {(role, phase) for (_, role, phase) in self.at}
        for role, phase in sorted(sites):
            modules = []
            for index, layer in enumerate(self.layers):
                module = self._module(layer, role)
                self.owners.setdefault((id(module), role, phase), []).append(index)
                modules.append(module)
            for module in dict.fromkeys(modules):
                self._hook(module, role, phase)
        if ("attn", "post") in sites and self.adapter.attention_kwargs:
            for layer in dict.fromkeys(self.layers):
                attention = self._module(layer, "attn")
                self.signatures[id(attention)] = inspect.signature(attention.forward)
                self.handles.append(attention.register_forward_pre_hook(
                    self._force_attention_kwargs, with_kwargs=True, prepend=self.prepend))

    def _hook(self, module: nn.Module, role: str, phase: str) -> None:
        if phase == "pre":
            def pre_hook(mod: nn.Module, args: tuple, kwargs: dict) -> tuple[tuple, dict] | None:
                index = self._layer_index(mod, role, phase)
                if role == "heads":
                    flat = args[0]
                    heads = flat.view(*flat.shape[:-1], self.num_heads, -1)
                    changed = self._visit(index, role, phase, heads)
                    if changed is None:
                        return None
                    return (changed.flatten(-2), *args[1:]), kwargs
                changed = self._visit(index, role, phase, _hidden_arg(args, kwargs))
                return None if changed is None else _with_hidden_arg(args, kwargs, changed)

            self.handles.append(module.register_forward_pre_hook(pre_hook, with_kwargs=True, prepend=self.prepend))
            return

        def post_hook(mod: nn.Module, args: tuple, output: Any) -> Any:
            index = self._layer_index(mod, role, phase)
            if role == "attn":
                weights = output[1] if isinstance(output, tuple) and len(output) > 1 else None
                if weights is None:
                    if self.at.get((index, role, phase)):
                        raise ModelError(
                            f"The attention module of layer {index} returned no attention probabilities (attention "
                            f"implementation {self.hf_model.config._attn_implementation!r}); bertology switches to "
                            "'eager' while patterns are traced, so this architecture needs an adapter entry with "
                            "attention_kwargs."
                        )
                    return None
                self._visit(index, role, phase, weights)
                return None
            single = isinstance(output, torch.Tensor)
            changed = self._visit(index, role, phase, output if single else output[0])
            if changed is None:
                return None
            return changed if single else (changed, *output[1:])

        self.handles.append(module.register_forward_hook(post_hook, prepend=self.prepend))

    def _force_attention_kwargs(self, module: nn.Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        bound = self.signatures[id(module)].bind(*args, **kwargs)
        bound.arguments.update(self.adapter.attention_kwargs)
        return bound.args, bound.kwargs

    def remove(self) -> None:
        """Detach every hook (safe to call twice)."""
        for handle in self.handles:
            handle.remove()
        self.handles.clear()
