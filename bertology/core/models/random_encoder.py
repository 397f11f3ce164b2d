"""The random-encoder control: the same architecture with freshly initialised weights."""

from __future__ import annotations

import dataclasses

import torch
from transformers import AutoModel

from bertology.core.models.loading import LoadedModel


def random_encoder(model: LoadedModel, seed: int = 0) -> LoadedModel:
    """A copy of ``model``'s architecture and tokenizer with re-initialised weights.

    Probing it separates what the architecture and input encoding give for free from
    what pretraining learned (the random-encoder baseline of e.g. Zhang & Bowman 2018;
    Hewitt & Manning 2019's PROJ0 baseline for structural probes).

    Parameters
    ----------
    model
        The trained model.
    seed
        Seed of the initialisation (same seed, same weights).

    Returns
    -------
    LoadedModel
        In eval mode on the same device; ``weights_sha256`` is ``None`` and the name ends in ``[random]``.

    Examples
    --------
    >>> import bertology as bt
    >>> r = random_encoder(bt.load_model("minilm"))
    >>> r.name, r.num_layers
    ('minilm[random]', 6)
    """
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        fresh = AutoModel.from_config(model.model.config)
    finally:
        torch.random.set_rng_state(state)
    fresh.to(model.device).eval()
    return dataclasses.replace(model, model=fresh, name=f"{model.name}[random]", weights_sha256=None,
                               revision=None, head="base")
