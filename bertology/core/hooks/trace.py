"""The tracing context manager: forward hooks on the real Hugging Face modules."""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from bertology.core.errors import ModelError
from bertology.core.hooks.names import NamesFilter, resolve_names
from bertology.core.models.adapters import Adapter, get_adapter
from bertology.core.models.loading import LoadedModel


class ActivationCache(Mapping[str, torch.Tensor]):
    """Activations recorded by :func:`trace`, keyed by canonical name.

    Shapes: ``(batch, seq, hidden)`` for ``embeddings``, ``resid_post`` and ``mlp_out``;
    ``(batch, heads, query, key)`` for ``attn.pattern``.
    """

    def __init__(self) -> None:
        self._tensors: dict[str, torch.Tensor] = {}

    def __getitem__(self, name: str) -> torch.Tensor:
        try:
            return self._tensors[name]
        except KeyError:
            raise KeyError(f"{name!r} was not recorded; recorded: {sorted(self._tensors)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._tensors)

    def __len__(self) -> int:
        return len(self._tensors)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{name}: {tuple(t.shape)}" for name, t in self._tensors.items())
        return f"ActivationCache({shapes})"


class StopForward(Exception):
    """Raised by a hook to end the forward pass once the deepest requested name is recorded."""

    def __init__(self, owner: ActivationCache) -> None:
        super().__init__("forward pass stopped by bertology.trace(stop=True)")
        self.owner = owner


def _unwrap(model: LoadedModel | nn.Module) -> tuple[nn.Module, Adapter]:
    if isinstance(model, LoadedModel):
        return model.model, model.adapter
    config = getattr(model, "config", None)
    if config is None or not hasattr(model, "base_model"):
        raise ModelError("trace() needs a bertology LoadedModel or a Hugging Face PreTrainedModel.")
    return model, get_adapter(config.model_type)


def _first_tensor(output: Any) -> torch.Tensor:
    return output if isinstance(output, torch.Tensor) else output[0]


class _Recorder:
    """Hooks for one trace: call counters (shared ALBERT layers), recording and stopping."""

    def __init__(self, hf_model: nn.Module, adapter: Adapter, names: list[str], stop: bool, detach: bool,
                 cache: ActivationCache) -> None:
        self.layers = adapter.layer_modules(hf_model)
        self.adapter = adapter
        self.wanted = set(names)
        self.last = names[-1] if stop else None
        self.detach = detach
        self.cache = cache
        self.calls: dict[tuple[int, str], int] = {}
        self.owners: dict[tuple[int, str], list[int]] = {}
        self.signatures: dict[int, inspect.Signature] = {}
        self.wants_attention = any(name.endswith("attn.pattern") for name in self.wanted)
        self.handles: list[RemovableHandle] = []
        self.hf_model = hf_model

    def _layer_index(self, module: nn.Module, role: str) -> int:
        key = (id(module), role)
        count = self.calls.get(key, 0)
        self.calls[key] = count + 1
        owners = self.owners[key]
        return owners[count] if count < len(owners) else -1

    def _sub(self, layer: nn.Module, role: str) -> nn.Module:
        path = self.adapter.attention_path if role == "attn" else self.adapter.mlp_out_path
        return layer.get_submodule(path)

    def _record(self, name: str, tensor: torch.Tensor) -> None:
        if name not in self.wanted:
            return
        self.cache._tensors[name] = tensor.detach() if self.detach else tensor
        if name == self.last:
            raise StopForward(self.cache)

    def install(self) -> None:
        base = self.hf_model.base_model
        self.handles.append(base.register_forward_pre_hook(lambda module, args: self.calls.clear()))
        wants_mlp = any(name.endswith("mlp_out") for name in self.wanted)
        for index, layer in enumerate(self.layers):
            self.owners.setdefault((id(layer), "layer"), []).append(index)
            if self.wants_attention:
                self.owners.setdefault((id(self._sub(layer, "attn")), "attn"), []).append(index)
            if wants_mlp:
                self.owners.setdefault((id(self._sub(layer, "mlp")), "mlp"), []).append(index)
        for layer in dict.fromkeys(self.layers):
            self.handles.append(layer.register_forward_pre_hook(self._embeddings_hook, with_kwargs=True))
            self.handles.append(layer.register_forward_hook(self._layer_hook))
            if self.wants_attention:
                attention = self._sub(layer, "attn")
                self.handles.append(attention.register_forward_hook(self._attention_hook))
                if self.adapter.attention_kwargs:
                    self.signatures[id(attention)] = inspect.signature(attention.forward)
                    self.handles.append(attention.register_forward_pre_hook(self._force_attention_kwargs,
                                                                            with_kwargs=True))
            if wants_mlp:
                self.handles.append(self._sub(layer, "mlp").register_forward_hook(self._mlp_hook))

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles.clear()

    def _embeddings_hook(self, module: nn.Module, args: tuple, kwargs: dict) -> None:
        if module is self.layers[0] and self.calls.get((id(module), "layer"), 0) == 0:
            hidden = args[0] if args else kwargs["hidden_states"]
            self._record("embeddings", hidden)

    def _layer_hook(self, module: nn.Module, args: tuple, output: Any) -> None:
        index = self._layer_index(module, "layer")
        self._record(f"layers.{index}.resid_post", _first_tensor(output))

    def _attention_hook(self, module: nn.Module, args: tuple, output: Any) -> None:
        index = self._layer_index(module, "attn")
        if f"layers.{index}.attn.pattern" not in self.wanted:
            return
        weights = output[1] if isinstance(output, tuple) and len(output) > 1 else None
        if weights is None:
            raise ModelError(
                f"The attention module of layer {index} returned no attention probabilities "
                f"(attention implementation {self.hf_model.config._attn_implementation!r}); bertology switches to "
                "'eager' while patterns are traced, so this architecture needs an adapter entry with attention_kwargs."
            )
        self._record(f"layers.{index}.attn.pattern", weights)

    def _mlp_hook(self, module: nn.Module, args: tuple, output: Any) -> None:
        index = self._layer_index(module, "mlp")
        self._record(f"layers.{index}.mlp_out", _first_tensor(output))

    def _force_attention_kwargs(self, module: nn.Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        bound = self.signatures[id(module)].bind(*args, **kwargs)
        bound.arguments.update(self.adapter.attention_kwargs)
        return bound.args, bound.kwargs


@contextmanager
def trace(model: LoadedModel | nn.Module, names: NamesFilter, stop: bool = False,
          detach: bool = True) -> Iterator[ActivationCache]:
    """Record activations by canonical name during forward passes inside the block.

    Forward hooks are attached to the real Hugging Face modules (through the
    architecture's adapter) and removed when the block exits, whatever happens inside.
    While any ``attn.pattern`` is requested, the model runs with eager attention (sdpa
    returns no probabilities) and is switched back afterwards.

    Parameters
    ----------
    model
        A :class:`~bertology.LoadedModel` or a Hugging Face model of a supported architecture.
    names
        Canonical names to record: exact, glob, list, or predicate (see
        :func:`~bertology.core.hooks.resolve_names`).
    stop
        End the forward pass right after the deepest requested activation is recorded:
        later layers never run. The model call inside the block then returns nothing
        and statements after it in the block are skipped.
    detach
        Store detached tensors (default). ``False`` keeps them in the autograd graph.

    Yields
    ------
    ActivationCache
        Filled as the model runs.

    Examples
    --------
    >>> import bertology as bt, torch
    >>> m = bt.load_model("minilm")
    >>> batch = m.tokenizer(["The bank is closed."], return_tensors="pt")
    >>> with torch.inference_mode(), bt.trace(m, "layers.1.resid_post", stop=True) as cache:
    ...     m(**batch)
    >>> tuple(cache["layers.1.resid_post"].shape)
    (1, 7, 384)
    """
    hf_model, adapter = _unwrap(model)
    resolved = resolve_names(names, hf_model.config.num_hidden_layers)
    cache = ActivationCache()
    recorder = _Recorder(hf_model, adapter, resolved, stop, detach, cache)
    previous_attention = hf_model.config._attn_implementation
    needs_eager = recorder.wants_attention and previous_attention != "eager"
    try:
        if needs_eager:
            hf_model.set_attn_implementation("eager")
        recorder.install()
        yield cache
    except StopForward as stopped:
        if stopped.owner is not cache:
            raise
    finally:
        recorder.remove()
        if needs_eager:
            hf_model.set_attn_implementation(previous_attention)
