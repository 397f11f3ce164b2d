"""The tracing context manager: forward hooks on the real Hugging Face modules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import torch
from torch import nn

from bertology.core.hooks.names import NamesFilter, resolve_names
from bertology.core.hooks.points import HookPoints, unwrap_model
from bertology.core.models.loading import LoadedModel


class ActivationCache(Mapping[str, torch.Tensor]):
    """Activations recorded by :func:`trace`, keyed by canonical name.

    Shapes: ``(batch, seq, hidden)`` for ``embeddings``, ``resid_pre``, ``resid_post`` and
    ``mlp_out``; ``(batch, heads, query, key)`` for ``attn.pattern``; ``(batch, query, heads,
    d_head)`` for ``attn.heads``.
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
    """Raised by a hook to end the forward pass once every requested name is recorded."""

    def __init__(self, owner: ActivationCache) -> None:
        super().__init__("forward pass stopped by bertology.trace(stop=True)")
        self.owner = owner


class _Recorder:
    """The trace callback: store each requested activation; stop once all of them are in."""

    def __init__(self, names: list[str], stop: bool, detach: bool, cache: ActivationCache) -> None:
        self.wanted = len(set(names))
        self.stop = stop
        self.detach = detach
        self.cache = cache
        self.points: HookPoints | None = None

    def __call__(self, name: str, tensor: torch.Tensor) -> None:
        self.cache._tensors[name] = tensor.detach() if self.detach else tensor
        if self.stop and len(self.points.fired) == self.wanted:
            raise StopForward(self.cache)


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
        End the forward pass as soon as every requested activation is recorded: later
        layers never run. The model call inside the block then returns nothing
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
    hf_model, adapter = unwrap_model(model)
    resolved = resolve_names(names, hf_model.config.num_hidden_layers)
    cache = ActivationCache()
    recorder = _Recorder(resolved, stop, detach, cache)
    points = recorder.points = HookPoints(hf_model, adapter, resolved, recorder)
    previous_attention = hf_model.config._attn_implementation
    wants_attention = any(name.endswith("attn.pattern") for name in resolved)
    needs_eager = wants_attention and previous_attention != "eager"
    try:
        if needs_eager:
            hf_model.set_attn_implementation("eager")
        points.install()
        yield cache
    except StopForward as stopped:
        if stopped.owner is not cache:
            raise
    finally:
        points.remove()
        if needs_eager:
            hf_model.set_attn_implementation(previous_attention)
